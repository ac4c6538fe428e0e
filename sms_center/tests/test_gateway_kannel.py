"""The Kannel gateway end to end: a real Kannel calls Odoo's real webhooks.

bearerbox, smsbox and fakesmsc (Debian ``kannel`` and ``kannel-extras``) run
on 127.0.0.1 with the ``kannel.conf`` of the documentation. fakesmsc plays
the operator: it injects citizens' SMS and receives the answers; its fake
SMSC driver produces the delivery reports. Kannel calls the webhooks of the
Odoo test server, which shares this test's transaction: the test thread
holds the test cursor's lock while it uses the database and releases it
while it waits, so that Kannel's requests run in between.
"""

import contextlib
import time
import unittest
import urllib.parse
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.tests import HttpCase, TransactionCase, tagged
from odoo.tools import file_open, mute_logger

from ..lib import gsm
from ..lib.kannel import KANNEL_CONF_EXAMPLE
from ..models.sms_center_gateway import _drop_sessions
from ..models.sms_center_message import SmsCenterMessage
from .common import SmsCenterCase
from .kannel_process import (
    ADMIN_PASSWORD,
    POST_QUERY,
    SENDSMS_PASSWORD,
    SENDSMS_USER,
    SERVICE_NUMBER,
    KannelProcess,
    join_parts,
    missing_binaries,
)

CONTROLLER_LOGGER = "odoo.addons.sms_center.controllers.gateway_webhooks"


def udh_concat(ref, count, number):
    """Concatenation UDH (8-bit reference), percent-encoded for fakesmsc."""
    return "".join(f"%{b:02X}" for b in (5, 0, 3, ref, count, number))


def percent(data):
    return "".join(f"%{b:02X}" for b in data)


def split_parts(text, size):
    """Cut ``text`` in parts of at most ``size`` characters, never next to a
    space (fakesmsc's line format would lose it)."""
    parts = []
    while len(text) > size:
        cut = size
        while text[cut - 1] == " " or text[cut] == " ":
            cut -= 1
        parts.append(text[:cut])
        text = text[cut:]
    return [*parts, text]


@unittest.skipIf(missing_binaries(), missing_binaries() or "")
class KannelCase(SmsCenterCase, HttpCase):
    gateway_code = "t-kannel-e2e"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Start from an empty queue (the demo data leaves some SMS queued).
        cls.env["sms.sms"].search([("state", "in", ("outgoing", "process"))]).write(
            {"to_delete": True}
        )
        # These tests follow answers SMS by SMS; the receipts have their own
        # test (TestKannelCitizenSide), which turns them back on.
        cls.env["ir.config_parameter"].sudo().set_param(
            "sms_center.receipt_enabled", False
        )
        cls.gateway = cls.env["sms_center.gateway"].create(
            {
                "name": "Test Kannel",
                "code": cls.gateway_code,
                "gateway_type": "kannel",
                "kannel_username": SENDSMS_USER,
                "kannel_password": SENDSMS_PASSWORD,
                "default_sender_id": SERVICE_NUMBER,
                "receiving_numbers": SERVICE_NUMBER,
                "max_attempts": 2,
            }
        )
        cls.addClassCleanup(_drop_sessions, [cls.gateway.id])
        cls.kannel = cls.start_kannel(cls.gateway)
        cls.gateway.write(
            {
                "kannel_sendsms_url": cls.kannel.sendsms_url,
                "kannel_admin_url": cls.kannel.admin_url,
                "kannel_admin_password": ADMIN_PASSWORD,
            }
        )
        cls.env.flush_all()

    @classmethod
    def start_kannel(cls, gateway, **kwargs):
        """A Kannel calling ``gateway``'s webhooks; stopped after the class."""
        kannel = KannelProcess(gateway.sudo().inbound_url, **kwargs)
        kannel.start()
        # Cleanups run last-in first-out: Kannel stops before the registry
        # leaves test mode, so no late call of it reaches a real cursor.
        cls.addClassCleanup(kannel.stop)
        return kannel

    def setUp(self):
        super().setUp()
        # Kannel's calls run in Odoo's request threads on this test's
        # cursor: they wait while this thread holds the lock.
        self.lock = self.registry.test_lock
        self.lock.acquire()
        self.addCleanup(self.lock.release)

    @contextlib.contextmanager
    def unlocked(self):
        """Let Kannel's pending calls use the test cursor meanwhile."""
        self.env.flush_all()
        self.lock.release()
        try:
            yield
        finally:
            self.lock.acquire()
            self.env.invalidate_all()

    def wait_for(self, check, what, timeout=30):
        """Run ``check`` until it returns something truthy."""
        deadline = time.monotonic() + timeout
        while True:
            self.env.invalidate_all()
            result = check()
            if result:
                return result
            if time.monotonic() > deadline:
                self.fail(f"timed out waiting for {what}")
            with self.unlocked():
                time.sleep(0.1)

    def messages(self, count=1):
        """Wait for ``count`` SMS stored by the webhook, then run the inbound
        router as the scheduler would right after."""

        def check():
            found = self.env["sms_center.message"].search(
                [("gateway_id", "=", self.gateway.id)], order="id"
            )
            return found if len(found) >= count else None

        found = self.wait_for(check, f"{count} inbound SMS")
        self.env["sms_center.message"]._cron_route_inbound()
        self.env.invalidate_all()
        return found

    def answer(self, body, text="TDINKES obat habis di puskesmas Wanadadi"):
        ticket = self.receive(text).ticket_id
        self.env["sms_center.reply.wizard"].with_user(self.user_health).create(
            {"ticket_id": ticket.id, "body": body}
        ).action_send()
        reply = ticket.sms_reply_ids[:1]
        return reply, self.env["sms.sms"].search([("uuid", "=", reply.sms_uuid)])

    def outbound(self, count):
        with self.unlocked():
            return self.kannel.outbound(count)


@tagged("post_install", "-at_install")
class TestKannelInbound(KannelCase):
    def test_gsm_text(self):
        self.kannel.inject(
            f"{self.citizen_e164} {SERVICE_NUMBER} text TDINKES jalan rusak {{€}} ñ"
        )
        message = self.messages()
        self.assertEqual(message.text, "TDINKES jalan rusak {€} ñ")
        self.assertEqual(message.sudo().sender_e164, self.citizen_e164)
        self.assertEqual(message.recipient, SERVICE_NUMBER)
        self.assertEqual(len(message.gateway_message_id), 36)  # Kannel's %I
        self.assertEqual(message.keyword_id, self.kw_health)
        self.assertEqual(message.state, "routed")
        self.assertTrue(message.ticket_id)
        self.assertEqual(message.ticket_id.team_id, self.team_health)
        self.assertTrue(self.gateway.last_success_at)
        # max-messages = 0: Kannel never answers the citizen by itself.
        with self.unlocked():
            self.assertTrue(self.kannel.no_more_outbound(wait=1.0))

    def test_unicode_emoji(self):
        text = "TJALAN banjir 🌊 di desa 🙏 ñ"
        self.kannel.inject(
            f"{self.citizen_e164} {SERVICE_NUMBER} ucs2 "
            + percent(text.encode("utf-16-be"))
        )
        message = self.messages()
        self.assertEqual(message.text, text)
        self.assertEqual(message.keyword_id, self.kw_roads)

    def test_concatenated_message_arrives_whole(self):
        words = [f"kata{i}" for i in range(80)]
        text = "TDINKES " + " ".join(words)
        parts = split_parts(text, 150)
        self.assertEqual(len(parts), 4)
        for number, part in enumerate(parts, start=1):
            self.kannel.inject(
                f"{self.citizen_e164} {SERVICE_NUMBER} udh-text "
                f"{udh_concat(0x2A, len(parts), number)} {part}"
            )
        message = self.messages()
        self.assertEqual(message.text, text)
        self.assertEqual(len(message.ticket_id), 1)

    def test_redelivery_of_the_same_kannel_id_creates_nothing(self):
        """Odoo fails once: Kannel delivers again (same %I), the SMS is
        stored once; a repeated call of that id is acknowledged and ignored."""
        calls = []
        original = SmsCenterMessage._trigger_router

        def wake_failing_once(model, *args, **kwargs):
            calls.append(1)
            if len(calls) == 1:
                raise RuntimeError("database hiccup")
            return original(model, *args, **kwargs)

        with (
            patch.object(SmsCenterMessage, "_trigger_router", wake_failing_once),
            mute_logger(CONTROLLER_LOGGER),
        ):
            self.kannel.inject(
                f"{self.citizen_e164} {SERVICE_NUMBER} text TDINKES puskesmas tutup"
            )
            message = self.messages()
        self.assertEqual(len(calls), 2, "answered 503, then retried by Kannel")
        self.assertEqual(message.text, "TDINKES puskesmas tutup")
        params = {
            "from": self.citizen_e164,
            "to": SERVICE_NUMBER,
            "text": "TDINKES puskesmas tutup",
            "id": message.gateway_message_id,
        }
        with self.unlocked():
            answer = self.opener.get(
                self.gateway.sudo().inbound_url + "?" + urllib.parse.urlencode(params),
                timeout=30,
            )
        self.assertEqual(answer.status_code, 200)
        self.env.invalidate_all()
        with self.unlocked():
            time.sleep(1.5)  # any further retry by Kannel
        self.assertEqual(
            self.env["sms_center.message"].search_count(
                [("gateway_id", "=", self.gateway.id)]
            ),
            1,
        )

    def test_post_url_variant(self):
        """post-url (documented for long messages): the text is the body."""
        kannel = self.start_kannel(self.gateway, post=True)
        text = "TJALAN jembatan 🌉 putus, " + " ".join(f"rumah{i}" for i in range(40))
        parts = split_parts(text, 120)
        for number, part in enumerate(parts, start=1):
            kannel.inject(
                f"{self.citizen_e164} {SERVICE_NUMBER} udh-text "
                f"{udh_concat(0x31, len(parts), number)} {part}"
            )
        message = self.messages()
        self.assertEqual(message.text, text)
        self.assertEqual(message.keyword_id, self.kw_roads)


@tagged("post_install", "-at_install")
class TestKannelOutbound(KannelCase):
    def send_queue(self):
        self.env["sms.sms"]._sms_center_process_queue()
        self.env.invalidate_all()

    def test_answer_sent_then_delivered(self):
        body = "Terima kasih, obat sudah dikirim ke puskesmas."
        reply, sms = self.answer(body)
        self.send_queue()
        self.assertEqual(sms.state, "pending")
        self.assertEqual(reply.sms_state, "sent")
        self.assertFalse(reply.sms_delivered)
        [line] = self.outbound(1)
        self.assertEqual(line.kind, "text")
        self.assertEqual(line.sender, "DINKES")  # the officer's sender ID
        self.assertEqual(line.receiver, self.citizen_e164)
        self.assertEqual(line.data.decode(), body)
        # fakesmsc's SMSC reports "accepted" (8), then "delivered" (1).
        self.wait_for(lambda: reply.sms_delivered, "the delivery report")
        self.assertEqual(reply.sms_state, "sent")
        self.assertEqual(sms.state, "sent")
        self.assertTrue(sms.to_delete, "Odoo may clean the queue row up")
        self.assertTrue(self.gateway._check_kannel_status())

    def test_long_unicode_answer_in_parts(self):
        body = "Mohon maaf 🙏 " + " ".join(f"jawaban{i}" for i in range(16))
        measured = gsm.measure(body)
        self.assertEqual((measured.encoding, measured.parts), ("ucs2", 3))
        reply, sms = self.answer(body)
        self.assertEqual(reply.parts, 3)
        self.send_queue()
        lines = self.outbound(3)
        self.assertEqual({line.kind for line in lines}, {"udh"})
        concat = [line.concat for line in lines]
        self.assertEqual(len({c[0] for c in concat}), 1, "one concatenation ref")
        self.assertEqual(sorted(c[1] for c in concat), [1, 2, 3])
        self.assertEqual(join_parts(lines, "utf-16-be"), body)
        self.wait_for(lambda: reply.sms_delivered, "the delivery report")

    def test_long_gsm_answer_in_parts(self):
        body = "Jawaban: " + " ".join(f"kalimat{i}" for i in range(60))
        self.assertEqual(gsm.measure(body).parts, 4)
        reply, _sms = self.answer(body)
        self.send_queue()
        lines = self.outbound(4)
        self.assertEqual(join_parts(lines, "utf-8"), body)
        self.wait_for(lambda: reply.sms_delivered, "the delivery report")


@tagged("post_install", "-at_install")
class TestKannelCitizenSide(KannelCase):
    """R17 through a real gateway: an SMS in, its receipt out with the code;
    CEK with that code in, the status out."""

    gateway_code = "t-kannel-citizen"

    def send_queue(self):
        self.env["sms.sms"]._sms_center_process_queue()
        self.env.invalidate_all()

    def test_receipt_then_cek_with_its_code(self):
        ICP = self.env["ir.config_parameter"].sudo()
        ICP.set_param("sms_center.receipt_enabled", "True")
        ICP.set_param("sms_center.citizen_lang", "id_ID")
        self.kannel.inject(
            f"{self.citizen_e164} {SERVICE_NUMBER} text TDINKES obat di puskesmas "
            "Bawang habis"
        )
        message = self.messages()
        ticket = message.ticket_id
        reference = ticket.sms_reference
        self.assertTrue(reference)
        self.assertEqual(message.auto_reply_kind, "receipt")
        self.send_queue()
        [receipt] = self.outbound(1)
        self.assertEqual(receipt.receiver, self.citizen_e164)
        self.assertEqual(receipt.sender, SERVICE_NUMBER, "the citizen can answer it")
        text = receipt.data.decode()
        self.assertEqual(text, message.auto_reply_body)
        self.assertIn(f"#{reference}", text)
        self.assertIn("Jawaban paling lambat", text)
        self.assertEqual(gsm.measure(text).parts, 1)
        self.wait_for(lambda: message.sms_delivered, "the receipt's delivery report")
        # The citizen asks with the code, typed their own way.
        self.kannel.inject(
            f"{self.citizen_e164} {SERVICE_NUMBER} text cek #{reference.lower()}"
        )
        cek = self.messages(2)[-1]
        self.assertEqual(cek.state, "status")
        self.assertFalse(cek.ticket_id)
        self.send_queue()
        [status] = self.outbound(1)
        self.assertEqual(status.receiver, self.citizen_e164)
        text = status.data.decode()
        self.assertEqual(text, cek.auto_reply_body)
        self.assertIn(f"#{reference}", text)
        self.assertIn("menunggu jawaban", text)
        self.assertEqual(gsm.measure(text).parts, 1)
        self.wait_for(lambda: cek.sms_delivered, "the status's delivery report")
        # Still one ticket: CEK created none.
        self.assertEqual(
            self.env["helpdesk.ticket"].search_count(
                [("sms_message_ids.gateway_id", "=", self.gateway.id)]
            ),
            1,
        )


@tagged("post_install", "-at_install")
class TestKannelOutage(KannelCase):
    gateway_code = "t-kannel-down"

    def test_kannel_down_retry_fail_and_alert(self):
        self.kannel.kill("bearerbox")  # smsbox goes with it
        reply, sms = self.answer("Jawaban saat Kannel mati")
        self.env["sms.sms"]._sms_center_process_queue()
        self.env.invalidate_all()
        self.assertEqual(sms.state, "outgoing")
        self.assertEqual(sms.sms_center_attempts, 1)
        self.assertIn("cannot connect", sms.sms_center_failure_reason)
        self.assertGreater(sms.sms_center_next_attempt, fields.Datetime.now())
        self.assertEqual(reply.sms_state, "pending")
        self.assertTrue(self.gateway.failing_since)
        self.assertIn("cannot connect", self.gateway.last_error)
        # Last attempt (max_attempts = 2): failed, with the reason.
        sms.sms_center_next_attempt = fields.Datetime.now() - timedelta(hours=1)
        self.env["sms.sms"]._sms_center_process_queue()
        self.env.invalidate_all()
        self.assertEqual(sms.state, "error")
        self.assertEqual(sms.sms_center_attempts, 2)
        self.assertIn("Refused by Test Kannel", sms.sms_center_failure_reason)
        self.assertEqual(reply.sms_state, "failed")
        self.assertIn("cannot connect", reply.sms_failure_reason)
        # The errors quote the sendsms URL without its query string: no
        # password, no citizen's number (hidden from officers) in them.
        for stored in (
            sms.sms_center_failure_reason,
            reply.sms_failure_reason,
            self.gateway.last_error,
        ):
            self.assertIn("/cgi-bin/sendsms?…", stored)
            self.assertNotIn(SENDSMS_PASSWORD, stored)
            self.assertNotIn("6281298765432", stored)
        # Administrators are alerted once the gateway failed long enough.
        Activity = self.env["mail.activity"]
        domain = [
            ("res_model", "=", "sms_center.gateway"),
            ("res_id", "=", self.gateway.id),
        ]
        self.env["sms_center.gateway"]._cron_check_health()
        self.assertFalse(Activity.search(domain), "not failing long enough yet")
        self.gateway.failing_since = fields.Datetime.now() - timedelta(minutes=20)
        self.env["sms_center.gateway"]._cron_check_health()
        activities = Activity.search(domain)
        self.assertIn(self.user_admin, activities.user_id)
        self.assertNotIn(self.user_health, activities.user_id)
        self.assertIn("is down", activities[0].summary)
        self.assertTrue(self.gateway.alert_sent_at)
        self.assertIn("Kannel status unreachable", self.gateway.last_error)
        self.assertNotIn(ADMIN_PASSWORD, self.gateway.last_error)
        self.assertEqual(self.gateway.health_state, "down")
        self.env["sms_center.gateway"]._cron_check_health()
        self.assertEqual(Activity.search(domain), activities, "alerted once")


@tagged("post_install", "-at_install")
class TestKannelDocumentation(TransactionCase):
    def test_readme_shows_the_tested_configuration(self):
        """The administrator documentation shows the very kannel.conf the
        tests run Kannel with, and the tested post-url variant."""
        with file_open("sms_center/readme/GATEWAYS_KANNEL_HTTP.md") as readme:
            text = readme.read()
        block = text.split("- `/etc/kannel/kannel.conf`:\n\n  ```\n", 1)[1]
        block = block.split("\n  ```\n", 1)[0]
        shown = "\n".join(line.removeprefix("  ") for line in block.split("\n"))
        self.assertEqual(shown, KANNEL_CONF_EXAMPLE.rstrip("\n"))
        self.assertIn(
            'post-url = "https://<odoo host>/sms_center/kannel/<gateway token>'
            f'/inbound?{POST_QUERY}"',
            text,
        )
