from datetime import datetime, timedelta

import pytz

from odoo import fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from .common import SmsCenterCase


@tagged("post_install", "-at_install")
class TestReceive(SmsCenterCase):
    def test_matching_keyword_creates_ticket_in_officer_inbox(self):
        text = "TDINKES Puskesmas Karangkobar tutup jam 10 pagi, mohon ditindaklanjuti"
        message = self.receive(
            text, recipient="+628111000111", gateway_message_id="g-1"
        )
        ticket = message.ticket_id
        self.assertEqual(message.state, "routed")
        self.assertEqual(message.text, text)
        self.assertEqual(message.sender_e164, self.citizen_e164)
        self.assertEqual(message.keyword_id, self.kw_health)
        self.assertEqual(
            message.body,
            "Puskesmas Karangkobar tutup jam 10 pagi, mohon ditindaklanjuti",
        )
        self.assertEqual(ticket.team_id, self.team_health)
        self.assertEqual(ticket.user_id, self.user_health)
        self.assertEqual(
            ticket.channel_id, self.env.ref("sms_center.helpdesk_ticket_channel_sms")
        )
        self.assertEqual(ticket.sms_keyword_id, self.kw_health)
        self.assertEqual(ticket.sms_message_ids, message)
        self.assertIn(text, ticket.description)
        self.assertTrue(ticket.name.startswith("TDINKES: Puskesmas Karangkobar"))
        self.assertEqual(ticket.partner_id.phone_sanitized, self.citizen_e164)
        self.assertEqual(ticket.sms_sender_masked, "0812****432")
        self.assertNotIn("98765", ticket.partner_id.name)
        self.assertFalse(ticket.sms_answered)

    def test_separators_and_case(self):
        for text in (
            "tdinkes jalan rusak",
            "tdinkes#jalan rusak",
            "TDinkes: jalan rusak",
            "TDINKES.jalan rusak",
            "  tdinkes,jalan rusak",
            "TDINKES;jalan rusak",
            "TDINKES-jalan rusak",
            "TDINKES\njalan rusak",
            "TDINKES     jalan rusak",
            "tsehat jalan rusak",
        ):
            with self.subTest(text=text):
                message = self.receive(text, sender="+6281300000001")
                self.assertEqual(message.keyword_id, self.kw_health)
                self.assertEqual(message.body, "jalan rusak")
                self.assertEqual(message.text, text)

    def test_keyword_alone_is_valid(self):
        message = self.receive("tdinkes")
        self.assertEqual(message.state, "routed")
        self.assertEqual(message.ticket_id.name, "TDINKES")

    def test_repeated_gateway_message_id_is_idempotent(self):
        gateway = self.env["sms_center.gateway"].create(
            {"name": "Kannel", "code": "t-kannel"}
        )
        first = self.receive(
            "TJALAN lubang besar", gateway=gateway, gateway_message_id="abc-1"
        )
        tickets_before = self.env["helpdesk.ticket"].search_count([])
        again = self.receive(
            "TJALAN different text", gateway=gateway, gateway_message_id="abc-1"
        )
        self.assertEqual(again, first)
        self.assertEqual(first.text, "TJALAN lubang besar")
        self.assertEqual(self.env["helpdesk.ticket"].search_count([]), tickets_before)
        # The same id from another gateway is another SMS.
        other = self.receive("TJALAN lain", gateway_message_id="abc-1")
        self.assertNotEqual(other, first)
        # Gateway given by code or id works too.
        self.assertEqual(
            self.receive("x", gateway="t-kannel", gateway_message_id="abc-1"), first
        )
        self.assertEqual(
            self.receive("x", gateway=gateway.id, gateway_message_id="abc-1"), first
        )

    def test_same_number_reuses_contact(self):
        first = self.receive("TJALAN satu", sender="0812-9876-5432")
        second = self.receive("TDINKES dua", sender="+62 812 9876 5432")
        third = self.receive("TDINKES tiga", sender="6281298765432")
        self.assertEqual(first.partner_id, second.partner_id)
        self.assertEqual(first.partner_id, third.partner_id)
        self.assertEqual(
            self.env["res.partner"].search_count(
                [("phone_sanitized", "=", self.citizen_e164)]
            ),
            1,
        )

    def test_follow_up_within_window_joins_open_ticket(self):
        first = self.receive("TJALAN jalan rusak di Desa Kalibening")
        follow_up = self.receive("TJALAN maaf, tepatnya di RT 02")
        self.assertEqual(follow_up.state, "appended")
        self.assertEqual(follow_up.ticket_id, first.ticket_id)
        self.assertIn("RT 02", first.ticket_id.message_ids.mapped("body")[0])
        # The citizen does not become a follower of the ticket.
        self.assertNotIn(first.partner_id, first.ticket_id.message_partner_ids)
        # No SMS goes back to the citizen for logged inbound text: only the
        # receipt of the new ticket.
        self.assertEqual(
            self.env["sms.sms"].search([("number", "=", self.citizen_e164)]),
            self.sms_for(first),
        )
        # Another keyword is another ticket.
        other = self.receive("TDINKES obat habis")
        self.assertNotEqual(other.ticket_id, first.ticket_id)

    def test_follow_up_after_window_or_answer_opens_new_ticket(self):
        self.env["ir.config_parameter"].set_param(
            "sms_center.append_window_minutes", "30"
        )
        old_time = fields.Datetime.now() - timedelta(minutes=45)
        first = self.receive("TJALAN pertama", received_at=old_time)
        later = self.receive("TJALAN kedua")
        self.assertEqual(later.state, "routed")
        self.assertNotEqual(later.ticket_id, first.ticket_id)
        later.ticket_id._sms_center_mark_answered()
        third = self.receive("TJALAN ketiga")
        self.assertNotEqual(third.ticket_id, later.ticket_id)
        self.env["ir.config_parameter"].set_param(
            "sms_center.append_window_minutes", "0"
        )
        fourth = self.receive("TJALAN keempat")
        self.assertNotEqual(fourth.ticket_id, third.ticket_id)

    def test_received_at_forms(self):
        aware = pytz.timezone("Asia/Jakarta").localize(datetime(2026, 1, 5, 9, 30))
        message = self.receive("TJALAN a", received_at=aware)
        self.assertEqual(message.received_at, datetime(2026, 1, 5, 2, 30))
        message = self.receive("TJALAN b", received_at="2026-01-05T02:31:00Z")
        self.assertEqual(message.received_at, datetime(2026, 1, 5, 2, 31))
        future = fields.Datetime.now() + timedelta(days=3)
        message = self.receive("TJALAN c", received_at=future)
        self.assertLessEqual(message.received_at, fields.Datetime.now())
        with self.assertRaises(ValidationError):
            self.receive("TJALAN d", received_at="yesterday-ish")

    def test_only_gateways_and_admins_may_inject(self):
        for user in (self.user_health, self.user_secretariat, self.user_plain):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.Message.with_user(user).receive(self.citizen, "TJALAN x")
        message = self.Message.with_user(self.user_admin).receive(
            self.citizen, "TJALAN x"
        )
        self.assertEqual(message.state, "routed")


@tagged("post_install", "-at_install")
class TestReceiveBadInput(SmsCenterCase):
    def test_empty_text_gets_keyword_list(self):
        message = self.receive("")
        self.assertEqual(message.state, "unknown")
        self.assertEqual(message.text, "")
        self.assertTrue(message.auto_reply_body)

    def test_none_text_is_empty(self):
        message = self.receive(None)
        self.assertEqual(message.text, "")

    def test_long_text_kept_whole(self):
        text = "TJALAN " + ("jalan berlubang dan rusak parah " * 70)[:1993]
        self.assertEqual(len(text), 2000)
        message = self.receive(text)
        self.assertEqual(message.text, text)
        self.assertEqual(message.state, "routed")
        self.assertLessEqual(len(message.ticket_id.name), 80)

    def test_oversized_text_refused_with_clear_error(self):
        count = self.Message.search_count([])
        with self.assertRaises(ValidationError):
            self.receive("TJALAN " + "x" * 40000)
        self.assertEqual(self.Message.search_count([]), count)

    def test_emoji_and_unicode(self):
        text = "TDINKES Terima kasih 🙏 pelayanan puskesmas sangat baik 👍 — ṡip"
        message = self.receive(text)
        self.assertEqual(message.text, text)
        self.assertEqual(message.state, "routed")

    def test_control_characters_and_binary_junk(self):
        text = "TJALAN a\x01b\x07c\x1b[31m\x7f\ufffe end"
        message = self.receive(text)
        self.assertEqual(message.text, text)
        junk = bytes(range(256))
        message = self.receive(b"TJALAN " + junk, sender="081300001234")
        self.assertTrue(message.text.startswith("TJALAN "))
        self.assertEqual(message.state, "routed")
        # PostgreSQL cannot store NUL: it becomes a visible symbol.
        self.assertIn("\u2400", message.text)

    def test_emoji_keyword_is_unknown(self):
        message = self.receive("🙏🙏 tolong")
        self.assertEqual(message.state, "unknown")

    def test_malformed_and_special_senders_stored_not_answered(self):
        for sender, kind in (
            ("TELKOMSEL", "alphanumeric"),
            ("3636", "short_code"),
            ("++--", "invalid"),
            ("0812", "short_code"),
            ("081-abc-!!", "invalid"),
        ):
            with self.subTest(sender=sender):
                message = self.receive("TJALAN promo", sender=sender)
                self.assertEqual(message.sender_kind, kind)
                self.assertEqual(message.state, "rejected")
                self.assertFalse(message.ticket_id)
                self.assertEqual(message.sender, sender)
                self.assertFalse(self.sms_for(message))

    def test_missing_or_absurd_sender_refused(self):
        with self.assertRaises(ValidationError):
            self.receive("TJALAN x", sender="   ")
        with self.assertRaises(ValidationError):
            self.receive("TJALAN x", sender="9" * 200)
