from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestInboxUi(HttpCase):
    """An officer answers from a real browser, on a desktop and a phone."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        team = cls.env["helpdesk.ticket.team"].create({"name": "Tour Unit"})
        cls.officer_user = new_test_user(
            cls.env,
            login="tour_officer",
            name="Tour Officer",
            groups="sms_center.group_officer",
        )
        officer = cls.env["sms_center.officer"].create(
            {"user_id": cls.officer_user.id, "notification_mobile": "081211119999"}
        )
        cls.env["sms_center.keyword"].create(
            {"name": "TOURKW", "team_id": team.id, "officer_ids": [(6, 0, officer.ids)]}
        )
        cls.message = cls.env["sms_center.message"].receive(
            "081377776666", "TOURKW lampu jalan di desa Kalilunjar mati"
        )
        # A follow-up written by the citizen shows in the chatter, although
        # officers cannot read citizens' contacts.
        cls.env["sms_center.message"].receive(
            "081377776666", "TOURKW tepatnya di depan balai desa"
        )

    def _assert_answered(self):
        ticket = self.message.ticket_id
        self.assertTrue(ticket.sms_answered)
        self.assertEqual(len(ticket.sms_reply_ids), 1)
        reply = ticket.sms_reply_ids
        self.assertEqual(reply.author_id, self.officer_user)
        self.assertEqual(reply.sms_state, "pending")
        self.assertEqual(reply.encoding, "gsm7")
        sms = self.env["sms.sms"].search([("uuid", "=", reply.sms_uuid)])
        self.assertEqual(sms.number, "+6281377776666")

    def test_reply_on_desktop(self):
        self.start_tour(
            "/odoo/action-sms_center.action_sms_inbox",
            "sms_center_reply_tour",
            login="tour_officer",
        )
        self._assert_answered()

    def test_reply_on_phone(self):
        self.browser_size = "375x667"
        self.touch_enabled = True
        self.start_tour(
            "/odoo/action-sms_center.action_sms_inbox",
            "sms_center_reply_tour",
            login="tour_officer",
        )
        self._assert_answered()


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
