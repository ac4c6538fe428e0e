"""Webhooks of the Kannel and generic HTTP gateways, called over real HTTP.

The requests go through Odoo's own HTTP server (``HttpCase``), as a gateway
would call them: authentication, size limit, malformed payloads, status
codes, acknowledgement bodies, signatures (Twilio-style and HMAC-SHA256) and
the delivery-status mapping of the Jasmin and Twilio-style presets.
"""

import hashlib
import hmac
import json
import logging
import urllib.parse
from unittest.mock import patch

import psycopg2.errors
import requests

from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from ..controllers.gateway_webhooks import MAX_BODY_BYTES
from ..lib.http_gateway import twilio_signature
from ..models.sms_center_message import SmsCenterMessage
from .common import SmsCenterCase

CONTROLLER_LOGGER = "odoo.addons.sms_center.controllers.gateway_webhooks"
TWILIO_TOKEN = "twilio-auth-token"
HMAC_SECRET = "json-hmac-secret"
CUSTOM_CONFIG = {
    "method": "POST",
    "body_type": "json",
    "body_template": {"to": "{number}", "text": "{text}", "ref": "{ref}"},
    "inbound_fields": {
        "sender": "message.from",
        "text": "message.body",
        "recipient": "message.to",
        "id": "message.uuid",
        "timestamp": "message.received",
    },
    "inbound_ack_body": '{"ok": true}',
    "inbound_ack_content_type": "application/json",
    "dlr_fields": {
        "ref": "ref",
        "id": "id",
        "status": "state",
        "reason": "error.text",
        "timestamp": None,
    },
    "dlr_status_map": {"DONE": "delivered", "WAIT": "pending", "FAIL": "failed"},
    "dlr_ack_body": "OK",
    "signature_type": "hmac-sha256",
    "signature_header": "X-Signature",
    "signature_secret": HMAC_SECRET,
}


class _SerializationFailure(psycopg2.errors.SerializationFailure):
    """A serialization failure as PostgreSQL raises it (with its SQLSTATE)."""

    pgcode = "40001"


class WebhookCase(SmsCenterCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Gateway = cls.env["sms_center.gateway"]
        cls.kannel = Gateway.create(
            {
                "name": "Test Kannel",
                "code": "t-kannel",
                "gateway_type": "kannel",
                "outbound_enabled": False,
            }
        )
        cls.twilio = Gateway.create(
            {
                "name": "Test Twilio-style",
                "code": "t-twilio",
                "gateway_type": "http",
                "http_preset": "twilio",
                "http_auth_user": "AC0123",
                "http_auth_secret": TWILIO_TOKEN,
                "outbound_enabled": False,
            }
        )
        cls.jasmin = Gateway.create(
            {
                "name": "Test Jasmin",
                "code": "t-jasmin",
                "gateway_type": "http",
                "http_preset": "jasmin",
                "outbound_enabled": False,
            }
        )
        cls.custom = Gateway.create(
            {
                "name": "Test JSON API",
                "code": "t-json",
                "gateway_type": "http",
                "http_preset": "custom",
                "http_url": "http://127.0.0.1:9/api/send",
                "http_config": json.dumps(CUSTOM_CONFIG),
                "outbound_enabled": False,
            }
        )

    def call(self, url, method="GET", params=None, **kwargs):
        """Call a webhook as a gateway does (no session, no CSRF token)."""
        if params:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(params)
        return self.opener.request(method, url, timeout=30, **kwargs)

    @staticmethod
    def hmac_headers(body):
        digest = hmac.new(HMAC_SECRET.encode(), body, hashlib.sha256).hexdigest()
        return {"Content-Type": "application/json", "X-Signature": f"sha256={digest}"}

    def route(self):
        """Run the inbound router, as the scheduler does right after."""
        self.env["sms_center.message"]._cron_route_inbound()
        self.env.invalidate_all()

    def messages(self, gateway):
        return self.env["sms_center.message"].search([("gateway_id", "=", gateway.id)])

    def answered_sms(self, text="TDINKES obat habis di puskesmas", answer="Sudah"):
        """An answer whose SMS a gateway accepted: (reply, sms.sms)."""
        ticket = self.receive(text).ticket_id
        self.env["sms_center.reply.wizard"].with_user(self.user_health).create(
            {"ticket_id": ticket.id, "body": answer}
        ).action_send()
        reply = ticket.sms_reply_ids[:1]
        sms = self.env["sms.sms"].search([("uuid", "=", reply.sms_uuid)])
        return reply, sms


@tagged("post_install", "-at_install")
class TestWebhookSecurity(WebhookCase):
    def kannel_params(self, **values):
        params = {
            "from": self.citizen_e164,
            "to": "1708",
            "text": "TDINKES jalan rusak",
            "coding": "0",
            "charset": "UTF-8",
            "id": "kannel-id-1",
        }
        params.update(values)
        return {k: v for k, v in params.items() if v is not None}

    def test_valid_call_is_acknowledged_once_stored(self):
        cron = self.env.ref("sms_center.ir_cron_sms_center_route_inbound")
        Trigger = self.env["ir.cron.trigger"]
        triggers = Trigger.search([("cron_id", "=", cron.id)])
        answer = self.call(self.kannel.inbound_url, params=self.kannel_params())
        self.assertEqual(answer.status_code, 200, answer.text)
        self.assertEqual(answer.content, b"")
        message = self.messages(self.kannel)
        self.assertEqual(len(message), 1)
        self.assertEqual(message.text, "TDINKES jalan rusak")
        self.assertEqual(message.sudo().sender_e164, self.citizen_e164)
        self.assertEqual(message.gateway_message_id, "kannel-id-1")
        # Stored, acknowledged, and the router woken; routing comes after.
        self.assertEqual(message.state, "to_route")
        self.assertFalse(message.ticket_id)
        self.assertEqual(len(Trigger.search([("cron_id", "=", cron.id)]) - triggers), 1)
        self.route()
        self.assertEqual(message.state, "routed")
        self.assertEqual(message.keyword_id, self.kw_health)
        self.assertTrue(message.ticket_id)
        self.assertTrue(self.kannel.last_success_at)
        self.assertFalse(self.kannel.failing_since)

    def test_wrong_or_missing_secret_is_403_and_nothing_stored(self):
        good = self.kannel.sudo().webhook_token
        base = self.env["ir.config_parameter"].get_param("web.base.url")
        urls = [
            f"{base}/sms_center/t-kannel/{good[:-1]}x/inbound",
            f"{base}/sms_center/t-kannel/{good}x/inbound",
            f"{base}/sms_center/t-kannel/%20/inbound",
            f"{base}/sms_center/t-kannel/{good[:-1]}x/dlr",
            # the token of another gateway
            f"{base}/sms_center/t-kannel/{self.jasmin.sudo().webhook_token}/inbound",
            # unknown gateway code, with and without a real token
            f"{base}/sms_center/nope/{good}/inbound",
            f"{base}/sms_center/nope/x/dlr",
            # no secret at all
            f"{base}/sms_center/t-kannel/inbound",
            f"{base}/sms_center/t-kannel/dlr",
        ]
        bodies = set()
        for url in urls:
            for method in ("GET", "POST"):
                with self.subTest(url=url, method=method):
                    answer = self.call(url, method, params=self.kannel_params())
                    self.assertEqual(answer.status_code, 403)
                    bodies.add(answer.content)
        self.assertEqual(len(bodies), 1, "the same answer whatever is wrong")
        self.assertFalse(
            self.env["sms_center.message"].search(
                [("gateway_message_id", "=", "kannel-id-1")]
            )
        )
        self.assertFalse(self.kannel.last_success_at)

    def test_modem_and_archived_gateways_have_no_webhook(self):
        modem = self.env["sms_center.gateway"].create(
            {"name": "Modem", "code": "t-modem", "gateway_type": "gammu"}
        )
        self.assertEqual(
            self.call(modem.inbound_url, params=self.kannel_params()).status_code, 403
        )
        url = self.kannel.inbound_url
        self.kannel.active = False
        self.assertEqual(self.call(url, params=self.kannel_params()).status_code, 403)
        self.assertFalse(self.env["sms_center.message"].search([]).gateway_id)

    def test_oversized_body_is_413(self):
        big_text = "TDINKES " + "a" * MAX_BODY_BYTES
        # Form (Kannel post-url style fields or an HTTP gateway form).
        answer = self.call(
            self.jasmin.inbound_url,
            "POST",
            data={"from": self.citizen_e164, "content": big_text},
        )
        self.assertEqual(answer.status_code, 413)
        # JSON and raw bodies, with a valid secret or not.
        for gateway in (self.custom, self.kannel):
            token = gateway.sudo().webhook_token
            wrong = gateway.inbound_url.replace(token, token[::-1])
            for url in (gateway.inbound_url, wrong):
                answer = self.call(
                    url,
                    "POST",
                    data=json.dumps({"message": {"body": big_text}}).encode(),
                    headers={"Content-Type": "application/json"},
                )
                self.assertEqual(answer.status_code, 413)
        self.assertFalse(self.env["sms_center.message"].search([]).gateway_id)
        # The limit admits the largest SMS: 255 parts, as a Jasmin form
        # carrying the text twice (text and hex).
        longest = "TDINKES " + "kata " * 7800
        answer = self.call(
            self.jasmin.inbound_url,
            "POST",
            data={
                "from": self.citizen_e164,
                "content": longest,
                "binary": longest.encode().hex(),
                "coding": "0",
                "id": "jasmin-long",
            },
        )
        self.assertEqual(answer.status_code, 200, answer.text)
        self.assertEqual(self.messages(self.jasmin).text, longest)

    def test_malformed_payloads_are_400_with_reason(self):
        cases = [
            (self.kannel.inbound_url, self.kannel_params(hex="zz"), "hexadecimal"),
            (
                self.kannel.inbound_url,
                self.kannel_params(coding="x"),
                "invalid coding",
            ),
            (
                self.kannel.inbound_url,
                self.kannel_params(ts="tomorrow"),
                "invalid timestamp",
            ),
            (self.kannel.dlr_url, {"type": "1"}, "missing ref"),
            (self.kannel.dlr_url, {"ref": "x", "type": "99"}, "unknown DLR type 99"),
            (self.jasmin.dlr_url, {"id": "j-1"}, "missing status"),
        ]
        for url, params, reason in cases:
            with self.subTest(reason=reason):
                answer = self.call(url, params=params)
                self.assertEqual(answer.status_code, 400)
                self.assertIn(reason, answer.text)
        answer = self.call(
            self.custom.inbound_url,
            "POST",
            data=b'{"message": {"from": ',
            headers=self.hmac_headers(b'{"message": {"from": '),
        )
        self.assertEqual(answer.status_code, 400)
        self.assertEqual(answer.text, "body is not valid JSON")
        self.assertFalse(self.messages(self.kannel) | self.messages(self.custom))
        self.assertFalse(self.kannel.last_success_at)

    def test_missing_sender_and_refused_sms_are_400(self):
        answer = self.call(
            self.kannel.inbound_url, params=self.kannel_params(**{"from": None})
        )
        self.assertEqual(answer.status_code, 400)
        self.assertEqual(answer.text, "missing sender (from)")
        answer = self.call(
            self.kannel.inbound_url, params=self.kannel_params(**{"from": " "})
        )
        self.assertEqual(answer.status_code, 400)
        # Longer than any concatenated SMS: refused by receive() itself.
        answer = self.call(
            self.jasmin.inbound_url,
            "POST",
            data={"from": self.citizen_e164, "content": "x" * 40001},
        )
        self.assertEqual(answer.status_code, 400)
        self.assertIn("at most 40000 are accepted", answer.text)
        self.assertFalse(self.messages(self.kannel) | self.messages(self.jasmin))

    def test_unexpected_error_is_503_and_nothing_stored(self):
        def broken_wake(model, *args, **kwargs):
            raise RuntimeError("storing exploded")

        with (
            patch.object(SmsCenterMessage, "_trigger_router", broken_wake),
            mute_logger(CONTROLLER_LOGGER),
        ):
            answer = self.call(self.kannel.inbound_url, params=self.kannel_params())
        self.assertEqual(answer.status_code, 503)
        self.assertNotIn("exploded", answer.text)
        self.assertFalse(self.messages(self.kannel))
        # The gateway retries: now it works, once.
        answer = self.call(self.kannel.inbound_url, params=self.kannel_params())
        self.assertEqual(answer.status_code, 200)
        self.assertEqual(len(self.messages(self.kannel)), 1)

    def test_concurrency_errors_are_left_to_odoo_request_retry(self):
        """A serialization failure is not turned into an answer: Odoo rolls
        the request back and replays it, and the SMS is stored once."""
        calls = []
        original = SmsCenterMessage._trigger_router

        def wake_once_conflicting(model, *args, **kwargs):
            calls.append(1)
            original(model, *args, **kwargs)
            if len(calls) == 1:
                raise _SerializationFailure("could not serialize access")

        with (
            patch.object(SmsCenterMessage, "_trigger_router", wake_once_conflicting),
            patch("odoo.service.model.random.uniform", return_value=0.0),
        ):
            answer = self.call(self.kannel.inbound_url, params=self.kannel_params())
        self.assertEqual(answer.status_code, 200)
        self.assertEqual(len(calls), 2, "the request was replayed")
        self.assertEqual(len(self.messages(self.kannel)), 1)
        self.route()
        self.assertEqual(len(self.messages(self.kannel).ticket_id), 1)

    def test_repeated_delivery_is_acknowledged_without_duplicate(self):
        for _attempt in range(3):
            answer = self.call(self.kannel.inbound_url, params=self.kannel_params())
            self.assertEqual(answer.status_code, 200)
        self.assertEqual(len(self.messages(self.kannel)), 1)

    def test_kannel_post_url_body(self):
        """Kannel's post-url variant: the text is the body, its charset in
        the Content-Type, the other values in the query."""
        text = "TDINKES banjir 🌊 di desa — ñ"
        url = (
            self.kannel.inbound_url
            + "?"
            + urllib.parse.urlencode(
                {"from": self.citizen_e164, "to": "1708", "coding": "2", "id": "p-1"}
            )
        )
        answer = self.call(
            url,
            "POST",
            data=text.encode("utf-16-be"),
            headers={"Content-Type": 'text/plain; charset="UTF-16BE"'},
        )
        self.assertEqual(answer.status_code, 200, answer.text)
        self.assertEqual(self.messages(self.kannel).text, text)

    def test_url_longer_than_the_server_accepts(self):
        """Odoo's HTTP server does not serve request lines over 64 KiB: it
        drops the connection (or answers 414). The README's limits for
        Kannel's get-url come from here; post-url has no such limit."""
        url = self.kannel.inbound_url
        with mute_logger("odoo.service.server", "werkzeug"):
            try:
                answer = self.call(url, params=self.kannel_params(text="a" * 70000))
            except requests.ConnectionError:
                answer = None
        self.assertIn(getattr(answer, "status_code", None), (None, 414))
        self.assertFalse(self.messages(self.kannel))
        text = "TDINKES " + "a" * 70000
        answer = self.call(
            url + "?" + urllib.parse.urlencode({"from": self.citizen_e164}),
            "POST",
            data=text.encode(),
            headers={"Content-Type": 'text/plain; charset="UTF-8"'},
        )
        self.assertEqual(answer.status_code, 400)  # over 40,000 characters
        self.assertIn("at most 40000", answer.text)
        answer = self.call(
            url + "?" + urllib.parse.urlencode({"from": self.citizen_e164}),
            "POST",
            data=text[:39015].encode(),
            headers={"Content-Type": 'text/plain; charset="UTF-8"'},
        )
        self.assertEqual(answer.status_code, 200)
        self.assertEqual(len(self.messages(self.kannel).text), 39015)

    def test_chunked_body_without_length_is_411(self):
        def chunks():
            yield b"TDINKES "
            yield b"jalan"

        answer = self.call(
            self.kannel.inbound_url + "?from=%2B6281298765432",
            "POST",
            data=chunks(),
            headers={"Content-Type": "text/plain"},
        )
        self.assertEqual(answer.status_code, 411)
        self.assertFalse(self.messages(self.kannel))


@tagged("post_install", "-at_install")
class TestHttpGatewayWebhooks(WebhookCase):
    def twilio_post(self, url, params, signature=None):
        """POST as Twilio does; ``signature``: None = valid, False = none."""
        headers = {}
        if signature is None:
            signature = twilio_signature(url, params, TWILIO_TOKEN)
        if signature is not False:
            headers["X-Twilio-Signature"] = signature
        return self.call(url, "POST", data=params, headers=headers)

    def test_twilio_inbound_with_signature(self):
        params = {
            "From": self.citizen_e164,
            "To": "+15005550006",
            "Body": "TJALAN jembatan putus 😟",
            "MessageSid": "SM0001",
            "AccountSid": "AC0123",
        }
        url = self.twilio.inbound_url
        bad = twilio_signature(url, dict(params, Body="TJALAN other"), TWILIO_TOKEN)
        for signature in (False, "", bad, bad[:-2] + "=="):
            with self.subTest(signature=signature):
                answer = self.twilio_post(url, params, signature)
                self.assertEqual(answer.status_code, 403)
        self.assertFalse(self.messages(self.twilio))
        answer = self.twilio_post(url, params)
        self.assertEqual(answer.status_code, 200, answer.text)
        self.assertEqual(answer.headers["Content-Type"], "text/xml")
        self.assertEqual(
            answer.text, '<?xml version="1.0" encoding="UTF-8"?><Response/>'
        )
        message = self.messages(self.twilio)
        self.assertEqual(message.text, "TJALAN jembatan putus 😟")
        self.assertEqual(message.gateway_message_id, "SM0001")
        self.route()
        self.assertEqual(message.keyword_id, self.kw_roads)
        # The secret in the path is still required.
        answer = self.twilio_post(url.replace("/inbound", "x/inbound"), params)
        self.assertEqual(answer.status_code, 403)

    def test_twilio_dlr_status_mapping(self):
        # MessageStatus -> (reply sms_state, delivered, failure reason)
        table = [
            ("queued", "sent", False, False),
            ("sending", "sent", False, False),
            ("sent", "sent", False, False),
            ("delivered", "sent", True, False),
            ("read", "sent", True, False),
            ("undelivered", "failed", False, "undelivered: 30003"),
            ("failed", "failed", False, "failed: 30003"),
            ("canceled", "failed", False, "canceled: 30003"),
        ]
        for status, state, delivered, reason in table:
            with self.subTest(status=status):
                reply, sms = self.answered_sms()
                sms.write(
                    {
                        "state": "pending",
                        "sms_center_gateway_id": self.twilio.id,
                        "sms_center_gateway_ref": f"SM{sms.id}",
                    }
                )
                url = f"{self.twilio.dlr_url}?ref={sms.uuid}"
                params = {
                    "MessageSid": f"SM{sms.id}",
                    "MessageStatus": status,
                    "ErrorCode": "30003",
                }
                answer = self.twilio_post(url, params)
                self.assertEqual(answer.status_code, 200, answer.text)
                self.assertEqual(reply.sms_state, state)
                self.assertEqual(reply.sms_delivered, delivered)
                self.assertEqual(reply.sms_failure_reason, reason)
                answer = self.twilio_post(url, params, "bad")
                self.assertEqual(answer.status_code, 403)

    def test_jasmin_inbound_unicode_and_ack(self):
        text = "TDINKES obat 💊 habis"
        answer = self.call(
            self.jasmin.inbound_url,
            "POST",
            data={
                "from": self.citizen_e164,
                "to": "1708",
                "origin-connector": "smppc1",
                "id": "jas-1",
                "coding": "8",
                "binary": text.encode("utf-16-be").hex(),
                "content": text.encode("utf-16-be").decode("latin-1"),
            },
        )
        self.assertEqual(answer.status_code, 200, answer.text)
        self.assertEqual(answer.text, "ACK/Jasmin")
        message = self.messages(self.jasmin)
        self.assertEqual(message.text, text)
        self.assertEqual(message.recipient, "1708")

    def test_jasmin_dlr_status_mapping(self):
        table = [
            ("ESME_ROK", "sent", False, False),
            ("ACCEPTD", "sent", False, False),
            ("ENROUTE", "sent", False, False),
            ("DELIVRD", "sent", True, False),
            ("UNDELIV", "failed", False, "UNDELIV: 000"),
            ("EXPIRED", "failed", False, "EXPIRED: 000"),
            ("REJECTD", "failed", False, "REJECTD: 000"),
            ("ESME_RINVDSTADR", "failed", False, "ESME_RINVDSTADR: 000"),
        ]
        for status, state, delivered, reason in table:
            with self.subTest(status=status):
                reply, sms = self.answered_sms()
                sms.write(
                    {
                        "state": "pending",
                        "sms_center_gateway_id": self.jasmin.id,
                        "sms_center_gateway_ref": f"jas-{sms.id}",
                    }
                )
                answer = self.call(
                    f"{self.jasmin.dlr_url}?ref={sms.uuid}",
                    "POST",
                    data={
                        "id": f"jas-{sms.id}",
                        "message_status": status,
                        "level": "3",
                        "err": "000",
                    },
                )
                self.assertEqual(answer.status_code, 200, answer.text)
                self.assertEqual(answer.text, "ACK/Jasmin")
                self.assertEqual(reply.sms_state, state)
                self.assertEqual(reply.sms_delivered, delivered)
                self.assertEqual(reply.sms_failure_reason, reason)

    def test_dlr_matched_by_gateway_id_only(self):
        reply, sms = self.answered_sms()
        sms.write(
            {
                "state": "pending",
                "sms_center_gateway_id": self.jasmin.id,
                "sms_center_gateway_ref": "jas-only-id",
            }
        )
        answer = self.call(
            self.jasmin.dlr_url,
            "POST",
            data={"id": "jas-only-id", "message_status": "DELIVRD"},
        )
        self.assertEqual(answer.status_code, 200)
        self.assertTrue(reply.sms_delivered)

    def test_custom_json_with_hmac(self):
        payload = {
            "message": {
                "from": "0812-9876-5432",
                "to": "+628111000111",
                "body": "tjalan Lampu jalan mati",
                "uuid": "c-1",
                "received": "2024-05-01T03:04:05Z",
            }
        }
        body = json.dumps(payload).encode()
        answer = self.call(
            self.custom.inbound_url,
            "POST",
            data=body,
            headers={"Content-Type": "application/json", "X-Signature": "sha256=00"},
        )
        self.assertEqual(answer.status_code, 403)
        self.assertFalse(self.messages(self.custom))
        headers = self.hmac_headers(body)
        answer = self.call(self.custom.inbound_url, "POST", data=body, headers=headers)
        self.assertEqual(answer.status_code, 200, answer.text)
        self.assertEqual(answer.json(), {"ok": True})
        self.assertEqual(answer.headers["Content-Type"], "application/json")
        message = self.messages(self.custom)
        self.assertEqual(message.text, "tjalan Lampu jalan mati")
        self.assertEqual(message.sudo().sender_e164, self.citizen_e164)
        self.route()
        self.assertEqual(message.keyword_id, self.kw_roads)
        self.assertEqual(str(message.received_at), "2024-05-01 03:04:05")
        # Delivery reports of the custom API: its own status table.
        for status, state, delivered, reason in [
            ("WAIT", "sent", False, False),
            ("DONE", "sent", True, False),
            ("FAIL", "failed", False, "FAIL: no credit"),
        ]:
            with self.subTest(status=status):
                reply, sms = self.answered_sms()
                sms.write({"state": "pending", "sms_center_gateway_id": self.custom.id})
                body = json.dumps(
                    {"ref": sms.uuid, "state": status, "error": {"text": "no credit"}}
                ).encode()
                answer = self.call(
                    self.custom.dlr_url,
                    "POST",
                    data=body,
                    headers=self.hmac_headers(body),
                )
                self.assertEqual(answer.status_code, 200, answer.text)
                self.assertEqual(answer.text, "OK")
                self.assertEqual(reply.sms_state, state)
                self.assertEqual(reply.sms_delivered, delivered)
                self.assertEqual(reply.sms_failure_reason, reason)
        body = json.dumps({"ref": "r", "state": "BOGUS"}).encode()
        answer = self.call(
            self.custom.dlr_url,
            "POST",
            data=body,
            headers=self.hmac_headers(body),
        )
        self.assertEqual(answer.status_code, 400)
        self.assertEqual(answer.text, "unknown status 'BOGUS'")

    def test_dlr_for_unknown_reference_is_acknowledged(self):
        reply, sms = self.answered_sms()
        before = (reply.sms_state, reply.sms_delivered, sms.state)
        # logging.INFO: Odoo renames level 25 "INFO".
        with self.assertLogs(CONTROLLER_LOGGER, logging.INFO) as logs:
            answer = self.call(
                self.kannel.dlr_url,
                params={"ref": "no-such-sms", "type": "1", "reply": "x"},
            )
        self.assertEqual(answer.status_code, 200)
        self.assertIn("nothing to update for ref=no-such-sms", logs.output[0])
        self.assertEqual((reply.sms_state, reply.sms_delivered, sms.state), before)

    def test_dlr_while_the_worker_hands_the_sms_over_is_503(self):
        """The outbound worker has marked the SMS 'process' and not recorded
        the gateway's answer yet: the report must wait (no write that would
        collide with the worker's); the gateway delivers it again."""
        reply, sms = self.answered_sms()
        sms.write({"state": "process", "sms_center_gateway_id": self.kannel.id})
        params = {"ref": sms.uuid, "type": "1"}
        answer = self.call(self.kannel.dlr_url, params=params)
        self.assertEqual(answer.status_code, 503)
        self.assertEqual(sms.state, "process")
        self.assertFalse(reply.sms_delivered)
        sms.write({"state": "pending"})
        answer = self.call(self.kannel.dlr_url, params=params)
        self.assertEqual(answer.status_code, 200)
        self.assertEqual(sms.state, "sent")
        self.assertTrue(reply.sms_delivered)

    def test_status_kept_after_odoo_cleans_sms_rows_up(self):
        reply, sms = self.answered_sms()
        sms.write({"state": "pending", "sms_center_gateway_id": self.kannel.id})
        uuid = sms.uuid
        sms.unlink()  # what Odoo's clean-up does with sent sms.sms rows
        answer = self.call(self.kannel.dlr_url, params={"ref": uuid, "type": "8"})
        self.assertEqual(answer.status_code, 200)
        self.assertEqual(reply.sms_state, "sent")
        self.assertFalse(reply.sms_delivered)
        answer = self.call(self.kannel.dlr_url, params={"ref": uuid, "type": "1"})
        self.assertEqual(answer.status_code, 200)
        self.assertTrue(reply.sms_delivered)
        # A late "accepted" never undoes a final status.
        answer = self.call(self.kannel.dlr_url, params={"ref": uuid, "type": "8"})
        self.assertTrue(reply.sms_delivered)
        self.assertEqual(reply.sms_state, "sent")
