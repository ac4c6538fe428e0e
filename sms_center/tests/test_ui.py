from odoo.tests import HttpCase, new_test_user, tagged

PHONE = "375x667"


class TourCase(HttpCase):
    """A unit with the keyword TOURKW, its officer created as administrators
    create officers (the wizard), and a citizen's SMS with a follow-up."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team = cls.env["helpdesk.ticket.team"].create({"name": "Tour Unit"})
        cls.keyword = cls.env["sms_center.keyword"].create(
            {"name": "TOURKW", "team_id": cls.team.id}
        )
        sms_admin = new_test_user(
            cls.env,
            login="tour_sms_creator",
            name="Tour SMS Administrator",
            groups="sms_center.group_admin",
        )
        action = (
            cls.env["sms_center.officer.create"]
            .with_user(sms_admin)
            .create(
                {
                    "name": "Tour Officer",
                    "login": "tour_officer",
                    "password": "tour_officer",
                    "notification_mobile": "081211119999",
                    "keyword_ids": [(6, 0, cls.keyword.ids)],
                }
            )
            .action_create()
        )
        cls.officer_user = (
            cls.env["sms_center.officer"].browse(action["res_id"]).user_id
        )
        Message = cls.env["sms_center.message"]
        cls.message = Message.receive(
            "081377776666", "TOURKW lampu jalan di desa Kalilunjar mati"
        )
        # A follow-up written by the citizen shows in the chatter, although
        # officers cannot read citizens' contacts.
        Message.receive("081377776666", "TOURKW tepatnya di depan balai desa")


@tagged("post_install", "-at_install")
class TestInboxUi(TourCase):
    """An officer logs in, lands in the inbox and answers two SMS in a real
    browser, on a desktop and on a phone."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.second = cls.env["sms_center.message"].receive(
            "081377778888", "TOURKW tiang listrik miring di RT 3"
        )

    def _assert_answered(self):
        self.assertEqual(
            self.officer_user.action_id.id,
            self.env.ref("sms_center.action_sms_inbox").id,
        )
        for message in self.message | self.second:
            ticket = message.ticket_id
            self.assertTrue(ticket.sms_answered)
            self.assertEqual(len(ticket.sms_reply_ids), 1)
            reply = ticket.sms_reply_ids
            self.assertEqual(reply.author_id, self.officer_user)
            self.assertEqual(reply.encoding, "gsm7")
        reply = self.message.ticket_id.sms_reply_ids
        self.assertEqual(
            reply.body, "Terima kasih, petugas kami memperbaiki lampu besok pagi."
        )
        sms = self.env["sms.sms"].search([("uuid", "=", reply.sms_uuid)])
        self.assertEqual(sms.number, "+6281377776666")

    def test_reply_on_desktop(self):
        self.start_tour("/odoo", "sms_center_reply_tour", login="tour_officer")
        self._assert_answered()

    def test_reply_on_phone(self):
        self.browser_size = PHONE
        self.touch_enabled = True
        self.start_tour("/odoo", "sms_center_reply_tour", login="tour_officer")
        self._assert_answered()


@tagged("post_install", "-at_install")
class TestSecretariatUi(TourCase):
    """The secretariat's first screen shows the work; routing is one tap."""

    def test_first_screen_on_phone(self):
        humas = new_test_user(
            self.env,
            login="tour_humas",
            name="Tour Secretariat",
            groups="sms_center.group_secretariat",
        )
        # As at an upgrade: existing users get their home action.
        self.env["res.users"]._sms_center_set_home_actions()
        self.assertEqual(
            humas.action_id.id, self.env.ref("sms_center.action_sms_center_overview").id
        )
        unknown = self.env["sms_center.message"].receive(
            "081377779999", "HALOTUR lampu mati"
        )
        self.browser_size = PHONE
        self.touch_enabled = True
        self.start_tour("/odoo", "sms_center_secretariat_tour", login="tour_humas")
        self.assertEqual(unknown.state, "routed")
        self.assertEqual(unknown.ticket_id.sms_keyword_id, self.keyword)


@tagged("post_install", "-at_install")
class TestSimulatorUi(TourCase):
    """The simulator round trip, on a phone."""

    def test_round_trip_on_phone(self):
        new_test_user(
            self.env,
            login="tour_trainer",
            name="Tour Trainer",
            groups="sms_center.group_secretariat",
        )
        simulator = self.env["sms_center.gateway"].create(
            {
                "name": "Tour simulator",
                "code": "t-tour-simulator",
                "gateway_type": "simulator",
                "sequence": 1,
                "simulator_numbers": "0812-7777-0001, 08127777*",
            }
        )
        self.browser_size = PHONE
        self.touch_enabled = True
        self.start_tour(
            "/odoo/action-sms_center.action_sms_center_simulator",
            "sms_center_simulator_tour",
            login="tour_trainer",
        )
        log = self.env["sms_center.simulator.message"].search(
            [("gateway_id", "=", simulator.id)]
        )
        sent = log.filtered(lambda row: row.direction == "in")
        self.assertEqual(len(sent), 2, log.mapped("body"))
        # The receipt, the unknown keyword's reply and the officer's answer.
        self.assertEqual(len(log - sent), 3, log.mapped("body"))
        ticket = sent[0].message_id.ticket_id
        self.assertTrue(ticket.sms_simulated)
        self.assertEqual(ticket.sms_keyword_id, self.keyword)
        self.assertEqual(ticket.sms_answer_status, "delivered")
        self.assertEqual(log[-1].state, "delivered")


@tagged("post_install", "-at_install")
class TestSettingsUi(HttpCase):
    """The center's own settings page saves like Odoo's Settings do."""

    def test_sms_center_administrator_saves_zero(self):
        new_test_user(
            self.env,
            login="tour_sms_admin",
            name="Tour SMS Administrator",
            groups="sms_center.group_admin",
        )
        self.env["ir.config_parameter"].set_param(
            "sms_center.append_window_minutes", "45"
        )
        self.start_tour(
            "/odoo/action-sms_center.action_sms_center_settings",
            "sms_center_settings_tour",
            login="tour_sms_admin",
        )
        self.assertEqual(
            self.env["ir.config_parameter"].get_param(
                "sms_center.append_window_minutes"
            ),
            "0",
        )
