"""Retention of citizens' numbers (UU 27/2022): pseudonyms, the database
trigger, the scheduled pseudonymisation and its concurrency."""

import threading
from contextlib import closing
from datetime import timedelta

import psycopg2

from odoo import SUPERUSER_ID, api, fields
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from ..lib import pseudonym
from ..tools.pseudonym import pseudonyms
from .personal_data_common import PersonalDataCase, tables_holding

OLD = "081377345612"
OLD_E164 = "+6281377345612"
RECENT = "085211223344"
RECENT_E164 = "+6285211223344"
OPEN = "081955667788"
OPEN_E164 = "+6281955667788"
UNKNOWN_OLD = "087812345099"
UNKNOWN_OLD_E164 = "+6287812345099"
UNKNOWN_RECENT = "082112344321"


@tagged("post_install", "-at_install")
class TestPseudonym(PersonalDataCase):
    def test_database_pseudonym_is_hmac_sha256_of_its_secret(self):
        self.env.cr.execute(
            "SELECT inner_pad, outer_pad FROM sms_center_pseudonym_secret"
        )
        [(inner, outer)] = self.env.cr.fetchall()
        self.assertEqual(len(bytes(inner)), 64)
        value = pseudonyms(self.env.cr, [OLD_E164])[OLD_E164]
        self.assertEqual(
            value, pseudonym.pseudonym_from_pads(bytes(inner), bytes(outer), OLD_E164)
        )
        self.assertTrue(pseudonym.is_pseudonym(value))
        self.assertNotIn("81377345612", value)
        # The secret is no Odoo model: no screen, export or RPC reaches it.
        self.assertFalse(
            self.env["ir.model"].search(
                [("model", "ilike", "pseudonym_secret")], limit=1
            )
        )

    def test_sender_key_is_the_same_for_every_form_of_a_number(self):
        first = self.receive("TDINKES satu", sender=OLD)
        second = self.receive("TJALAN dua", sender="+62 813-7734-5612")
        other = self.receive("TJALAN tiga", sender=RECENT)
        self.assertTrue(first.sender_key)
        self.assertEqual(first.sender_key, second.sender_key)
        self.assertNotEqual(first.sender_key, other.sender_key)
        self.assertEqual(first.sender_key, self.PersonalData._pseudonym(OLD_E164))
        short_code = self.receive("INFO promo", sender="3636")
        self.assertFalse(short_code.sender_key)

    def test_trigger_accepts_only_the_number_own_pseudonym_once(self):
        message = self.receive("TDINKES obat habis", sender=OLD)
        self.env.flush_all()
        cr = self.env.cr
        own = self.PersonalData._pseudonym(OLD_E164)
        other = self.PersonalData._pseudonym(RECENT_E164)
        refused = [
            "UPDATE sms_center_message SET sender = %s WHERE id = %s",
            "UPDATE sms_center_message SET sender_e164 = %s WHERE id = %s",
        ]
        for query in refused:
            for value in (other, "psn:000000000000000000000000", "+6281100000000"):
                with (
                    self.subTest(query=query, value=value),
                    self.assertRaises(psycopg2.Error),
                    mute_logger("odoo.sql_db"),
                    cr.savepoint(),
                ):
                    cr.execute(query, [value, message.id])
        cr.execute(
            """UPDATE sms_center_message
                  SET sender = %s, sender_e164 = %s, pseudonymised_at = now()
                WHERE id = %s""",
            [own, own, message.id],
        )
        # Once pseudonymised: no further change, no way back, text never.
        for query, value in (
            ("UPDATE sms_center_message SET sender = %s WHERE id = %s", OLD),
            (
                "UPDATE sms_center_message SET sender = %s WHERE id = %s",
                pseudonyms(cr, [own])[own],
            ),
            ("UPDATE sms_center_message SET pseudonymised_at = %s WHERE id = %s", None),
            ("UPDATE sms_center_message SET text = %s WHERE id = %s", "diubah"),
            ("UPDATE sms_center_message SET sender_key = %s WHERE id = %s", other),
        ):
            with (
                self.subTest(query=query),
                self.assertRaises(psycopg2.Error),
                mute_logger("odoo.sql_db"),
                cr.savepoint(),
            ):
                cr.execute(query, [value, message.id])
        message.invalidate_recordset()
        self.assertEqual(message.sudo().sender, own)
        self.assertEqual(message.text, "TDINKES obat habis")

    def test_orm_refuses_the_number_and_its_marks_too(self):
        message = self.receive("TDINKES obat habis", sender=OLD)
        for vals in (
            {"sender_e164": RECENT_E164},
            {"sender_key": "psn:1"},
            {"pseudonymised_at": "2020-01-01 00:00:00"},
        ):
            with self.subTest(vals=vals), self.assertRaises(Exception):
                message.with_user(self.user_admin).write(vals)


@tagged("post_install", "-at_install")
class TestRetention(PersonalDataCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Closed 25 months ago, answered: past the 24 months.
        cls.old = cls.Message.receive(OLD, "TDINKES obat di puskesmas habis")
        cls.old_ticket = cls.old.ticket_id
        # Closed 23 months ago: still kept.
        cls.recent = cls.Message.receive(RECENT, "TJALAN lubang di jalan desa")
        cls.recent_ticket = cls.recent.ticket_id
        # Never closed, received long ago: kept while open.
        cls.open = cls.Message.receive(
            OPEN, "TDINKES antrean panjang", received_at=cls.months_ago(30)
        )
        # Unknown keywords, no ticket: counted from reception.
        cls.unknown_old = cls.Message.receive(
            UNKNOWN_OLD, "HALO apa kabar", received_at=cls.months_ago(25)
        )
        cls.unknown_recent = cls.Message.receive(
            UNKNOWN_RECENT, "HALO lagi", received_at=cls.months_ago(23)
        )

    def setUp(self):
        super().setUp()
        self.old_reply = self.answer(self.old_ticket)
        self.close(self.old_ticket, 25)
        self.answer(self.recent_ticket, "Sudah kami catat.")
        self.close(self.recent_ticket, 23)

    def state(self):
        """What a run may change, to compare runs."""
        self.env.flush_all()
        cr = self.env.cr
        snapshot = {}
        for table, columns in (
            ("sms_center_message", "sender, sender_e164, sender_key, pseudonymised_at"),
            ("sms_center_reply", "number, body, sms_failure_reason"),
            ("res_partner", "mobile, phone, phone_sanitized, sms_center_number_key"),
            ("sms_sms", "number, sms_center_failure_reason, state"),
            ("mail_notification", "sms_number, failure_reason"),
            ("mail_message", "body"),
        ):
            cr.execute(f"SELECT id, {columns} FROM {table} ORDER BY id")  # noqa: S608
            snapshot[table] = cr.fetchall()
        return snapshot

    def test_only_records_past_the_period_are_pseudonymised(self):
        # The same citizen wrote again recently: that ticket and the contact
        # keep the number.
        again = self.receive("TJALAN jembatan rusak", sender=OLD)
        result = self.retention()
        self.assertEqual(result["messages"], 2, "the old ticket's SMS and one unknown")
        old = self.old.sudo()
        self.assertTrue(old.pseudonymised_at)
        self.assertEqual(old.sender, self.PersonalData._pseudonym(OLD_E164))
        self.assertEqual(old.sender_e164, old.sender)
        self.assertEqual(old.sender_masked, "0813****612", "the masked form stays")
        self.assertEqual(old.text, "TDINKES obat di puskesmas habis")
        self.assertTrue(pseudonym.is_pseudonym(self.old_reply.sudo().number))
        self.assertTrue(self.old_ticket.sms_number_pseudonymised)
        self.assertTrue(self.unknown_old.sudo().pseudonymised_at)
        for kept in (self.recent, self.open, self.unknown_recent, again):
            with self.subTest(message=kept.text):
                self.assertFalse(kept.pseudonymised_at)
                self.assertFalse(pseudonym.is_pseudonym(kept.sudo().sender))
        self.assertEqual(self.recent_ticket.sms_reply_ids.sudo().number, RECENT_E164)
        partner = self.old.partner_id.sudo()
        self.assertEqual(partner, again.partner_id)
        self.assertEqual(partner.mobile, OLD_E164, "still writing: contact kept")
        # Once the new ticket is closed long enough, the contact goes too.
        self.close(again.ticket_id, 25)
        self.retention()
        self.assertFalse(partner.mobile)
        self.assertFalse(partner.phone_sanitized)
        self.assertEqual(
            partner.sms_center_number_key, self.PersonalData._pseudonym(OLD_E164)
        )
        self.assertTrue(partner.sms_center_pseudonymised_at)
        self.assertIn("****", partner.name)
        # The recent citizen's contact is untouched.
        self.assertEqual(self.recent.partner_id.sudo().mobile, RECENT_E164)

    def test_answers_are_refused_once_the_number_is_gone(self):
        self.fail_sms(self.old_reply, "Gateway timeout")
        self.retention()
        with self.assertRaises(UserError):
            self.answer(self.old_ticket, "Masih ada?")
        with self.assertRaises(UserError):
            self.old_reply.with_user(self.user_health).action_resend()

    def test_twice_is_the_same_as_once(self):
        self.fail_sms(self.old_reply, f"Refused: {OLD_E164} is not reachable")
        self.retention()
        after_once = self.state()
        second = self.retention()
        self.assertEqual(second, {"messages": 0, "partners": 0, "logs": 0})
        self.assertEqual(self.state(), after_once)

    def test_zero_keeps_every_number(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "sms_center.retention_months", "0"
        )
        before = self.state()
        self.assertEqual(self.retention(), {})
        self.assertEqual(self.state(), before)

    def test_repeat_sender_counts_are_unchanged(self):
        # OLD wrote twice (one ticket past the period, one recent), OPEN once.
        self.receive("TJALAN jembatan rusak", sender=OLD)

        report = self.env["sms_center.report"]
        today = fields.Date.context_today(report)

        def counts():
            """Senders and repeat senders of the periodic report, and of the
            whole table; contacts."""
            self.env.flush_all()
            figures = report._sender_figures(
                today - timedelta(days=3), today + timedelta(days=3)
            )
            self.env.cr.execute(
                """SELECT count(DISTINCT sender_key),
                          (SELECT count(*) FROM (
                               SELECT sender_key FROM sms_center_message
                                WHERE sender_key IS NOT NULL
                                GROUP BY sender_key HAVING count(*) > 1) AS r),
                          count(DISTINCT partner_id)
                     FROM sms_center_message WHERE sender_key IS NOT NULL"""
            )
            return figures, self.env.cr.fetchone()

        before = counts()
        # OLD wrote twice in the report's period: one repeat sender at least.
        self.assertGreaterEqual(before[0]["repeat_senders"], 1)
        self.retention()
        self.assertTrue(self.old.sudo().pseudonymised_at)
        self.assertEqual(counts(), before)

    def test_no_digit_of_the_number_remains_anywhere(self):
        digits = "81377345612"
        # The number in the center's own texts, written in other forms.
        self.fail_sms(self.old_reply, "Gateway: nomor 0813-7734-5612 tidak aktif")
        self.old_ticket.message_post(
            body="Warga minta ditelepon di +62 813 7734 5612",
            subtype_xmlid="mail.mt_note",
        )
        gateway = self.env["sms_center.gateway"].create(
            {"name": "Old Kannel", "code": "t-old-kannel", "gateway_type": "kannel"}
        )
        # Stored before gateway errors were masked as they arrive.
        gateway.write({"last_error": f"HTTP 400 invalid destination {OLD_E164}"})
        gateway.message_post(body=f"Last error: invalid destination {OLD_E164}")
        self.env["sms_center.modem.part"].create(
            {
                "gateway_id": gateway.id,
                "raw_key": "t-old-part",
                "sender": OLD_E164,
                "text": "TDINKES obat",
                "first_seen_at": self.months_ago(26),
                "state": "error",
                "error": "unreadable",
            }
        )
        self.env["sms_center.modem.report"].create(
            {
                "gateway_id": gateway.id,
                "raw_key": "t-old-report",
                "recipient": "081377345612",
                "reference": 12,
                "status": "delivered",
                "first_seen_at": self.months_ago(26),
                "state": "applied",
                "sms_uuid": self.old_reply.sms_uuid,
            }
        )
        # A training simulator's phone (issue 9) got the answer, and the
        # outage log of issue 8 kept an error quoting the number.
        simulator = self.env["sms_center.gateway"].create(
            {
                "name": "Old training simulator",
                "code": "t-old-simulator",
                "gateway_type": "simulator",
                "simulator_numbers": "0812-7777-0001",
                "simulator_all_numbers": True,
            }
        )
        self.env["sms_center.simulator.message"].create(
            [
                {
                    "gateway_id": simulator.id,
                    "number": OLD_E164,
                    "direction": "out",
                    "origin": "answer",
                    "body": "Kami telepon ke 0813 7734 5612 besok.",
                    "sms_uuid": self.old_reply.sms_uuid,
                    "state": "delivered",
                },
                {
                    "gateway_id": simulator.id,
                    "number": OLD_E164,
                    "direction": "in",
                    "body": self.old.text,
                    "message_id": self.old.id,
                },
            ]
        )
        self.env["sms_center.gateway.outage"].create(
            {
                "gateway_id": gateway.id,
                "started_at": self.months_ago(26),
                "first_error": f"HTTP 400 invalid destination {OLD_E164}",
            }
        )
        self.env.flush_all()
        self.env.cr.execute(
            """UPDATE sms_center_gateway SET last_error_at = %(old)s WHERE id = %(id)s;
               UPDATE mail_message SET date = %(old)s
                WHERE model = 'sms_center.gateway' AND res_id = %(id)s""",
            {"old": self.months_ago(26), "id": gateway.id},
        )
        found = tables_holding(self.env.cr, digits)
        for place in (
            ("sms_center_simulator_message", "number"),
            ("sms_center_simulator_message", "body"),
            ("sms_center_gateway_outage", "first_error"),
        ):
            self.assertIn(place, found)
        self.retention()
        self.env.flush_all()
        self.assertEqual(tables_holding(self.env.cr, digits), {})
        # The simulated phone's copy of the citizen's SMS stays as typed.
        self.assertTrue(
            self.env["sms_center.simulator.message"].search(
                [("message_id", "=", self.old.id), ("body", "=", self.old.text)]
            )
        )
        # Other numbers are untouched.
        self.assertIn(
            ("sms_center_message", "sender_e164"),
            tables_holding(self.env.cr, RECENT_E164[3:]),
        )

    def test_a_backlog_is_done_in_batches(self):
        numbers = [f"08131000{i:04d}" for i in range(5)]
        for number in numbers:
            ticket = self.receive("TDINKES tanya", sender=number).ticket_id
            self.close(ticket, 30)
        first = self.PersonalData._cron_apply_retention(batch_size=2)
        self.assertEqual(first["messages"], 3, "2 tickets and the old unknown SMS")
        remaining = self.PersonalData._retention_remaining(
            self.PersonalData._retention_cutoff()
        )
        self.assertEqual(remaining, 4, "4 of the 5 new tickets left")
        while self.PersonalData._cron_apply_retention(batch_size=2)["messages"]:
            pass
        self.env.invalidate_all()
        for number in numbers:
            message = self.Message.search([("sender", "=", number)])
            self.assertFalse(message, "no SMS keeps the full number")


@tagged("post_install", "-at_install")
class TestRetentionConcurrency(TransactionCase):
    """Two workers on real, separate connections that commit: each SMS is
    pseudonymised once, neither fails nor waits for the other."""

    COUNT = 12

    def setUp(self):
        super().setUp()
        self.started = fields.Datetime.now()
        with closing(self.registry.cursor()) as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["ir.config_parameter"].set_param("sms_center.retention_months", "24")
            old = env["sms_center.personal.data"]._retention_cutoff()
            messages = env["sms_center.message"]
            for i in range(self.COUNT):
                messages |= env["sms_center.message"].receive(
                    f"08139900{i:04d}",
                    "TCONCURRENT halo",
                    received_at=old.replace(year=old.year - 1),
                )
            self.message_ids = messages.ids
            cr.commit()  # pylint: disable=invalid-commit
        self.addCleanup(self._clean)

    def _clean(self):
        with closing(self.registry.cursor()) as cr:
            ids = tuple(self.message_ids)
            cr.execute(
                """DELETE FROM sms_sms WHERE mail_message_id IN (
                       SELECT id FROM mail_message
                        WHERE model = 'sms_center.message' AND res_id IN %s)""",
                [ids],
            )
            cr.execute(
                """DELETE FROM mail_message
                    WHERE model = 'sms_center.message' AND res_id IN %s""",
                [ids],
            )
            cr.execute("DELETE FROM sms_center_message WHERE id IN %s", [ids])
            cr.execute(
                "DELETE FROM ir_cron_trigger WHERE create_date >= %s", [self.started]
            )
            cr.commit()  # pylint: disable=invalid-commit

    def test_two_workers_share_the_work(self):
        errors = []
        results = []
        barrier = threading.Barrier(2)

        def worker():
            try:
                with closing(self.registry.cursor()) as cr:
                    cr.transaction = api.Transaction(self.registry)
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    barrier.wait(timeout=10)
                    results.append(
                        env["sms_center.personal.data"]._cron_apply_retention(
                            batch_size=4
                        )
                    )
                    cr.commit()  # pylint: disable=invalid-commit
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        self.assertEqual(errors, [])
        done = sum(result.get("messages", 0) for result in results)
        # Each took a batch of 4 (or, when the other committed first, left
        # it for the next run): no SMS was taken twice.
        self.assertIn(done, (4, 8))
        with closing(self.registry.cursor()) as cr:
            cr.execute(
                """SELECT count(*) FILTER (WHERE pseudonymised_at IS NOT NULL),
                          count(*) FILTER (WHERE sender LIKE 'psn:%%')
                     FROM sms_center_message WHERE id IN %s""",
                [tuple(self.message_ids)],
            )
            self.assertEqual(cr.fetchone(), (done, done))
            env = api.Environment(cr, SUPERUSER_ID, {})
            while (
                env["sms_center.personal.data"]
                ._cron_apply_retention(batch_size=4)
                .get("messages")
            ):
                pass
            cr.execute(
                """SELECT count(*) FROM sms_center_message
                    WHERE id IN %s AND pseudonymised_at IS NULL""",
                [tuple(self.message_ids)],
            )
            self.assertEqual(cr.fetchone()[0], 0)
            cr.commit()  # pylint: disable=invalid-commit
