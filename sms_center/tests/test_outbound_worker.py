"""The outbound worker against a real HTTP gateway on 127.0.0.1 (no mocks).

A ``http.server`` thread plays a JSON SMS API: it counts TCP connections,
records every request and answers as told (accept, refuse, fail, or answer
too late). Concurrency tests use real, separate database connections and
real commits, and clean up what they committed.
"""

import json
import logging
import threading
import time
from contextlib import closing
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest.mock import patch

import requests

from odoo import SUPERUSER_ID, api, fields
from odoo.tests import TransactionCase, tagged
from odoo.tests.common import _super_send

from odoo.addons.sms.tools.sms_api import SmsApi

from ..lib.dlr import DlrEvent
from ..models import sms_sms as sms_module
from ..models.sms_center_gateway import _drop_sessions
from .common import SmsCenterCase

_logger = logging.getLogger(__name__)
GATEWAY_CODE = "t-worker-api"


class ApiServer:
    """A JSON SMS API on 127.0.0.1; ``mode`` says how it answers:

    ``ok`` (200 with an id), ``slow`` (answers after ``slow_seconds``),
    ``busy`` (503), ``refuse`` (400).
    """

    def __init__(self):
        self.mode = "ok"
        self.slow_seconds = 1.5
        self.delay = 0.0
        self.connections = 0
        self.requests = []
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body leave in two writes: without TCP_NODELAY the
            # body waits for the client's delayed ACK (40 ms per request).
            disable_nagle_algorithm = True

            def setup(self):
                with owner.lock:
                    owner.connections += 1
                return super().setup()

            def do_POST(self):  # noqa: N802 - http.server naming
                length = int(self.headers.get("Content-Length") or 0)
                payload = json.loads(self.rfile.read(length) or b"{}")
                with owner.lock:
                    owner.requests.append(payload)
                    number = len(owner.requests)
                mode = owner.mode
                if owner.delay:
                    time.sleep(owner.delay)
                if mode == "slow":
                    time.sleep(owner.slow_seconds)
                status, body = {
                    "ok": (200, {"id": f"api-{number}", "status": "queued"}),
                    "slow": (200, {"id": f"api-{number}", "status": "queued"}),
                    "busy": (503, {"error": "try later"}),
                    "refuse": (400, {"error": "invalid number"}),
                }[mode]
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    _logger.debug("the client gave up waiting")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/send"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def refs(self):
        with self.lock:
            return [request["ref"] for request in self.requests]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def gateway_vals(server, **values):
    config = {
        "method": "POST",
        "body_type": "json",
        "body_template": {
            "to": "{number}",
            "text": "{text}",
            "from": "{sender}",
            "ref": "{ref}",
            "callback": "{dlr_url}",
        },
        "success_status_codes": [200],
        "message_id_json_path": "id",
        "timeout": 0.5,
    }
    return {
        "name": "Test JSON API",
        "code": GATEWAY_CODE,
        "gateway_type": "http",
        "http_preset": "custom",
        "http_url": server.url,
        "http_config": json.dumps(config),
        "default_sender_id": "PEMKAB",
        "max_attempts": 3,
        "retry_delay_seconds": 60,
        **values,
    }


class WorkerCase(SmsCenterCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = ApiServer()
        cls.addClassCleanup(cls.server.stop)
        cls.gateway = cls.env["sms_center.gateway"].create(gateway_vals(cls.server))
        cls.addClassCleanup(_drop_sessions, [cls.gateway.id])
        cls.cron = cls.env.ref("sms_center.ir_cron_sms_center_outbound")
        # Start from an empty queue (the demo data leaves some SMS queued).
        cls.env["sms.sms"].search([("state", "in", ("outgoing", "process"))]).write(
            {"to_delete": True}
        )
        # The worker is followed SMS by SMS with answers only; receipts go
        # through the same queue (test_citizen_sms, test_gateway_kannel).
        cls.env["ir.config_parameter"].sudo().set_param(
            "sms_center.receipt_enabled", False
        )

    def setUp(self):
        super().setUp()
        self.server.mode = "ok"
        with self.server.lock:
            self.server.requests.clear()
            self.server.connections = 0
        _drop_sessions([self.gateway.id])

    def answer(self, body="Terima kasih, sudah kami tindak lanjuti.", text=None):
        """An officer's answer, queued: (reply, sms.sms)."""
        ticket = self.receive(text or "TDINKES obat habis di puskesmas").ticket_id
        self.env["sms_center.reply.wizard"].with_user(self.user_health).create(
            {"ticket_id": ticket.id, "body": body}
        ).action_send()
        reply = ticket.sms_reply_ids[:1]
        return reply, self.env["sms.sms"].search([("uuid", "=", reply.sms_uuid)])

    def run_worker(self):
        self.env["sms.sms"]._sms_center_process_queue()
        self.env.invalidate_all()


@tagged("post_install", "-at_install")
class TestOutboundWorker(WorkerCase):
    def outbound_triggers(self):
        return self.env["ir.cron.trigger"].search([("cron_id", "=", self.cron.id)])

    def test_scheduled_run_stops_after_its_time_budget(self):
        """A scheduled run gives the cron thread back (to the inbound
        router) after its time budget and wakes itself to go on."""
        answers = [self.answer(f"Jawaban nomor {i}") for i in range(5)]
        self.server.delay = 0.2
        before = self.outbound_triggers()
        with (
            patch.object(sms_module, "SEND_TIME_BUDGET", 0.1),
            patch.object(sms_module, "SEND_FIRST_ROUND", 2),
        ):
            self.env["sms.sms"].with_context(
                cron_id=self.cron.id
            )._sms_center_process_queue()
        self.env.invalidate_all()
        self.assertEqual(len(self.server.requests), 2, "one round of 2")
        states = [sms.state for _reply, sms in answers]
        self.assertEqual(states, ["pending"] * 2 + ["outgoing"] * 3)
        new = self.outbound_triggers() - before
        self.assertTrue(new, "woken again")
        self.assertLessEqual(max(new.mapped("call_at")), fields.Datetime.now())
        # Outside the scheduler (and on the next run): no budget, all sent.
        self.server.delay = 0.0
        self.run_worker()
        self.assertEqual(len(self.server.requests), 5)
        self.assertEqual({sms.state for _reply, sms in answers}, {"pending"})

    def test_rounds_fit_the_time_left(self):
        """After its first round the worker claims as many SMS as the time
        left allows at the pace of the previous round."""
        [self.answer(f"Jawaban nomor {i}") for i in range(12)]
        self.server.delay = 0.05
        claims = []
        claim = type(self.env["sms.sms"])._sms_center_claim

        def counting_claim(records, gateways, limit=None):
            claims.append(limit)
            return claim(records, gateways, limit=limit)

        with (
            patch.object(sms_module, "SEND_FIRST_ROUND", 2),
            patch.object(
                type(self.env["sms.sms"]), "_sms_center_claim", counting_claim
            ),
        ):
            self.env["sms.sms"]._sms_center_process_queue(time_budget=30)
        self.assertEqual(len(self.server.requests), 12)
        self.assertEqual(claims[0], 2)
        self.assertGreater(claims[1], 2, "the next round is sized on the pace")

    def test_batch_uses_one_keep_alive_connection(self):
        answers = [self.answer(f"Jawaban nomor {i}") for i in range(5)]
        self.run_worker()
        self.assertEqual(self.server.connections, 1)
        self.assertEqual(
            self.server.refs(), [sms.uuid for _reply, sms in answers], "one by one"
        )
        first = self.server.requests[0]
        self.assertEqual(first["to"], self.citizen_e164)
        self.assertEqual(first["text"], "Jawaban nomor 0")
        self.assertEqual(first["from"], "DINKES")
        self.assertEqual(
            first["callback"], f"{self.gateway.sudo().dlr_url}?ref={first['ref']}"
        )
        for number, (reply, sms) in enumerate(answers, start=1):
            self.assertEqual(sms.state, "pending")
            self.assertEqual(sms.sms_center_gateway_ref, f"api-{number}")
            self.assertEqual(sms.sms_center_attempts, 1)
            self.assertEqual(reply.sms_state, "sent")
            self.assertEqual(reply.sms_gateway_ref, f"api-{number}")
        self.assertTrue(self.gateway.last_success_at)
        # The next round reuses the same connection: recording the gateway's
        # health does not reset its keep-alive session.
        more = [self.answer(f"Jawaban lagi {i}") for i in range(3)]
        self.run_worker()
        self.assertEqual(len(self.server.requests), 8)
        self.assertEqual(self.server.connections, 1)
        self.assertTrue(all(sms.state == "pending" for _reply, sms in more))

    def test_timeout_is_uncertain_and_never_retried(self):
        reply, sms = self.answer()
        self.server.mode = "slow"
        # Odoo's test harness raises HTTP timeouts under 10 s to 10 s; this
        # test needs the gateway's real 0.5 s against the local server.
        with patch.object(requests.sessions.Session, "send", _super_send):
            self.run_worker()
        self.assertEqual(len(self.server.requests), 1)
        self.assertEqual(sms.state, "error")
        self.assertEqual(sms.failure_type, "sms_server")
        self.assertIn("may have been sent", sms.sms_center_failure_reason)
        self.assertIn("timeout", sms.sms_center_failure_reason)
        self.assertEqual(reply.sms_state, "failed")
        self.assertIn("Not retried automatically", reply.sms_failure_reason)
        self.server.mode = "ok"
        sms.sms_center_next_attempt = fields.Datetime.now() - timedelta(hours=1)
        self.run_worker()
        self.assertEqual(len(self.server.requests), 1, "never sent twice")
        self.assertEqual(sms.state, "error")

    def test_temporary_failures_back_off_then_fail(self):
        reply, sms = self.answer()
        self.server.mode = "busy"
        before = fields.Datetime.now()
        self.run_worker()
        self.assertEqual(sms.state, "outgoing")
        self.assertEqual(sms.sms_center_attempts, 1)
        self.assertIn("Attempt 1 failed, retrying: 503", sms.sms_center_failure_reason)
        delay = sms.sms_center_next_attempt - before
        self.assertTrue(timedelta(seconds=59) <= delay <= timedelta(seconds=62))
        self.assertEqual(reply.sms_state, "pending")
        self.assertTrue(self.gateway.failing_since)
        self.assertIn("503", self.gateway.last_error)
        trigger = self.env["ir.cron.trigger"].search(
            [("cron_id", "=", self.cron.id)], order="call_at desc", limit=1
        )
        self.assertEqual(trigger.call_at, sms.sms_center_next_attempt)
        # Not due yet: nothing is sent.
        self.run_worker()
        self.assertEqual(len(self.server.requests), 1)
        # Second attempt: the delay doubles.
        # Due (the claim compares with the transaction start, the test's).
        sms.sms_center_next_attempt = fields.Datetime.now() - timedelta(hours=1)
        before = fields.Datetime.now()
        self.run_worker()
        self.assertEqual(sms.sms_center_attempts, 2)
        delay = sms.sms_center_next_attempt - before
        self.assertTrue(timedelta(seconds=119) <= delay <= timedelta(seconds=122))
        # Third and last attempt (max_attempts = 3): failed with the reason.
        # Due (the claim compares with the transaction start, the test's).
        sms.sms_center_next_attempt = fields.Datetime.now() - timedelta(hours=1)
        self.run_worker()
        self.assertEqual(len(self.server.requests), 3)
        self.assertEqual(sms.state, "error")
        self.assertIn("Refused by Test JSON API: 503", sms.sms_center_failure_reason)
        self.assertEqual(reply.sms_state, "failed")
        self.assertIn("503", reply.sms_failure_reason)
        # Then the gateway works again: health recovers, answers go out.
        self.server.mode = "ok"
        _reply2, sms2 = self.answer("Jawaban berikutnya")
        self.run_worker()
        self.assertEqual(sms2.state, "pending")
        self.assertFalse(self.gateway.failing_since)

    def test_permanent_refusal_fails_at_once(self):
        reply, sms = self.answer()
        self.server.mode = "refuse"
        self.run_worker()
        self.assertEqual(len(self.server.requests), 1)
        self.assertEqual(sms.state, "error")
        self.assertEqual(sms.sms_center_attempts, 1)
        self.assertIn("invalid number", sms.sms_center_failure_reason)
        self.assertEqual(reply.sms_state, "failed")

    def test_sms_interrupted_by_a_crash_is_failed_not_resent(self):
        reply, sms = self.answer()
        _reply2, recent = self.answer("Jawaban lain")
        long_ago = fields.Datetime.now() - timedelta(minutes=20)
        sms.write(
            {
                "state": "process",
                "sms_center_gateway_id": self.gateway.id,
                "sms_center_attempts": 1,
                "sms_center_processing_since": long_ago,
            }
        )
        # Another worker is handing this one over right now: not touched.
        recent.write(
            {
                "state": "process",
                "sms_center_gateway_id": self.gateway.id,
                "sms_center_processing_since": fields.Datetime.now(),
            }
        )
        self.run_worker()
        self.assertEqual(self.server.requests, [])
        self.assertEqual(sms.state, "error")
        self.assertIn("interrupted", sms.sms_center_failure_reason)
        self.assertEqual(reply.sms_state, "failed")
        self.assertIn("interrupted", reply.sms_failure_reason)
        self.assertEqual(recent.state, "process")

    def test_status_kept_after_odoo_cleans_sms_rows_up(self):
        reply, sms = self.answer()
        self.run_worker()
        self.assertEqual(sms.state, "pending")
        uuid, gateway_ref = sms.uuid, sms.sms_center_gateway_ref
        sms.unlink()
        Sms = self.env["sms.sms"]
        self.assertTrue(
            Sms._sms_center_apply_dlr(
                self.gateway, DlrEvent(ref=None, status="pending", gateway_ref="x")
            )
            is False
        )
        # Matched by the gateway's id alone, then by our reference.
        self.assertTrue(
            Sms._sms_center_apply_dlr(
                self.gateway,
                DlrEvent(ref=None, status="delivered", gateway_ref=gateway_ref),
            )
        )
        self.assertTrue(reply.sms_delivered)
        self.assertEqual(reply.sms_state, "sent")
        Sms._sms_center_apply_dlr(self.gateway, DlrEvent(ref=uuid, status="pending"))
        self.assertTrue(reply.sms_delivered, "a late pending report changes nothing")


@tagged("post_install", "-at_install")
class TestProviderHooks(WorkerCase):
    """Odoo's own entry points only queue once a center gateway sends.

    Odoo 18.0 builds before the 2025 SMS provider backport call
    ``sms.sms._send`` from ``send()`` directly; later ones go through
    ``_split_by_api`` first. The center overrides ``_send`` and
    ``_process_queue``, which both builds have.
    """

    def cron_triggers(self):
        return self.env["ir.cron.trigger"].search([("cron_id", "=", self.cron.id)])

    def test_public_send_only_queues(self):
        # Odoo's IAP sender exists on both builds; it must never be reached.
        iap_blocked = patch.object(
            SmsApi, "_send_sms_batch", side_effect=AssertionError("IAP sender called")
        )
        iap_blocked.start()
        self.addCleanup(iap_blocked.stop)
        _reply, sms = self.answer()
        before = self.cron_triggers()
        sms.send()
        self.assertEqual(sms.state, "outgoing")
        self.assertFalse(sms.to_delete)
        self.assertEqual(self.server.requests, [], "nothing sent in the transaction")
        self.assertTrue(self.cron_triggers() - before, "the worker is woken up")
        # What send() does on builds without the provider hooks.
        before = self.cron_triggers()
        sms._send()
        self.assertEqual(sms.state, "outgoing")
        self.assertEqual(self.server.requests, [])
        self.assertTrue(self.cron_triggers() - before)
        # Odoo's immediate sending from a chatter: queued as well.
        partner = self.env["res.partner"].create({"name": "Warga", "phone": "+628123"})
        partner._message_sms("Halo", sms_numbers=["+6281311112222"])
        posted = self.env["sms.sms"].search([("number", "=", "+6281311112222")])
        self.assertEqual(posted.state, "outgoing")
        self.assertEqual(self.server.requests, [])
        # Odoo's own queue cron hands over to the center worker.
        self.env["sms.sms"]._process_queue()
        self.env.invalidate_all()
        self.assertEqual(sms.state, "pending")
        self.assertEqual(posted.state, "pending")
        self.assertEqual(len(self.server.requests), 2)


@tagged("post_install", "-at_install")
class TestWorkerConcurrency(TransactionCase):
    """Real concurrent transactions: separate connections, real commits.

    The commits (flagged for pylint) are on connections of the test's own,
    which is the point: workers and webhooks commit concurrently in
    production. Everything committed is deleted again in a cleanup.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = ApiServer()
        cls.addClassCleanup(cls.server.stop)

    def setUp(self):
        super().setUp()
        self.started = fields.Datetime.now()
        with closing(self.registry.cursor()) as cr:
            # The workers below see committed data only; SMS queued by the
            # demo data are set aside for the test and put back afterwards.
            cr.execute(
                """UPDATE sms_sms SET to_delete = TRUE
                    WHERE state IN ('outgoing', 'process')
                      AND NOT COALESCE(to_delete, FALSE)
                RETURNING id"""
            )
            self.set_aside = [row[0] for row in cr.fetchall()]
            env = api.Environment(cr, SUPERUSER_ID, {})
            self.gateway_id = (
                env["sms_center.gateway"]
                .create(gateway_vals(self.server, code="t-worker-concurrency"))
                .id
            )
            cr.commit()  # pylint: disable=invalid-commit
        self.addCleanup(self._clean_committed_data)
        self.addCleanup(_drop_sessions, [self.gateway_id])

    def _clean_committed_data(self):
        with closing(self.registry.cursor()) as cr:
            cr.execute(
                "DELETE FROM sms_sms WHERE sms_center_gateway_id = %s",
                [self.gateway_id],
            )
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["sms_center.gateway"].browse(self.gateway_id).unlink()
            cron = env.ref("sms_center.ir_cron_sms_center_outbound")
            env["ir.cron.trigger"].search(
                [("cron_id", "=", cron.id), ("create_date", ">=", self.started)]
            ).unlink()
            if self.set_aside:
                cr.execute(
                    "UPDATE sms_sms SET to_delete = FALSE WHERE id IN %s",
                    [tuple(self.set_aside)],
                )
            cr.commit()  # pylint: disable=invalid-commit

    def committed_sms(self, count):
        with closing(self.registry.cursor()) as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            sms = env["sms.sms"].create(
                [
                    {
                        "number": f"+62812000{i:05d}",
                        "body": f"Pesan {i}",
                        "state": "outgoing",
                        "sms_center_gateway_id": self.gateway_id,
                    }
                    for i in range(count)
                ]
            )
            cr.commit()  # pylint: disable=invalid-commit
            return sms.ids

    def test_two_claims_never_take_the_same_sms(self):
        ids = self.committed_sms(10)
        with (
            closing(self.registry.cursor()) as cr_a,
            closing(self.registry.cursor()) as cr_b,
        ):
            env_a = api.Environment(cr_a, SUPERUSER_ID, {})
            env_b = api.Environment(cr_b, SUPERUSER_ID, {})
            gateway_a = env_a["sms_center.gateway"].browse(self.gateway_id)
            gateway_b = env_b["sms_center.gateway"].browse(self.gateway_id)
            # Commits are skipped under tests: A keeps its rows locked, as a
            # worker does between its SELECT ... FOR UPDATE and its COMMIT.
            claimed_a = env_a["sms.sms"]._sms_center_claim(gateway_a, limit=6)
            claimed_b = env_b["sms.sms"]._sms_center_claim(gateway_b, limit=10)
            self.assertEqual(len(claimed_a), 6)
            self.assertEqual(len(claimed_b), 4, "B skipped A's locked rows")
            self.assertFalse(set(claimed_a.ids) & set(claimed_b.ids))
            self.assertEqual(sorted(claimed_a.ids + claimed_b.ids), sorted(ids))
            cr_a.commit()  # pylint: disable=invalid-commit
            cr_b.rollback()  # B crashed before handing its batch over
        with closing(self.registry.cursor()) as cr_c:
            env_c = api.Environment(cr_c, SUPERUSER_ID, {})
            gateway_c = env_c["sms_center.gateway"].browse(self.gateway_id)
            claimed_c = env_c["sms.sms"]._sms_center_claim(gateway_c, limit=10)
            self.assertEqual(sorted(claimed_c.ids), sorted(claimed_b.ids))
            cr_c.rollback()

    def test_two_workers_send_each_sms_exactly_once(self):
        """Two complete workers in two threads, committing for real."""
        count = 40
        ids = self.committed_sms(count)
        with closing(self.registry.cursor()) as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["sms_center.gateway"].browse(self.gateway_id).batch_size = 4
            uuids = set(env["sms.sms"].browse(ids).mapped("uuid"))
            cr.commit()  # pylint: disable=invalid-commit
        self.server.delay = 0.01
        self.addCleanup(setattr, self.server, "delay", 0.0)
        errors = []
        barrier = threading.Barrier(2)

        def worker():
            try:
                with closing(self.registry.cursor()) as cr:
                    # Environment() would look the registry up, which the
                    # test runner keeps locked: give the cursor its own.
                    cr.transaction = api.Transaction(self.registry)
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    barrier.wait(timeout=10)
                    env["sms.sms"]._sms_center_process_queue()
                    cr.commit()  # pylint: disable=invalid-commit
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        self.assertEqual(errors, [])
        refs = self.server.refs()
        self.assertEqual(len(refs), count, "each SMS sent once")
        self.assertEqual(set(refs), uuids)
        with closing(self.registry.cursor()) as cr:
            cr.execute(
                "SELECT state, count(*) FROM sms_sms WHERE id IN %s GROUP BY 1",
                [tuple(ids)],
            )
            self.assertEqual(dict(cr.fetchall()), {"pending": count})
            cr.execute(
                "SELECT last_success_at IS NOT NULL, failing_since FROM"
                " sms_center_gateway WHERE id = %s",
                [self.gateway_id],
            )
            self.assertEqual(cr.fetchone(), (True, None))

    def test_health_reports_never_wait_nor_fail(self):
        """Webhooks and workers report health on the same gateway row at the
        same time: a report that would wait for another transaction's lock,
        or conflict with a change committed since the transaction began, is
        skipped instead of blocking or failing the whole transaction."""
        with (
            closing(self.registry.cursor()) as cr_a,
            closing(self.registry.cursor()) as cr_b,
        ):
            env_a = api.Environment(cr_a, SUPERUSER_ID, {})
            env_b = api.Environment(cr_b, SUPERUSER_ID, {})
            gateway_a = env_a["sms_center.gateway"].browse(self.gateway_id)
            gateway_b = env_b["sms_center.gateway"].browse(self.gateway_id)
            cr_b.execute("SELECT 1")  # B's snapshot starts here
            gateway_a._note_error("connection refused")
            env_a.flush_all()  # A holds the row lock
            start = time.monotonic()
            self.assertFalse(gateway_b._write_health({"last_error": "other"}))
            self.assertLess(time.monotonic() - start, 2, "did not wait")
            cr_a.commit()  # pylint: disable=invalid-commit
            # A's change is newer than B's snapshot: B cannot write the row,
            # but its transaction goes on.
            gateway_b._note_success()
            env_b.flush_all()
            cr_b.execute(
                "SELECT failing_since FROM sms_center_gateway WHERE id = %s",
                [self.gateway_id],
            )
            self.assertTrue(cr_b.fetchone()[0] is None, "B's snapshot predates A")
            cr_b.commit()  # pylint: disable=invalid-commit
        with closing(self.registry.cursor()) as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            gateway = env["sms_center.gateway"].browse(self.gateway_id)
            self.assertEqual(gateway.last_error, "connection refused")
            self.assertTrue(gateway.failing_since)
            # Alone, a success is recorded, then not rewritten for a minute.
            gateway._note_success()
            self.assertFalse(gateway.failing_since)
            self.assertTrue(gateway.last_success_at)
            recently = fields.Datetime.now() - timedelta(seconds=30)
            gateway.last_success_at = recently
            gateway._note_success()
            self.assertEqual(gateway.last_success_at, recently)
            gateway.last_success_at = recently - timedelta(seconds=31)
            gateway._note_success()
            self.assertGreater(gateway.last_success_at, recently)
            cr.commit()  # pylint: disable=invalid-commit
