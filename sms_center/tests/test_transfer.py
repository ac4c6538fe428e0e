from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import SmsCenterCase


@tagged("post_install", "-at_install")
class TestTransfer(SmsCenterCase):
    def test_keyword_passes_to_successor_with_open_messages(self):
        open_message = self.receive("TDINKES belum dijawab", sender="081211110000")
        answered = self.receive("TDINKES sudah dijawab", sender="081211110001")
        answered.ticket_id._sms_center_mark_answered()
        open_ticket = open_message.ticket_id
        self.assertIn(self.user_health.partner_id, open_ticket.message_partner_ids)
        wizard = (
            self.env["sms_center.keyword.transfer"]
            .with_user(self.user_admin)
            .create(
                {
                    "keyword_id": self.kw_health.id,
                    "from_officer_id": self.officer_health.id,
                    "to_officer_id": self.officer_successor.id,
                    "note": "SK Bupati 800/12/2026",
                }
            )
        )
        wizard.action_transfer()
        self.assertEqual(self.kw_health.officer_ids, self.officer_successor)
        self.assertEqual(open_ticket.user_id, self.user_successor)
        # History stays: the answered ticket keeps its officer.
        self.assertEqual(answered.ticket_id.user_id, self.user_health)
        self.assertNotIn(self.user_health.partner_id, open_ticket.message_partner_ids)
        # The former officer lost access; the successor has it.
        for ticket in (open_ticket, answered.ticket_id):
            with self.assertRaises(AccessError):
                ticket.with_user(self.user_health).read(["name"])
            self.assertTrue(ticket.with_user(self.user_successor).read(["name"]))
        self.assertIn("SK Bupati", self.kw_health.message_ids[0].body)
        # New SMS go to the successor.
        new = self.receive("TDINKES baru", sender="081211110002")
        self.assertEqual(new.ticket_id.user_id, self.user_successor)

    def test_only_administrators_transfer(self):
        with self.assertRaises(AccessError):
            self.env["sms_center.keyword.transfer"].with_user(
                self.user_secretariat
            ).create(
                {
                    "keyword_id": self.kw_health.id,
                    "from_officer_id": self.officer_health.id,
                    "to_officer_id": self.officer_successor.id,
                }
            )
