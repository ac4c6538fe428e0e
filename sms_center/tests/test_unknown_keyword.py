from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import tagged

from ..lib import gsm
from .common import SmsCenterCase


@tagged("post_install", "-at_install")
class TestUnknownKeyword(SmsCenterCase):
    def test_reply_lists_keywords_in_one_sms(self):
        message = self.receive("HALO pak bupati")
        self.assertEqual(message.state, "unknown")
        self.assertFalse(message.ticket_id)
        body = message.auto_reply_body
        self.assertIn("TDINKES", body)
        self.assertIn("TJALAN", body)
        self.assertEqual(gsm.measure(body).parts, 1)
        sms = self.sms_for(message)
        self.assertEqual(len(sms), 1)
        self.assertEqual(sms.number, self.citizen_e164)
        self.assertEqual(sms.body, body)
        self.assertEqual(sms.state, "outgoing")
        self.assertEqual(message.sms_state, "pending")
        self.assertEqual(message.sms_uuid, sms.uuid)

    def test_did_you_mean(self):
        message = self.receive("TDINKS obat habis")
        self.assertIn("TDINKES", message.auto_reply_body)
        self.assertIn("TDINKS", message.auto_reply_body)
        self.assertEqual(gsm.measure(message.auto_reply_body).parts, 1)

    def test_long_keyword_list_becomes_short_form_with_address(self):
        self.env["ir.config_parameter"].set_param(
            "sms_center.public_keywords_url", "https://sms.example.go.id/sms/keywords"
        )
        for index in range(40):
            self.Keyword.create(
                {"name": f"TKW{index:02d}LONGNAME", "team_id": self.team_roads.id}
            )
        message = self.receive("ZZZZZZ halo")
        self.assertIn("https://sms.example.go.id/sms/keywords", message.auto_reply_body)
        self.assertEqual(gsm.measure(message.auto_reply_body).parts, 1)
        self.assertNotIn("TKW39LONGNAME", message.auto_reply_body)

    def test_daily_limit_per_number(self):
        self.env["ir.config_parameter"].set_param(
            "sms_center.auto_reply_daily_limit", "2"
        )
        replies = [
            self.receive(f"ZZZ halo {i}", sender="081377778888") for i in range(4)
        ]
        self.assertTrue(replies[0].auto_reply_body)
        self.assertTrue(replies[1].auto_reply_body)
        self.assertFalse(replies[2].auto_reply_body)
        self.assertIn("limit", replies[2].auto_reply_skipped)
        self.assertFalse(replies[3].auto_reply_body)
        # Messages stay visible to the secretariat.
        visible = self.Message.with_user(self.user_secretariat).search(
            [("sender_e164", "=", "+6281377778888")]
        )
        self.assertEqual(len(visible), 4)
        # Another number has its own quota; yesterday's replies do not count.
        self.assertTrue(self.receive("ZZZ halo", sender="081399990000").auto_reply_body)
        replies[0].sudo().write(
            {"auto_reply_at": fields.Datetime.now() - timedelta(days=2)}
        )
        replies[1].sudo().write(
            {"auto_reply_at": fields.Datetime.now() - timedelta(days=2)}
        )
        self.assertTrue(self.receive("ZZZ lagi", sender="081377778888").auto_reply_body)

    def test_no_reply_to_alphanumeric_short_codes_or_own_numbers(self):
        self.env["sms_center.gateway"].create(
            {"name": "Modem", "code": "t-modem", "receiving_numbers": "0811-2222-3333"}
        )
        self.env["ir.config_parameter"].set_param(
            "sms_center.center_numbers", "+6281144445555"
        )
        self.env.registry.clear_cache()
        for sender in ("TELKOMSEL", "3636", "+6281122223333", "081144445555"):
            with self.subTest(sender=sender):
                message = self.receive("ZZZ info", sender=sender)
                self.assertFalse(message.auto_reply_body)
                self.assertFalse(self.sms_for(message))
        own = self.Message.search([("sender", "=", "081144445555")])
        self.assertEqual(own.state, "unknown")
        self.assertIn("own numbers", own.auto_reply_skipped)

    def test_secretariat_routes_unknown_by_hand(self):
        message = self.receive("TOLONG jalan di desa kami rusak")
        wizard = (
            self.env["sms_center.message.route"]
            .with_user(self.user_secretariat)
            .create(
                {"message_ids": [(6, 0, message.ids)], "keyword_id": self.kw_roads.id}
            )
        )
        wizard.action_route()
        self.assertEqual(message.state, "routed")
        self.assertEqual(message.ticket_id.sms_keyword_id, self.kw_roads)
        self.assertEqual(message.ticket_id.user_id, self.user_roads)
        self.assertIn("TOLONG jalan", message.ticket_id.description)
        # The officer now sees it.
        self.assertTrue(message.ticket_id.with_user(self.user_roads).read(["name"]))

    def test_officer_cannot_route_by_hand(self):
        message = self.receive("TOLONG x")
        with self.assertRaises(AccessError):
            self.env["sms_center.message.route"].with_user(self.user_roads).create(
                {"message_ids": [(6, 0, message.ids)], "keyword_id": self.kw_roads.id}
            ).action_route()
        self.assertEqual(message.state, "unknown")
