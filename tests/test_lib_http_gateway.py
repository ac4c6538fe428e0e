"""Generic HTTP gateway against a real local HTTP server (no mocks).

The server thread emulates three APIs on 127.0.0.1: Jasmin's ``/send``, a
Twilio-style ``Messages.json`` and a custom JSON API with bearer auth.
"""

import base64
import hmac
import json
import threading
import time
import urllib.parse
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from smslib import dlr
from smslib.http_gateway import (
    PRESETS,
    HttpGatewayClient,
    HttpGatewayConfig,
    PayloadError,
    parse_dlr,
    parse_inbound,
    render_template,
    twilio_signature,
    verify_signature,
)

JASMIN_USER, JASMIN_PASSWORD = "odoo", "jasmin-pass"
TWILIO_SID, TWILIO_TOKEN = "AC0123456789", "twilio-token"
BEARER = "json-api-token"


class FakeApis:
    """Records requests and answers like the emulated gateways."""

    def __init__(self):
        self.requests = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 - http.server naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                parsed = urllib.parse.urlsplit(self.path)
                record = {
                    "path": parsed.path,
                    "query": urllib.parse.parse_qs(parsed.query),
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "raw": raw,
                    "client": self.client_address,
                }
                owner.requests.append(record)
                status, body, ctype = owner.route(record)
                data = body.encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            do_GET = do_POST  # noqa: N815

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def route(self, record):
        path = record["path"]
        if path == "/send":
            return self.jasmin(record)
        if path.startswith("/2010-04-01/Accounts/"):
            return self.twilio(record)
        if path == "/api/messages":
            return self.json_api(record)
        if path == "/slow":
            time.sleep(1.5)
            return 200, "late", "text/plain"
        return 404, "not found", "text/plain"

    @staticmethod
    def form(record):
        return {
            k: v[0] for k, v in urllib.parse.parse_qs(record["raw"].decode()).items()
        }

    def jasmin(self, record):
        args = self.form(record)
        if (args.get("username"), args.get("password")) != (
            JASMIN_USER,
            JASMIN_PASSWORD,
        ):
            return 403, 'Error "Authentication failure for username:x"', "text/plain"
        if args.get("to", "").startswith("+99"):
            return 412, 'Error "No route found"', "text/plain"
        if args.get("dlr") == "yes" and "dlr-url" not in args:
            return 400, 'Error "dlr-url is mandatory"', "text/plain"
        if args.get("coding") == "8" and "hex-content" not in args:
            return 400, 'Error "UCS2 without hex-content"', "text/plain"
        return 200, f'Success "{uuid.uuid4()}"', "text/plain"

    def twilio(self, record):
        expected = base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
        if record["headers"].get("authorization") != f"Basic {expected}":
            return (
                401,
                json.dumps({"code": 20003, "message": "Authenticate"}),
                "application/json",
            )
        if f"/Accounts/{TWILIO_SID}/Messages.json" not in record["path"]:
            return 404, json.dumps({"code": 20404}), "application/json"
        args = self.form(record)
        if args.get("To") == "+15005550001":
            return (
                400,
                json.dumps({"code": 21211, "message": "Invalid 'To'"}),
                "application/json",
            )
        if args.get("To") == "+15005550429":
            return (
                429,
                json.dumps({"code": 20429, "message": "Too Many"}),
                "application/json",
            )
        answer = {"sid": "SM" + uuid.uuid4().hex, "status": "queued", "to": args["To"]}
        return 201, json.dumps(answer), "application/json"

    def json_api(self, record):
        if record["headers"].get("authorization") != f"Bearer {BEARER}":
            return 401, json.dumps({"error": "auth"}), "application/json"
        body = json.loads(record["raw"])
        number = body["message"]["to"]
        if number == "+6281000000503":
            return 503, "maintenance", "text/plain"
        if number == "+6281000000200":
            return 200, json.dumps({"result": {"ok": False}}), "application/json"
        answer = {"result": {"ok": True, "messages": [{"id": "m-" + number[-4:]}]}}
        return 200, json.dumps(answer), "application/json"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def apis():
    server = FakeApis()
    yield server
    server.stop()


def last_form(apis):
    return FakeApis.form(apis.requests[-1])


# -- Jasmin -----------------------------------------------------------------


def jasmin_config(apis, **extra):
    settings = {
        "url": apis.base + "/send",
        "auth_user": JASMIN_USER,
        "auth_secret": JASMIN_PASSWORD,
    }
    return HttpGatewayConfig.from_preset("jasmin", **{**settings, **extra})


def test_jasmin_send_gsm7(apis):
    with HttpGatewayClient(jasmin_config(apis)) as client:
        result = client.send(
            "+6281234567",
            "Jalan {sudah} diperbaiki",
            "DINKES",
            "http://odoo/dlr?ref=7",
            "7",
        )
    assert result.accepted and not result.temporary
    assert uuid.UUID(result.gateway_ref)
    sent = last_form(apis)
    assert sent["content"] == "Jalan {sudah} diperbaiki"
    assert sent["coding"] == "0"
    assert "hex-content" not in sent
    assert sent["from"] == "DINKES"
    assert (sent["dlr"], sent["dlr-url"], sent["dlr-level"]) == (
        "yes",
        "http://odoo/dlr?ref=7",
        "3",
    )


def test_jasmin_send_unicode_as_hex_ucs2(apis):
    text = "Terima kasih 🙏 — ñ"
    with HttpGatewayClient(jasmin_config(apis)) as client:
        result = client.send("+6281234567", text)
    assert result.accepted
    sent = last_form(apis)
    assert sent["coding"] == "8"
    assert "content" not in sent and "from" not in sent and "dlr-url" not in sent
    assert sent["dlr"] == "no"
    assert bytes.fromhex(sent["hex-content"]).decode("utf-16-be") == text


def test_jasmin_errors(apis):
    with HttpGatewayClient(jasmin_config(apis, auth_secret="wrong")) as client:
        result = client.send("+6281234567", "x")
    assert not result.accepted and not result.temporary and result.http_status == 403
    with HttpGatewayClient(jasmin_config(apis)) as client:
        result = client.send("+9912345", "x")
    assert not result.accepted and not result.temporary and "No route" in result.detail


def test_jasmin_inbound_and_dlr_payloads():
    config = HttpGatewayConfig.from_preset("jasmin")
    # MO push for a UCS-2 SMS: content is raw UTF-16BE, binary its hex.
    text = "Banjir 🌊 di desa"
    raw = text.encode("utf-16-be")
    payload = {
        "id": "a1b2",
        "from": "+6281234567",
        "to": "1708",
        "origin-connector": "smppc1",
        "coding": "8",
        "content": raw.decode("latin-1"),
        "binary": raw.hex(),
    }
    sms = parse_inbound(config, payload)
    assert (sms.sender, sms.text, sms.recipient, sms.gateway_message_id) == (
        "+6281234567",
        text,
        "1708",
        "a1b2",
    )
    assert config.inbound_ack_body == "ACK/Jasmin"
    gsm = parse_inbound(
        config, {"from": "+62812", "content": "DINKES ok", "coding": "0"}
    )
    assert gsm.text == "DINKES ok"

    event = parse_dlr(config, {"id": "a1b2", "message_status": "DELIVRD", "level": "2"})
    assert (event.gateway_ref, event.status, event.reason) == (
        "a1b2",
        dlr.DELIVERED,
        None,
    )
    event = parse_dlr(
        config, {"id": "a1b2", "message_status": "UNDELIV", "err": "001"}, {"ref": "77"}
    )
    assert (event.ref, event.status, event.reason) == ("77", dlr.FAILED, "UNDELIV: 001")
    assert (
        parse_dlr(config, {"id": "x", "message_status": "ESME_ROK"}).status
        == dlr.PENDING
    )
    assert parse_dlr(
        config, {"id": "x", "message_status": "ESME_RINVDSTADR"}
    ).status == (dlr.FAILED)


# -- Twilio-style ------------------------------------------------------------


def twilio_config(apis, **extra):
    settings = {
        "url": apis.base + "/2010-04-01/Accounts/{auth_user}/Messages.json",
        "auth_user": TWILIO_SID,
        "auth_secret": TWILIO_TOKEN,
    }
    return HttpGatewayConfig.from_preset("twilio", **{**settings, **extra})


def test_twilio_send(apis):
    with HttpGatewayClient(twilio_config(apis)) as client:
        result = client.send(
            "+6281234567", "Halo 😀", "+15005550006", "https://odoo/sms/dlr?ref=9", "9"
        )
        assert result.accepted
        assert result.gateway_ref.startswith("SM")
        sent = last_form(apis)
        assert sent == {
            "To": "+6281234567",
            "From": "+15005550006",
            "Body": "Halo 😀",
            "StatusCallback": "https://odoo/sms/dlr?ref=9",
        }
        first = apis.requests[-1]
        assert client.send("+6281234568", "Dua").accepted
    assert "StatusCallback" not in last_form(apis)
    # Keep-alive: the second message came over the same TCP connection.
    assert apis.requests[-1]["client"] == first["client"]


def test_twilio_errors(apis):
    with HttpGatewayClient(twilio_config(apis, auth_secret="bad")) as client:
        result = client.send("+6281234567", "x")
    assert not result.accepted and not result.temporary and result.http_status == 401
    with HttpGatewayClient(twilio_config(apis)) as client:
        invalid = client.send("+15005550001", "x")
        throttled = client.send("+15005550429", "x")
    assert not invalid.accepted and not invalid.temporary and "21211" in invalid.detail
    assert not throttled.accepted and throttled.temporary


def test_twilio_callbacks_and_signature():
    config = HttpGatewayConfig.from_preset(
        "twilio", auth_user=TWILIO_SID, auth_secret=TWILIO_TOKEN
    )
    url = "https://odoo.example/sms_center/http/tok/inbound"
    form = {
        "MessageSid": "SM123",
        "From": "+6281234567",
        "To": "+15005550006",
        "Body": "DINKES lampu mati 💡",
        "NumMedia": "0",
    }
    headers = {"X-Twilio-Signature": twilio_signature(url, form, TWILIO_TOKEN)}
    assert verify_signature(config, url, form, headers)
    assert not verify_signature(config, url, {**form, "Body": "forged"}, headers)
    assert not verify_signature(config, url, form, {})
    sms = parse_inbound(config, form)
    assert sms.text == "DINKES lampu mati 💡" and sms.gateway_message_id == "SM123"
    assert config.inbound_ack_content_type == "text/xml"

    status = {"MessageSid": "SM9", "MessageStatus": "undelivered", "ErrorCode": "30003"}
    event = parse_dlr(config, status, {"ref": "9"})
    assert (event.ref, event.gateway_ref, event.status) == ("9", "SM9", dlr.FAILED)
    assert event.reason == "undelivered: 30003"
    for value, expected in (("sent", dlr.PENDING), ("DELIVERED", dlr.DELIVERED)):
        payload = {"MessageSid": "SM9", "MessageStatus": value}
        assert parse_dlr(config, payload).status == expected
    with pytest.raises(PayloadError):
        parse_dlr(config, {"MessageSid": "SM9", "MessageStatus": "teleported"})


def test_twilio_signature_published_vector():
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+14158675309",
        "Digits": "1234",
        "From": "+14158675309",
        "To": "+18005551212",
    }
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert twilio_signature(url, params, "12345") == "RSOYDt4T1cUTdK1PDd93/VVr8B8="


# -- custom JSON API ---------------------------------------------------------


def json_config(apis, **extra):
    data = {
        "url": apis.base + "/api/messages",
        "method": "POST",
        "auth_type": "bearer",
        "auth_secret": BEARER,
        "body_type": "json",
        "body_template": json.dumps(
            {
                "message": {
                    "to": "{number}",
                    "body": "{text}",
                    "sender": "{sender}",
                    "unicode": "{unicode}",
                    "callback": "{dlr_url}",
                    "reference": "sms-{ref}",
                }
            }
        ),
        "success_status_codes": [200],
        "success_json_path": "result.ok",
        "message_id_json_path": "result.messages.0.id",
        "inbound_fields": {
            "sender": "data.from",
            "text": "data.text",
            "recipient": "data.to",
            "id": "data.id",
            "timestamp": "data.received",
        },
        "inbound_ack_body": '{"ok": true}',
        "inbound_ack_content_type": "application/json",
        "dlr_fields": {
            "ref": "reference",
            "id": "id",
            "status": "state",
            "reason": "error.text",
        },
        "dlr_status_map": {"0": "delivered", "1": "pending", "2": "failed"},
        "signature_type": "hmac-sha256",
        "signature_header": "X-Signature",
        "signature_secret": "hook-secret",
    }
    data.update(extra)
    return HttpGatewayConfig.from_dict(data)


def test_json_template_send(apis):
    text = 'He said "tolong" \\ {ok}'
    with HttpGatewayClient(json_config(apis)) as client:
        result = client.send("+6281234567", text, None, None, "41")
    assert result.accepted and result.gateway_ref == "m-4567"
    sent = json.loads(apis.requests[-1]["raw"])
    assert sent == {
        "message": {
            "to": "+6281234567",
            "body": text,
            "unicode": "0",
            "reference": "sms-41",
        }
    }
    assert apis.requests[-1]["headers"]["content-type"] == "application/json"


def test_json_template_failures(apis):
    with HttpGatewayClient(json_config(apis)) as client:
        down = client.send("+6281000000503", "x")
        refused = client.send("+6281000000200", "x")
    assert not down.accepted and down.temporary and down.http_status == 503
    assert not refused.accepted and not refused.temporary
    with HttpGatewayClient(json_config(apis, auth_secret="bad")) as client:
        unauthorised = client.send("+6281234567", "x")
    assert not unauthorised.accepted and not unauthorised.temporary


def test_timeout_is_temporary_and_uncertain(apis):
    config = json_config(apis, url=apis.base + "/slow", timeout=0.3)
    with HttpGatewayClient(config) as client:
        result = client.send("+6281234567", "x")
    assert not result.accepted and result.temporary and result.uncertain


def test_unreachable_gateway_is_temporary(apis):
    config = json_config(apis, url="http://127.0.0.1:9/api")
    with HttpGatewayClient(config) as client:
        result = client.send("+6281234567", "x")
    assert not result.accepted and result.temporary and not result.uncertain


def test_json_webhooks(apis):
    config = json_config(apis)
    body = {
        "data": {
            "from": "+6281234567",
            "text": "Laporan 🚧",
            "to": "1708",
            "id": 991,
            "received": "2024-05-01T10:00:00+07:00",
        }
    }
    raw = json.dumps(body).encode()
    signature = hmac.new(b"hook-secret", raw, "sha256").hexdigest()
    assert verify_signature(config, "", None, {"x-signature": signature}, raw)
    assert verify_signature(
        config, "", None, {"X-Signature": f"sha256={signature}"}, raw
    )
    assert not verify_signature(
        config, "", None, {"X-Signature": signature}, raw + b" "
    )
    sms = parse_inbound(config, body)
    assert sms.text == "Laporan 🚧" and sms.gateway_message_id == "991"
    assert sms.received_at == datetime(2024, 5, 1, 3, 0, tzinfo=UTC)
    with pytest.raises(PayloadError):
        parse_inbound(config, {"data": {"text": "no sender"}})
    with pytest.raises(PayloadError):
        parse_inbound(config, {"data": {"from": "+62812"}})
    event = parse_dlr(
        config, {"reference": "41", "state": 2, "error": {"text": "absent"}}
    )
    assert (event.ref, event.status, event.reason) == ("41", dlr.FAILED, "2: absent")
    with pytest.raises(PayloadError):
        parse_dlr(config, {"state": 0})


def test_config_validation_and_templates():
    with pytest.raises(ValueError):
        HttpGatewayConfig.from_dict({"url": "http://x", "auth_typ": "basic"})
    with pytest.raises(ValueError):
        HttpGatewayConfig(url="http://x", dlr_status_map={"ok": "sent"})
    with pytest.raises(ValueError):
        HttpGatewayConfig(url="http://x", body_template="{not json")
    values = {"a": "1", "b": None}
    assert render_template(
        {"x": "{a}", "y": "{b}", "z": "v{b}", "l": ["{b}", 2]}, values
    ) == {
        "x": "1",
        "z": "v",
        "l": [2],
    }
    with pytest.raises(ValueError):
        render_template({"x": "{nope}"}, values)
    assert set(PRESETS) == {"jasmin", "twilio"}
    for name in PRESETS:
        HttpGatewayConfig.from_preset(name)
