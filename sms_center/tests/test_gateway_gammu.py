"""The modem worker against Gammu's real ``dummy`` driver (no modem mocks).

Inbound SMS and delivery reports are injected as Gammu backup files in the
dummy phone's folders; what the worker sent is read back from Gammu's debug
log (the dummy driver stores nothing on SendSMS and always answers message
reference 255, so every part of every SMS sent here has reference 255:
matching then relies on the recipient number and on the most recent SMS
with a part still waiting for its report).
"""

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock, skipIf

from psycopg2 import errors as pg_errors

from odoo import fields
from odoo.exceptions import AccessError
from odoo.sql_db import db_connect
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..lib import gammu_modem
from ..lib.gammu_modem import GammuModem, ModemError
from ..lib.multipart import reassemble
from ..models import sms_center_gateway_gammu as worker
from .common import SmsCenterCase
from .gammu_dummy import PHONE_INBOX, DummyPhone

AT = datetime(2024, 5, 1, 3, 0, 5, tzinfo=UTC)
CENTER_NUMBER = "+6281227000000"
MODEM_IO = (
    "open",
    "close",
    "read_all",
    "delete",
    "delete_status_report",
    "send",
    "status",
)


@tagged("post_install", "-at_install")
@skipIf(gammu_modem.gammu is None, "python-gammu is not installed")
class TestGatewayGammu(SmsCenterCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Gateway = cls.env["sms_center.gateway"]
        cls.Part = cls.env["sms_center.modem.part"]
        cls.Report = cls.env["sms_center.modem.report"]
        cls.Sms = cls.env["sms.sms"]
        # Only the test modem sends, and only the SMS of the test (the demo
        # data has queued ones).
        cls.Gateway.search([]).write({"outbound_enabled": False})
        cls.Sms.search([("state", "in", ("outgoing", "process"))]).write(
            {"to_delete": True}
        )
        # The modem is followed SMS by SMS with answers only; receipts go
        # through the same queue (test_citizen_sms, test_gateway_kannel).
        cls.env["ir.config_parameter"].sudo().set_param(
            "sms_center.receipt_enabled", False
        )

    def setUp(self):
        super().setUp()
        root = tempfile.mkdtemp(prefix="sms_center_gammu_")
        self.addCleanup(shutil.rmtree, root, True)
        self.phone = DummyPhone(root)
        self.env["ir.config_parameter"].sudo().set_param(
            "sms_center.modem_dir", f"{root}/work"
        )
        self.gateway = self.Gateway.create(
            {
                "name": "Test modem",
                "code": "gtest_modem",
                "gateway_type": "gammu",
                "receiving_numbers": CENTER_NUMBER,
                "gammu_device": str(self.phone.device),
                "gammu_connection": "none",
                "gammu_model": "dummy",
                "gammu_debug": True,
                "gammu_multipart_timeout": 10,
                "retry_delay_seconds": 60,
            }
        )
        # Gammu logs what it sends here; the dummy phone reads it back.
        self.phone.debug_log = Path(self.gateway._gammu_debug_path())
        self.assertEqual(self.gateway.gammu_debug_path, str(self.phone.debug_log))

    # -- helpers ---------------------------------------------------------

    def poll(self, route=True):
        """One poll of the modems; then, as the scheduler does right after
        (the poll woke it), the inbound router."""
        self.Gateway._cron_poll_modems()
        if route:
            self.Message._cron_route_inbound()
        self.env.invalidate_all()

    def messages(self):
        return self.Message.search([("gateway_id", "=", self.gateway.id)], order="id")

    def parts(self):
        return self.Part.search([("gateway_id", "=", self.gateway.id)], order="id")

    def reply(self, ticket, body, user=None):
        wizard = (
            self.env["sms_center.reply.wizard"]
            .with_user(user or self.user_health)
            .create({"ticket_id": ticket.id, "body": body})
        )
        wizard.action_send()
        reply = ticket.sms_reply_ids.sorted("id")[-1]
        return reply, self.Sms.search([("uuid", "=", reply.sms_uuid)])

    def modem_session(self):
        settings = self.gateway._gammu_settings()
        os.makedirs(os.path.dirname(settings["lock_path"]), exist_ok=True)
        return GammuModem(settings["config"], settings["lock_path"])

    def age_parts(self, minutes):
        self.env.flush_all()
        self.env.cr.execute(
            """UPDATE sms_center_modem_part
                  SET first_seen_at = first_seen_at - %s * interval '1 minute'
                WHERE gateway_id = %s AND state = 'pending'""",
            [minutes, self.gateway.id],
        )
        self.env.invalidate_all()

    # -- inbound ---------------------------------------------------------

    def test_single_sms_becomes_ticket_and_leaves_the_modem(self):
        self.phone.inject_sms(self.citizen_e164, "TDINKES obat habis di puskesmas", AT)
        self.poll()
        message = self.messages()
        self.assertEqual(len(message), 1)
        self.assertEqual(message.text, "TDINKES obat habis di puskesmas")
        self.assertEqual(message.keyword_id, self.kw_health)
        self.assertEqual(message.state, "routed")
        self.assertTrue(message.ticket_id)
        self.assertEqual(message.ticket_id.user_id, self.user_health)
        self.assertEqual(message.received_at, datetime(2024, 5, 1, 3, 0, 5))
        self.assertEqual(message.recipient, CENTER_NUMBER)
        self.assertEqual(message.sudo().sender_e164, self.citizen_e164)
        self.assertEqual(self.phone.stored_files(), [])
        part = self.parts()
        self.assertEqual((part.state, part.message_id), ("done", message))
        self.assertEqual(message.gateway_message_id[:4], "msg-")
        # Health from the modem itself.
        gateway = self.gateway
        self.assertTrue(gateway.last_success_at)
        self.assertFalse(gateway.failing_since)
        self.assertEqual(gateway.health_state, "ok")
        self.assertEqual(gateway.signal_percent, 42)
        self.assertEqual(gateway.battery_percent, 100)
        self.assertEqual(gateway.network_name, "GammuT3l")
        # Polling again changes nothing.
        self.poll()
        self.assertEqual(self.messages(), message)

    def test_multipart_in_one_poll(self):
        texts = [
            "TJALAN Jalan di desa kami rusak ",
            "parah sejak bulan lalu, ",
            "mohon.",
        ]
        self.phone.inject_multipart(self.citizen_e164, texts, ref=42, at=AT)
        self.poll()
        message = self.messages()
        self.assertEqual(len(message), 1)
        self.assertEqual(message.text, "".join(texts))
        self.assertEqual(message.keyword_id, self.kw_roads)
        self.assertEqual(self.parts().mapped("state"), ["done"] * 3)
        self.assertEqual(self.parts().message_id, message)
        self.assertEqual(self.phone.stored_files(), [])

    def test_multipart_split_across_two_polls(self):
        texts = ["TDINKES Halo pak, ", "lampu puskesmas mati."]
        self.phone.inject_multipart(self.citizen_e164, texts, ref=7, at=AT, only={1})
        self.poll()
        self.assertFalse(self.messages())
        self.assertEqual(self.parts().mapped("state"), ["pending"])
        self.assertEqual(self.gateway.gammu_waiting_part_count, 1)
        self.assertEqual(self.phone.stored_files(), [])

        self.phone.inject_multipart(
            self.citizen_e164, texts, ref=7, at=AT, only={2}, folder=PHONE_INBOX
        )
        self.poll()
        message = self.messages()
        self.assertEqual(len(message), 1)
        self.assertEqual(message.text, "".join(texts))
        self.assertEqual(self.parts().mapped("state"), ["done", "done"])
        self.assertEqual(self.gateway.gammu_waiting_part_count, 0)

    def test_incomplete_multipart_delivered_after_the_timeout(self):
        texts = ["TDINKES bagian satu ", "bagian dua ", "bagian tiga"]
        self.phone.inject_multipart(
            self.citizen_e164, texts, ref=99, at=AT, only={1, 3}
        )
        self.poll()
        self.assertFalse(self.messages())
        self.age_parts(9)
        self.poll()
        self.assertFalse(self.messages(), "the wait (10 minutes) is not over")
        self.age_parts(2)
        # Delivered even while the modem cannot be opened.
        self.gateway.gammu_device = f"{self.phone.root}/unplugged"
        self.poll()
        message = self.messages()
        self.assertEqual(len(message), 1)
        self.assertEqual(message.text, "TDINKES bagian satu […]bagian tiga")
        self.assertEqual(message.keyword_id, self.kw_health)
        self.assertEqual(self.parts().mapped("state"), ["done", "done"])
        self.assertTrue(self.gateway.failing_since)

    def test_unicode_and_emoji(self):
        single = "TDINKES Terima kasih 🙏😀 — ñ ü 中文"
        self.phone.inject_sms(self.citizen_e164, single, AT, folder=PHONE_INBOX)
        texts = ["TJALAN Jalan rusak 🚧 di ", "depan pasar 🙏"]
        self.phone.inject_multipart("+6285712345678", texts, ref=3, at=AT)
        self.poll()
        self.assertEqual(
            sorted(self.messages().mapped("text")), sorted([single, "".join(texts)])
        )

    def test_crash_between_save_and_delete_gives_one_message(self):
        self.phone.inject_sms(self.citizen_e164, "TDINKES sekali saja", AT)
        self.phone.inject_multipart(
            "+6285712345678", ["TJALAN satu ", "dua"], ref=5, at=AT
        )
        # Steps 1-2 of a poll, then the process dies: nothing deleted.
        with self.modem_session() as modem:
            parts, _reports = modem.read_all()
        stored = self.Part._store(
            self.gateway, [part for _location, part in parts], fields.Datetime.now()
        )
        self.assertEqual(stored, 3)
        self.assertEqual(len(self.phone.stored_files()), 3)
        # The next poll reads them again, saves nothing twice, deletes them.
        self.poll()
        self.assertEqual(len(self.parts()), 3)
        self.assertEqual(
            sorted(self.messages().mapped("text")),
            ["TDINKES sekali saja", "TJALAN satu dua"],
        )
        self.assertEqual(self.phone.stored_files(), [])

    def test_crash_after_store_before_parts_marked_gives_no_duplicate(self):
        self.phone.inject_sms(self.citizen_e164, "TDINKES jangan dobel", AT)
        # Steps 1-4 and the store() of step 5 went through, then the
        # process died before the parts were marked done.
        with self.modem_session() as modem:
            parts, _reports = modem.read_all()
            self.Part._store(
                self.gateway, [part for _loc, part in parts], fields.Datetime.now()
            )
            for location, part in parts:
                modem.delete(location, raw_key=part.raw_key)
        [message], _waiting = reassemble(
            [part for _loc, part in parts], datetime.now(UTC), 600
        )
        first = self.Message.store(
            message.sender,
            message.text,
            gateway=self.gateway,
            gateway_message_id=message.message_key,
        )
        self.assertEqual(self.parts().state, "pending")
        self.poll()
        self.assertEqual(self.messages(), first)
        self.assertEqual(self.parts().state, "done")
        self.assertEqual(self.parts().message_id, first)
        self.assertEqual(len(first.ticket_id), 1)

    def test_undeliverable_part_does_not_block_the_others(self):
        self.phone.inject_sms("", "tanpa pengirim", AT)
        self.phone.inject_sms(self.citizen_e164, "TDINKES normal", AT)
        with mute_logger(worker.__name__):
            self.poll()
        self.assertEqual(self.messages().mapped("text"), ["TDINKES normal"])
        bad = self.parts().filtered(lambda p: p.state == "error")
        self.assertEqual(bad.text, "tanpa pengirim")
        self.assertTrue(bad.error)
        self.poll()  # not retried forever, nothing new
        self.assertEqual(len(self.messages()), 1)

    def test_unexpected_error_on_one_message_retries_it_later(self):
        self.phone.inject_sms(self.citizen_e164, "TDINKES gagal dulu", AT)
        self.phone.inject_sms("+6285712345678", "TJALAN lancar", AT)
        Message = type(self.Message)
        original = Message.store

        def flaky(model, sender, text, *args, **kwargs):
            if "gagal" in text:
                raise RuntimeError("could not serialize access")
            return original(model, sender, text, *args, **kwargs)

        with (
            mock.patch.object(Message, "store", flaky),
            mute_logger(worker.__name__),
        ):
            self.poll()
        self.assertEqual(self.messages().mapped("text"), ["TJALAN lancar"])
        self.assertEqual(sorted(self.parts().mapped("state")), ["done", "pending"])
        self.assertFalse(self.gateway.failing_since)
        self.poll()
        self.assertEqual(
            sorted(self.messages().mapped("text")),
            ["TDINKES gagal dulu", "TJALAN lancar"],
        )

    # -- outbound --------------------------------------------------------

    def test_answer_sent_as_multipart_ucs2_through_the_modem(self):
        self.gateway.gammu_smsc = "+6281100000"
        ticket = self.receive("TDINKES jadwal posyandu?").ticket_id
        body = "Posyandu buka Senin 🙏 pukul 08.00 di balai desa. " * 3
        reply, sms = self.reply(ticket, body)
        self.assertEqual(sms.state, "outgoing")
        self.poll()
        self.assertEqual(sms.sms_center_gateway_id, self.gateway)
        self.assertEqual(sms.state, "pending")
        self.assertEqual(sms.sms_center_attempts, 1)
        self.assertEqual(sms.sms_center_gateway_ref, "255,255,255")
        self.assertEqual(reply.sms_state, "sent")
        self.assertFalse(reply.sms_delivered)
        sent = self.phone.sent_parts()
        self.assertEqual(len(sent), 3)
        self.assertEqual({p.recipient for p in sent}, {self.citizen_e164})
        self.assertEqual({p.coding for p in sent}, {"ucs2"})
        self.assertEqual({p.smsc for p in sent}, {"+6281100000"})
        self.assertEqual([p.concat[1:] for p in sent], [(1, 3), (2, 3), (3, 3)])
        self.assertEqual(len({p.concat[0] for p in sent}), 1)
        self.assertEqual("".join(p.text for p in sent), body.strip())
        # Not sent again by the next poll.
        self.poll()
        self.assertEqual(self.phone.sent_parts(), [])
        self.assertEqual(sms.sms_center_attempts, 1)

    def test_unknown_keyword_auto_reply_leaves_at_the_poll_the_router_wakes(self):
        self.phone.inject_sms(self.citizen_e164, "HALO apa kabar", AT)
        self.poll(route=False)
        message = self.messages()
        self.assertEqual(message.state, "to_route", "stored, routed right after")
        self.assertEqual(self.phone.stored_files(), [], "off the modem already")
        poll_cron = self.env.ref("sms_center.ir_cron_sms_center_gammu_poll")
        Trigger = self.env["ir.cron.trigger"]
        triggers = Trigger.search([("cron_id", "=", poll_cron.id)])
        self.Message._cron_route_inbound()
        self.assertEqual(message.state, "unknown")
        self.assertEqual(message.sms_state, "pending")
        self.assertTrue(
            Trigger.search([("cron_id", "=", poll_cron.id)]) - triggers,
            "the router wakes the modem worker for its answer",
        )
        self.poll()
        self.assertEqual(message.sms_state, "sent")
        [sent] = self.phone.sent_parts()
        self.assertEqual(sent.recipient, self.citizen_e164)
        self.assertEqual(sent.text, message.auto_reply_body)

    def test_delivery_report_marks_the_answer_delivered(self):
        ticket = self.receive("TDINKES tanya").ticket_id
        reply, sms = self.reply(ticket, "Jawaban singkat.")
        self.poll()
        self.assertEqual(sms.sms_center_gateway_ref, "255")
        # A report for another number is not taken for ours.
        self.phone.inject_status_report("+6285799999999", 255, 0x00, at=AT)
        # Modems often give the number in national form.
        self.phone.inject_status_report("081298765432", 255, 0x00, at=AT)
        self.poll()
        self.assertEqual(sms.state, "sent")
        self.assertTrue(reply.sms_delivered)
        self.assertEqual(reply.sms_state, "sent")
        reports = self.Report.search([("gateway_id", "=", self.gateway.id)])
        self.assertEqual(
            sorted(reports.mapped("state")), ["applied", "unmatched"], reports
        )
        self.assertEqual(
            reports.filtered(lambda r: r.state == "applied").sms_uuid, sms.uuid
        )
        self.assertEqual(self.phone.stored_files(), [])
        # Read again after a crash before the delete: applied once only.
        self.phone.inject_status_report("081298765432", 255, 0x00, at=AT)
        self.poll()
        self.assertEqual(
            len(self.Report.search([("gateway_id", "=", self.gateway.id)])), 2
        )

    def test_multipart_answer_is_delivered_when_every_part_is(self):
        ticket = self.receive("TDINKES tanya panjang").ticket_id
        reply, sms = self.reply(ticket, "x" * 200)
        self.poll()
        self.assertEqual(sms.sms_center_gateway_ref, "255,255")
        self.phone.inject_status_report(self.citizen_e164, 255, 0x00, at=AT)
        self.poll()
        self.assertEqual(sms.state, "pending")
        self.assertFalse(reply.sms_delivered)
        # SMSC still trying for part 2: still pending.
        self.phone.inject_status_report(
            self.citizen_e164, 255, 0x21, at=AT + timedelta(seconds=1)
        )
        self.poll()
        self.assertEqual(sms.state, "pending")
        self.phone.inject_status_report(
            self.citizen_e164, 255, 0x00, at=AT + timedelta(seconds=2)
        )
        self.poll()
        self.assertEqual(sms.state, "sent")
        self.assertTrue(reply.sms_delivered)

    def test_failed_report_fails_the_answer_with_its_reason(self):
        ticket = self.receive("TDINKES tanya").ticket_id
        reply, sms = self.reply(ticket, "Jawaban yang tidak sampai.")
        self.poll()
        self.phone.inject_status_report(self.citizen_e164, 255, 0x46, at=AT)
        self.poll()
        self.assertEqual(sms.state, "error")
        self.assertEqual(sms.failure_type, "sms_not_delivered")
        self.assertEqual(reply.sms_state, "failed")
        self.assertEqual(reply.sms_failure_reason, "validity period expired")

    def test_modem_unavailable_is_a_temporary_failure_with_back_off(self):
        # A serial modem that is not plugged in.
        self.gateway.write(
            {
                "gammu_device": "/nonexistent/ttyUSB9",
                "gammu_connection": "at",
                "gammu_model": False,
            }
        )
        ticket = self.receive("TDINKES tanya").ticket_id
        reply, sms = self.reply(ticket, "Jawaban.")
        before = fields.Datetime.now()
        self.poll()
        self.assertEqual(sms.state, "outgoing")
        self.assertEqual(sms.sms_center_attempts, 1)
        self.assertGreaterEqual(sms.sms_center_next_attempt, before)
        self.assertIn("ERR_DEVICENOTEXIST", sms.sms_center_failure_reason)
        self.assertEqual(reply.sms_state, "pending")
        gateway = self.gateway
        self.assertTrue(gateway.failing_since)
        self.assertIn("ERR_DEVICENOTEXIST", gateway.last_error)
        self.assertEqual(gateway.health_state, "failing")
        # Not due yet: the next poll leaves it alone.
        self.poll()
        self.assertEqual(sms.sms_center_attempts, 1)
        # The modem is back and the retry is due: sent, healthy again.
        gateway.write(
            {
                "gammu_device": str(self.phone.device),
                "gammu_connection": "none",
                "gammu_model": "dummy",
            }
        )
        sms.sms_center_next_attempt = fields.Datetime.now() - timedelta(minutes=1)
        self.poll()
        self.assertEqual(sms.state, "pending")
        self.assertEqual(sms.sms_center_attempts, 2)
        self.assertFalse(gateway.failing_since)
        self.assertEqual(len(self.phone.sent_parts()), 1)

    def test_partial_send_is_never_retried(self):
        ticket = self.receive("TDINKES tanya").ticket_id
        _reply, sms = self.reply(ticket, "y" * 300)
        failure = ModemError(
            "Sending part 2/2 failed: timeout (ERR_TIMEOUT)",
            temporary=True,
            code="ERR_TIMEOUT",
            sent_references=[17],
        )
        with mock.patch.object(GammuModem, "send", side_effect=failure):
            self.poll()
        self.assertEqual(sms.state, "error")
        self.assertIn("may have been sent", sms.sms_center_failure_reason)
        self.assertIn("1 part(s) had been sent", sms.sms_center_failure_reason)
        self.poll()
        self.assertEqual(sms.state, "error")
        self.assertEqual(self.phone.sent_parts(), [])

    def test_sms_interrupted_mid_send_is_not_sent_again(self):
        ticket = self.receive("TDINKES tanya").ticket_id
        reply, sms = self.reply(ticket, "Jawaban yang terputus.")
        # A poll claimed it, then Odoo was killed while the modem sent it.
        sms.write(
            {
                "sms_center_gateway_id": self.gateway.id,
                "state": "process",
                "sms_center_attempts": 1,
                "sms_center_processing_since": fields.Datetime.now()
                - timedelta(minutes=20),
            }
        )
        with mute_logger("odoo.addons.sms_center.models.sms_sms"):
            self.poll()
        self.assertEqual(sms.state, "error")
        self.assertIn("interrupted", sms.sms_center_failure_reason)
        self.assertEqual(reply.sms_state, "failed")
        self.assertEqual(self.phone.sent_parts(), [])

    def test_concurrent_update_is_resumed_at_the_next_poll(self):
        self.phone.inject_sms(self.citizen_e164, "TDINKES saat sibuk", AT)
        ticket = self.receive("TDINKES tanya").ticket_id
        _reply, sms = self.reply(ticket, "Jawaban.")
        conflict = pg_errors.SerializationFailure("could not serialize access")
        with mock.patch.object(
            type(self.Sms), "_sms_center_route_new", side_effect=conflict
        ):
            self.poll()  # no error logged, the gateway is not failing
        self.assertEqual(len(self.messages()), 1)
        self.assertEqual(sms.state, "outgoing")
        self.assertFalse(self.gateway.failing_since)
        self.poll()
        self.assertEqual(sms.state, "pending")

    def test_modem_write_error_requeues_and_stops_sending(self):
        ticket = self.receive("TDINKES tanya").ticket_id
        _reply, first = self.reply(ticket, "Jawaban satu.")
        _reply, second = self.reply(ticket, "Jawaban dua.")
        failure = ModemError(
            "Sending part 1/1 failed (ERR_DEVICEWRITEERROR)",
            temporary=True,
            code="ERR_DEVICEWRITEERROR",
        )
        with mock.patch.object(GammuModem, "send", side_effect=failure) as send:
            self.poll()
        self.assertEqual(send.call_count, 1)
        self.assertEqual((first.state, first.sms_center_attempts), ("outgoing", 1))
        self.assertTrue(first.sms_center_next_attempt)
        self.assertEqual((second.state, second.sms_center_attempts), ("outgoing", 0))
        self.assertTrue(self.gateway.failing_since)

    # -- locks -----------------------------------------------------------

    def test_device_lock_held_by_another_process(self):
        self.phone.inject_sms(self.citizen_e164, "TDINKES tunggu giliran", AT)
        lock_path = self.gateway._gammu_lock_path()
        holder = subprocess.Popen(
            [
                sys.executable,
                "-c",
                textwrap.dedent(
                    f"""
                    import fcntl, os, sys
                    os.makedirs(os.path.dirname({lock_path!r}), exist_ok=True)
                    f = open({lock_path!r}, "a")
                    fcntl.flock(f, fcntl.LOCK_EX)
                    print("locked", flush=True)
                    sys.stdin.read()
                    """
                ),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            self.assertEqual(holder.stdout.readline().strip(), "locked")
            self.poll()  # a fresh gateway: skipped quietly
            self.assertFalse(self.messages())
            self.assertEqual(len(self.phone.stored_files()), 1)
            self.assertFalse(self.gateway.failing_since)
            # Still held long after the last success: reported.
            self.gateway.last_success_at = fields.Datetime.now() - timedelta(hours=1)
            self.poll()
            self.assertTrue(self.gateway.failing_since)
            self.assertIn("another process", self.gateway.last_error)
        finally:
            holder.stdin.close()
            holder.wait(timeout=10)
        self.poll()
        self.assertEqual(len(self.messages()), 1)
        self.assertFalse(self.gateway.failing_since)

    def test_database_lock_held_by_another_worker(self):
        self.phone.inject_sms(self.citizen_e164, "TDINKES satu poller", AT)
        with db_connect(self.env.cr.dbname).cursor() as other:
            other.execute(
                "SELECT pg_advisory_lock(%s, %s)",
                [worker.ADVISORY_LOCK_NAMESPACE, self.gateway.id],
            )
            self.assertFalse(self.gateway._gammu_poll())
            self.assertFalse(self.messages())
            self.assertEqual(len(self.phone.stored_files()), 1)
            other.execute(
                "SELECT pg_advisory_unlock(%s, %s)",
                [worker.ADVISORY_LOCK_NAMESPACE, self.gateway.id],
            )
        self.assertTrue(self.gateway._gammu_poll())
        self.assertEqual(len(self.messages()), 1)
        # The poll released its own lock.
        with db_connect(self.env.cr.dbname).cursor() as other:
            other.execute(
                "SELECT pg_try_advisory_lock(%s, %s)",
                [worker.ADVISORY_LOCK_NAMESPACE, self.gateway.id],
            )
            self.assertTrue(other.fetchone()[0])
            other.execute("SELECT pg_advisory_unlock_all()")

    def test_device_lock_is_per_device(self):
        twin = self.gateway.copy({"code": "gtest_twin", "name": "Same modem"})
        self.assertEqual(twin._gammu_lock_path(), self.gateway._gammu_lock_path())
        self.assertEqual(twin.gammu_lock_file, self.gateway._gammu_lock_path())
        self.assertTrue(twin.gammu_lock_file.startswith(f"{self.phone.root}/work/"))
        self.assertNotEqual(twin._gammu_debug_path(), self.gateway._gammu_debug_path())
        twin.gammu_device = f"{self.phone.root}/other"
        self.assertNotEqual(twin._gammu_lock_path(), self.gateway._gammu_lock_path())

    # -- no modem I/O in requests or transactions -----------------------------

    def test_buttons_never_open_the_modem(self):
        admin_gateway = self.gateway.with_user(self.user_admin)
        with mock.patch.object(
            GammuModem, "open", side_effect=AssertionError("modem opened")
        ) as modem_open:
            action = admin_gateway.action_open_test_sms()
            wizard = (
                self.env["sms_center.gateway.test"]
                .with_user(self.user_admin)
                .with_context(**action["context"])
                .create({"number": "0812-9876-5432", "body": "Tes modem"})
            )
            wizard.action_send()
            admin_gateway.action_gammu_poll_now()
        modem_open.assert_not_called()
        sms = self.Sms.search([("sms_center_gateway_id", "=", self.gateway.id)])
        self.assertEqual(len(sms), 1)
        self.assertEqual(sms.state, "outgoing")
        self.assertEqual(sms.number, self.citizen_e164)
        cron = self.env.ref("sms_center.ir_cron_sms_center_gammu_poll")
        self.assertTrue(self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]))
        # The scheduler sends it.
        self.poll()
        self.assertEqual(sms.state, "pending")
        self.assertEqual(self.phone.sent_parts()[0].text, "Tes modem")

    def test_poll_now_is_for_administrators(self):
        with self.assertRaises(AccessError):
            self.gateway.with_user(self.user_health).action_gammu_poll_now()

    def test_no_transaction_is_open_while_the_modem_works(self):
        """Every modem call comes right after a commit, with no query since
        (under tests commits are no-ops: they are recorded instead)."""
        ticket = self.receive("TDINKES tanya").ticket_id
        self.reply(ticket, "Jawaban pertama.")
        self.poll()
        self.phone.inject_sms(self.citizen_e164, "TDINKES lagi", AT)
        self.phone.inject_status_report(self.citizen_e164, 255, 0x00, at=AT)
        self.reply(ticket, "Jawaban kedua.")
        cr = self.env.cr
        events = []

        def fake_commit(model):
            model.env.flush_all()
            events.append(("commit", cr.sql_log_count))
            # A real commit also empties the cache: reading a field after it
            # would run a query.
            model.env.invalidate_all()

        class RecordingModem(GammuModem):
            pass

        def recording(name):
            original = getattr(GammuModem, name)

            def method(modem, *args, **kwargs):
                events.append((name, cr.sql_log_count))
                return original(modem, *args, **kwargs)

            return method

        for name in MODEM_IO:
            setattr(RecordingModem, name, recording(name))
        with (
            mock.patch.object(worker, "GammuModem", RecordingModem),
            mock.patch.object(type(self.Sms), "_sms_center_commit", fake_commit),
        ):
            self.poll()
        names = [name for name, _count in events]
        for name in ("open", "read_all", "delete", "delete_status_report", "send"):
            self.assertIn(name, names)
        last_commit = None
        for name, count in events:
            if name == "commit":
                last_commit = count
                continue
            self.assertIsNotNone(last_commit, f"{name} before any commit")
            self.assertEqual(
                count, last_commit, f"query between a commit and modem {name}"
            )
        self.assertEqual(len(self.messages()), 1)
