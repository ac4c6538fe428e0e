from odoo.exceptions import AccessError
from odoo.tests import tagged

from odoo.addons.mail.tools.discuss import Store

from .common import SmsCenterCase


@tagged("post_install", "-at_install")
class TestAccess(SmsCenterCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.msg_health = cls.Message.receive("081200001111", "TDINKES obat habis")
        cls.msg_roads = cls.Message.receive("081200002222", "TJALAN lubang")
        cls.msg_unknown = cls.Message.receive("081200003333", "HALO siapa")
        cls.ticket_health = cls.msg_health.ticket_id
        cls.ticket_roads = cls.msg_roads.ticket_id
        cls.sms_domain = [("sms_keyword_id", "in", (cls.kw_health | cls.kw_roads).ids)]

    def test_officer_sees_only_own_keywords(self):
        Ticket = self.env["helpdesk.ticket"].with_user(self.user_health)
        self.assertEqual(Ticket.search(self.sms_domain), self.ticket_health)
        self.assertEqual(Ticket.search_count(self.sms_domain), 1)
        with self.assertRaises(AccessError):
            self.ticket_roads.with_user(self.user_health).read(["name"])
        with self.assertRaises(AccessError):
            self.ticket_roads.with_user(self.user_health).write({"priority": "2"})
        self.ticket_health.with_user(self.user_health).write(
            {"category_id": self.env.ref("sms_center.category_complaint").id}
        )
        Message = self.Message.with_user(self.user_health)
        test_messages = [
            ("id", "in", (self.msg_health | self.msg_roads | self.msg_unknown).ids)
        ]
        self.assertEqual(Message.search(test_messages), self.msg_health)
        with self.assertRaises(AccessError):
            self.msg_roads.with_user(self.user_health).read(["text"])

    def test_officer_cannot_see_citizen_number(self):
        with self.assertRaises(AccessError):
            self.msg_health.with_user(self.user_health).read(["sender"])
        with self.assertRaises(AccessError):
            self.msg_health.with_user(self.user_health).read(["sender_e164"])
        data = self.msg_health.with_user(self.user_health).read(
            ["sender_masked", "text"]
        )[0]
        self.assertEqual(data["sender_masked"], "0812****111")

    def test_citizen_contact_hidden_from_officers(self):
        partner = self.ticket_health.partner_id
        self.assertTrue(partner.sms_center_citizen)
        with self.assertRaises(AccessError):
            partner.with_user(self.user_health).read(["mobile"])
        Partner = self.env["res.partner"].with_user(self.user_health)
        self.assertFalse(Partner.search([("phone_sanitized", "=", "+6281200001111")]))
        # The ticket still shows who wrote, masked.
        data = self.ticket_health.with_user(self.user_health).read(
            ["partner_id", "sms_sender_masked"]
        )[0]
        self.assertEqual(data["partner_id"][0], partner.id)
        self.assertNotIn("00001111", data["partner_id"][1])
        self.assertEqual(data["sms_sender_masked"], "0812****111")
        # Follow-ups in the chatter, written by the citizen, load for the officer.
        self.Message.receive("081200001111", "TDINKES tambahan info")
        messages = self.ticket_health.with_user(self.user_health).message_ids
        store = Store(messages)
        self.assertIn("tambahan info", str(store.get_result()))
        # The secretariat and other employees keep reading contacts.
        self.assertTrue(partner.with_user(self.user_secretariat).read(["mobile"]))
        self.assertTrue(partner.with_user(self.user_plain).read(["name"]))

    def test_officer_cannot_create_or_delete(self):
        Ticket = self.env["helpdesk.ticket"].with_user(self.user_health)
        with self.assertRaises(AccessError):
            Ticket.create(
                {"name": "x", "description": "x", "team_id": self.team_health.id}
            )
        with self.assertRaises(AccessError):
            self.ticket_health.with_user(self.user_health).unlink()
        with self.assertRaises(AccessError):
            self.kw_health.with_user(self.user_health).write({"name": "THACK"})
        with self.assertRaises(AccessError):
            self.env["sms_center.gateway"].with_user(self.user_health).create(
                {"name": "x", "code": "x"}
            )

    def test_secretariat_reads_all_but_does_not_configure(self):
        Ticket = self.env["helpdesk.ticket"].with_user(self.user_secretariat)
        self.assertEqual(Ticket.search_count(self.sms_domain), 2)
        Message = self.Message.with_user(self.user_secretariat)
        ids = (self.msg_health | self.msg_roads | self.msg_unknown).ids
        self.assertEqual(Message.search_count([("id", "in", ids)]), 3)
        self.assertEqual(
            self.msg_unknown.with_user(self.user_secretariat).sender, "081200003333"
        )
        with self.assertRaises(AccessError):
            self.kw_health.with_user(self.user_secretariat).write({"sender_id": "X"})
        with self.assertRaises(AccessError):
            self.Keyword.with_user(self.user_secretariat).create(
                {"name": "TNEW", "team_id": self.team_roads.id}
            )
        self.ticket_roads.with_user(self.user_secretariat).write(
            {"category_id": self.env.ref("sms_center.category_question").id}
        )

    def test_administrator_configures(self):
        keyword = self.Keyword.with_user(self.user_admin).create(
            {"name": "TADMIN", "team_id": self.team_roads.id}
        )
        self.assertTrue(keyword)
        self.officer_roads.with_user(self.user_admin).write({"sender_id": "JALAN"})
        gateway = (
            self.env["sms_center.gateway"]
            .with_user(self.user_admin)
            .create({"name": "Kannel", "code": "t-admin-kannel"})
        )
        self.assertTrue(gateway.with_user(self.user_admin).webhook_token)

    def test_plain_employee_sees_no_sms(self):
        Ticket = self.env["helpdesk.ticket"].with_user(self.user_plain)
        self.assertEqual(Ticket.search_count(self.sms_domain), 0)
        with self.assertRaises(AccessError):
            self.Message.with_user(self.user_plain).search([])
        with self.assertRaises(AccessError):
            self.ticket_health.with_user(self.user_plain).read(["name"])

    def test_officer_profile_visibility(self):
        Officer = self.Officer.with_user(self.user_health)
        self.assertEqual(Officer.search([]), self.officer_health)
        self.assertEqual(
            self.Officer.with_user(self.user_secretariat).search_count(
                [("id", "in", (self.officer_health | self.officer_roads).ids)]
            ),
            2,
        )
