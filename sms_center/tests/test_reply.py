from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import SmsCenterCase


@tagged("post_install", "-at_install")
class TestReply(SmsCenterCase):
    def _reply(self, ticket, body, user=None):
        wizard = (
            self.env["sms_center.reply.wizard"]
            .with_user(user or self.user_health)
            .create({"ticket_id": ticket.id, "body": body})
        )
        return wizard, wizard.action_send()

    def test_composer_counts_characters_and_parts(self):
        ticket = self.receive("TDINKES obat habis").ticket_id
        Wizard = self.env["sms_center.reply.wizard"].with_user(self.user_health)
        cases = [
            ("a" * 160, "gsm7", 160, 1),
            ("a" * 161, "gsm7", 161, 2),
            ("€" * 80, "gsm7", 160, 1),
            ("Terima kasih 🙏", "ucs2", 15, 1),
            ("ā" * 71, "ucs2", 71, 2),
        ]
        for body, encoding, chars, parts in cases:
            with self.subTest(body=body[:10]):
                wizard = Wizard.new({"ticket_id": ticket.id, "body": body})
                self.assertEqual(wizard.encoding, encoding)
                self.assertEqual(wizard.char_count, chars)
                self.assertEqual(wizard.part_count, parts)
                self.assertIn(str(parts), wizard.length_info)

    def test_answer_goes_by_sms_with_sender_id_and_is_logged(self):
        message = self.receive("TJALAN lubang di jalan raya Wanadadi")
        ticket = message.ticket_id
        self._reply(
            ticket, "Terima kasih, tim kami akan menambal besok.", self.user_roads
        )
        reply = ticket.sms_reply_ids
        self.assertEqual(len(reply), 1)
        self.assertEqual(reply.author_id, self.user_roads)
        self.assertEqual(reply.sender_id, "DPUPR")
        self.assertEqual(reply.sms_state, "pending")
        sms = self.env["sms.sms"].search([("uuid", "=", reply.sms_uuid)])
        self.assertEqual(sms.number, self.citizen_e164)
        self.assertEqual(sms.body, "Terima kasih, tim kami akan menambal besok.")
        self.assertEqual(sms.sms_center_sender_id, "DPUPR")
        self.assertEqual(sms.state, "outgoing")
        self.assertEqual(sms.mail_message_id.model, "helpdesk.ticket")
        self.assertEqual(sms.mail_message_id.res_id, ticket.id)
        self.assertEqual(sms.mail_message_id.author_id, self.user_roads.partner_id)
        self.assertTrue(ticket.sms_answered)
        self.assertTrue(ticket.sms_first_answer_at)
        self.assertEqual(
            ticket.stage_id, self.env.ref("sms_center.helpdesk_ticket_stage_answered")
        )

    def test_several_answers_kept(self):
        ticket = self.receive("TDINKES jadwal vaksin?").ticket_id
        self._reply(ticket, "Jadwal vaksin Senin.")
        first_answer_at = ticket.sms_first_answer_at
        self._reply(ticket, "Koreksi: Selasa pukul 08.00.")
        self.assertEqual(len(ticket.sms_reply_ids), 2)
        self.assertEqual(ticket.sms_answer_count, 2)
        self.assertEqual(ticket.sms_first_answer_at, first_answer_at)
        self.assertEqual(len(self.sms_for(ticket)), 2)

    def test_status_follows_sms_and_survives_cleanup(self):
        ticket = self.receive("TDINKES tanya").ticket_id
        self._reply(ticket, "Jawaban")
        reply = ticket.sms_reply_ids
        sms = self.env["sms.sms"].search([("uuid", "=", reply.sms_uuid)])
        sms.write({"state": "pending"})
        self.assertEqual(reply.sms_state, "sent")
        sms.write({"state": "sent"})
        self.assertTrue(reply.sms_delivered)
        sms.unlink()
        self.assertEqual(reply.sms_state, "sent")

    def test_failed_answer_shows_reason_and_can_be_resent(self):
        ticket = self.receive("TDINKES tanya").ticket_id
        self._reply(ticket, "Jawaban")
        reply = ticket.sms_reply_ids
        sms = self.env["sms.sms"].search([("uuid", "=", reply.sms_uuid)])
        sms.write({"state": "error", "failure_type": "sms_number_format"})
        self.assertEqual(reply.sms_state, "failed")
        self.assertEqual(reply.sms_failure_reason, "Wrong Number Format")
        reply.with_user(self.user_health).action_resend()
        self.assertEqual(reply.sms_state, "pending")
        self.assertNotEqual(reply.sms_uuid, sms.uuid)
        self.assertEqual(reply.send_count, 2)
        with self.assertRaises(UserError):
            reply.with_user(self.user_health).action_resend()

    def test_officer_of_another_keyword_cannot_answer(self):
        ticket = self.receive("TDINKES tanya").ticket_id
        with self.assertRaises(AccessError):
            self._reply(ticket, "bukan urusan saya", self.user_roads)
        self.assertFalse(ticket.sms_reply_ids)

    def test_empty_answer_refused(self):
        ticket = self.receive("TDINKES tanya").ticket_id
        with self.assertRaises(UserError):
            self._reply(ticket, "   ")

    def test_no_sms_to_citizen_when_logging_inbound_text(self):
        first = self.receive("TDINKES satu")
        ticket = first.ticket_id
        self.receive("TDINKES dua")
        ticket.message_post(body="Catatan internal", subtype_xmlid="mail.mt_note")
        # Only the receipt of the new ticket went to the citizen.
        self.assertEqual(
            self.env["sms.sms"].search([("number", "=", self.citizen_e164)]),
            self.sms_for(first),
        )
        self.assertEqual(first.auto_reply_kind, "receipt")
