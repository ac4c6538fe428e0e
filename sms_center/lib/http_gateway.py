"""Generic, configurable HTTP SMS gateway.

One :class:`HttpGatewayConfig` describes how to talk to an HTTP SMS API:

* **Sending**: URL, method, authentication, a body template (form, JSON or
  query string) with placeholders, the rule that says an answer means
  "accepted", and where the gateway's message id is in the answer.
* **Inbound webhook**: where sender, text, recipient, id and timestamp are
  in the gateway's payload (dotted paths for JSON), and the acknowledgement
  body to answer with.
* **Delivery reports**: where our reference, the gateway's id, the status
  and the reason are, and a table mapping the gateway's status values to
  ``delivered`` / ``pending`` / ``failed``.
* **Signatures** (optional): Twilio-style ``X-Twilio-Signature`` or an
  HMAC-SHA256 of the raw body, checked with :func:`verify_signature`.

:data:`PRESETS` holds ready-made dicts for Jasmin's HTTP API and a
Twilio-style REST API; :meth:`HttpGatewayConfig.from_preset` merges an admin's
overrides (URL, credentials) into one.

Template placeholders
---------------------
``{number}`` ``{text}`` ``{sender}`` ``{dlr_url}`` ``{ref}`` ``{auth_user}``
``{auth_secret}``, and derived values: ``{unicode}`` (``1``/``0``),
``{data_coding}`` (SMPP: ``0`` GSM-7, ``8`` UCS-2), ``{text_ucs2_hex}``
(UTF-16BE hex), ``{text_if_gsm7}`` / ``{hex_if_ucs2}`` (the text, or its
UCS-2 hex, only in the matching case), ``{dlr_flag}`` (``yes`` when a
``dlr_url`` is given, else ``no``).  A template value that is exactly one
placeholder keeps the value's type and is **left out** when the value is
``None`` (no sender, no dlr_url...); other values are formatted as strings.
JSON string templates are parsed first, so a text with quotes cannot break
the JSON.
"""

import base64
import hashlib
import hmac
import json
import logging
import re
import string
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import requests

from . import dlr, http_transport
from .dlr import DlrEvent, InboundSms, PayloadError, SendResult

_logger = logging.getLogger(__name__)

__all__ = [
    "PRESETS",
    "HttpGatewayClient",
    "HttpGatewayConfig",
    "PayloadError",
    "parse_dlr",
    "parse_inbound",
    "render_template",
    "verify_signature",
]

AUTH_TYPES = ("none", "basic", "bearer", "header")
BODY_TYPES = ("form", "json", "query")
SIGNATURE_TYPES = ("none", "twilio", "hmac-sha256")
_PLACEHOLDER = re.compile(r"^\{([a-z_0-9]+)\}$")


@dataclass
class HttpGatewayConfig:
    """Everything needed to use one HTTP SMS gateway; see the module doc."""

    url: str
    method: str = "POST"
    auth_type: str = "none"
    auth_user: str | None = None
    auth_secret: str | None = None
    auth_header_name: str | None = None
    body_type: str = "form"
    body_template: dict | str = field(default_factory=dict)
    headers: dict = field(default_factory=dict)
    timeout: float = 10.0
    success_status_codes: tuple = (200, 201, 202)
    #: Dotted path that must hold a truthy value (or ``success_json_value``).
    success_json_path: str | None = None
    success_json_value: str | None = None
    #: Regular expression the answer body must match (``re.search``).
    success_regex: str | None = None
    #: Dotted path of the gateway's message id in a JSON answer.
    message_id_json_path: str | None = None
    #: Regular expression whose group ``id`` (or group 1) is the message id.
    message_id_regex: str | None = None
    #: Inbound field names: sender, text, recipient, id, timestamp and, for
    #: binary payloads, text_hex + coding (decoded with ``inbound_codings``).
    inbound_fields: dict = field(
        default_factory=lambda: {
            "sender": "from",
            "text": "text",
            "recipient": "to",
            "id": "id",
            "timestamp": None,
        }
    )
    #: Coding value -> Python codec for ``text_hex``; unmapped codings use
    #: the plain text field.
    inbound_codings: dict = field(default_factory=dict)
    inbound_ack_body: str = ""
    inbound_ack_content_type: str = "text/plain"
    #: DLR field names: ref (ours), id (gateway's), status, reason, timestamp.
    dlr_fields: dict = field(
        default_factory=lambda: {
            "ref": "ref",
            "id": "id",
            "status": "status",
            "reason": None,
            "timestamp": None,
        }
    )
    #: Gateway status value (case-insensitive) -> delivered|pending|failed.
    dlr_status_map: dict = field(default_factory=dict)
    #: Status for values missing from the map; None rejects them.
    dlr_status_default: str | None = None
    dlr_ack_body: str = ""
    dlr_ack_content_type: str = "text/plain"
    signature_type: str = "none"
    signature_header: str | None = None
    #: Secret for ``hmac-sha256`` (Twilio signs with ``auth_secret``).
    signature_secret: str | None = None

    def __post_init__(self):
        self.method = self.method.upper()
        checks = (
            ("auth_type", AUTH_TYPES),
            ("body_type", BODY_TYPES),
            ("signature_type", SIGNATURE_TYPES),
        )
        for name, allowed in checks:
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}")
        if self.auth_type == "header" and not self.auth_header_name:
            raise ValueError("auth_header_name is required for header auth")
        if isinstance(self.body_template, str):
            try:
                self.body_template = json.loads(self.body_template)
            except ValueError as exc:
                raise ValueError(f"body_template is not JSON: {exc}") from None
        statuses = [*self.dlr_status_map.values(), self.dlr_status_default]
        for status in statuses:
            if status is not None and status not in dlr.STATUSES:
                raise ValueError(f"unknown status {status!r} in DLR mapping")
        self.success_status_codes = tuple(int(c) for c in self.success_status_codes)

    @classmethod
    def from_dict(cls, data):
        """Build from a plain dict; unknown keys are an error (typos)."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown gateway settings: {sorted(unknown)}")
        return cls(**data)

    @classmethod
    def from_preset(cls, name, **overrides):
        """A preset from :data:`PRESETS` with ``overrides`` applied.

        Dict settings (``inbound_fields``, ``dlr_fields``,
        ``dlr_status_map``, ``headers``) are merged key by key.
        """
        data = json.loads(json.dumps(PRESETS[name]))
        for key, value in overrides.items():
            if isinstance(value, dict) and isinstance(data.get(key), dict):
                data[key] = {**data[key], **value}
            else:
                data[key] = value
        return cls.from_dict(data)

    def with_changes(self, **changes):
        return replace(self, **changes)


PRESETS = {
    # Jasmin SMS gateway HTTP API (port 1401): GET/POST /send.
    "jasmin": {
        "url": "http://127.0.0.1:1401/send",
        "method": "POST",
        "auth_type": "none",
        "body_type": "form",
        "body_template": {
            "username": "{auth_user}",
            "password": "{auth_secret}",
            "to": "{number}",
            "from": "{sender}",
            "coding": "{data_coding}",
            "content": "{text_if_gsm7}",
            "hex-content": "{hex_if_ucs2}",
            "dlr": "{dlr_flag}",
            "dlr-url": "{dlr_url}",
            "dlr-level": "3",
            "dlr-method": "POST",
        },
        "success_status_codes": [200],
        "success_regex": r'^Success "',
        "message_id_regex": r'^Success "(?P<id>[^"]+)"',
        # Jasmin's MO push: content is raw bytes, binary their hex, coding
        # the SMPP data_coding.
        "inbound_fields": {
            "sender": "from",
            "text": "content",
            "text_hex": "binary",
            "coding": "coding",
            "recipient": "to",
            "id": "id",
            "timestamp": None,
        },
        "inbound_codings": {"0": "utf-8", "3": "latin-1", "8": "utf-16-be"},
        "inbound_ack_body": "ACK/Jasmin",
        "dlr_fields": {
            "ref": "ref",
            "id": "id",
            "status": "message_status",
            "reason": "err",
            # donedate is YYMMDDhhmm in the SMSC's zone: not parsed.
            "timestamp": None,
        },
        "dlr_status_map": {
            "DELIVRD": "delivered",
            "ESME_ROK": "pending",
            "ACCEPTD": "pending",
            "ENROUTE": "pending",
            "UNKNOWN": "pending",
            "UNDELIV": "failed",
            "EXPIRED": "failed",
            "REJECTD": "failed",
            "DELETED": "failed",
        },
        # Level-1 errors are ESME_R* codes (ESME_RINVDSTADR...): failures.
        "dlr_status_default": "failed",
        "dlr_ack_body": "ACK/Jasmin",
    },
    # Twilio-style REST API; auth_user = Account SID, auth_secret = token.
    "twilio": {
        "url": "https://api.twilio.com/2010-04-01/Accounts/{auth_user}/Messages.json",
        "method": "POST",
        "auth_type": "basic",
        "body_type": "form",
        "body_template": {
            "To": "{number}",
            "From": "{sender}",
            "Body": "{text}",
            "StatusCallback": "{dlr_url}",
        },
        "success_status_codes": [200, 201],
        "message_id_json_path": "sid",
        "inbound_fields": {
            "sender": "From",
            "text": "Body",
            "recipient": "To",
            "id": "MessageSid",
            "timestamp": None,
        },
        "inbound_ack_body": '<?xml version="1.0" encoding="UTF-8"?><Response/>',
        "inbound_ack_content_type": "text/xml",
        "dlr_fields": {
            "ref": "ref",
            "id": "MessageSid",
            "status": "MessageStatus",
            "reason": "ErrorCode",
            "timestamp": None,
        },
        "dlr_status_map": {
            "accepted": "pending",
            "scheduled": "pending",
            "queued": "pending",
            "sending": "pending",
            "sent": "pending",
            "delivered": "delivered",
            "read": "delivered",
            "undelivered": "failed",
            "failed": "failed",
            "canceled": "failed",
        },
        "signature_type": "twilio",
        "signature_header": "X-Twilio-Signature",
    },
}


# -- helpers ----------------------------------------------------------------


def get_path(data, path):
    """Value at a dotted ``path`` (``a.b.0.c``) in dicts/lists, or None."""
    if path is None:
        return None
    current = data
    for key in str(path).split("."):
        if isinstance(current, dict):
            if key in current:
                current = current[key]
                continue
            return None
        if isinstance(current, list | tuple):
            try:
                current = current[int(key)]
            except (ValueError, IndexError):
                return None
            continue
        return None
    if isinstance(current, list | tuple) and len(current) == 1:
        # Form payloads parsed as {key: [value]}.
        current = current[0]
    return current


def _lookup(payload, query, path):
    value = get_path(payload, path)
    if value is None and query:
        value = get_path(query, path)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value


def _text(value):
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def parse_timestamp(value):
    """UTC-aware datetime from epoch seconds (or milliseconds), ISO 8601 or
    RFC 2822; None when empty.  Naive values are taken as UTC."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    try:
        if re.fullmatch(r"\d+(\.\d+)?", text):
            number = float(text)
            return datetime.fromtimestamp(
                number / 1000 if number >= 10**11 else number, UTC
            )
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, OverflowError, OSError):
        raise PayloadError(f"invalid timestamp {text!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def template_values(number, text, sender=None, dlr_url=None, ref=None, config=None):
    """The placeholder values for one message (see the module doc)."""
    gsm7 = dlr.is_gsm7(text)
    ucs2_hex = text.encode("utf-16-be").hex().upper()
    return {
        "number": number,
        "text": text,
        "sender": sender,
        "dlr_url": dlr_url,
        "ref": ref,
        "auth_user": config.auth_user if config else None,
        "auth_secret": config.auth_secret if config else None,
        "unicode": "0" if gsm7 else "1",
        "data_coding": "0" if gsm7 else "8",
        "text_ucs2_hex": ucs2_hex,
        "text_if_gsm7": text if gsm7 else None,
        "hex_if_ucs2": None if gsm7 else ucs2_hex,
        "dlr_flag": "yes" if dlr_url else "no",
    }


def _format(template, values):
    for _literal, name, _spec, _conv in string.Formatter().parse(template):
        if name is not None and name not in values:
            raise ValueError(f"unknown placeholder {{{name}}} in template")
    return template.format_map({k: ("" if v is None else v) for k, v in values.items()})


_OMIT = object()


def render_template(template, values):
    """Fill a template (dict/list/str tree) with ``values``.

    A string that is exactly ``{name}`` becomes the value itself (dropped from
    dicts/lists when None); other strings are formatted.
    """
    if isinstance(template, dict):
        result = {}
        for key, item in template.items():
            rendered = render_template(item, values)
            if rendered is not _OMIT:
                result[key] = rendered
        return result
    if isinstance(template, list):
        rendered = [render_template(item, values) for item in template]
        return [item for item in rendered if item is not _OMIT]
    if isinstance(template, str):
        match = _PLACEHOLDER.match(template)
        if match:
            name = match.group(1)
            if name not in values:
                raise ValueError(f"unknown placeholder {template} in template")
            value = values[name]
            return _OMIT if value is None else value
        return _format(template, values)
    return template


# -- sending ----------------------------------------------------------------


class HttpGatewayClient(http_transport.SessionClient):
    """Send SMS through a configured HTTP gateway, on a keep-alive session."""

    def __init__(self, config, session=None):
        if isinstance(config, dict):
            config = HttpGatewayConfig.from_dict(config)
        self.config = config
        super().__init__(session)

    def build_request(self, number, text, sender=None, dlr_url=None, ref=None):
        """``requests.Request`` keyword arguments for one message."""
        config = self.config
        values = template_values(number, text, sender, dlr_url, ref, config)
        url_values = {
            k: requests.utils.quote(str(v), safe="") if v is not None else None
            for k, v in values.items()
        }
        url = _format(config.url, url_values)
        body = render_template(config.body_template, values)
        headers = {k: _format(str(v), values) for k, v in config.headers.items()}
        kwargs = {"method": config.method, "url": url, "headers": headers}
        if config.auth_type == "basic":
            kwargs["auth"] = (config.auth_user or "", config.auth_secret or "")
        elif config.auth_type == "bearer":
            headers["Authorization"] = f"Bearer {config.auth_secret}"
        elif config.auth_type == "header":
            headers[config.auth_header_name] = config.auth_secret or ""
        if config.body_type == "json":
            kwargs["json"] = body
        elif config.body_type == "form" and config.method != "GET":
            kwargs["data"] = {k: _text(v) for k, v in body.items()}
        else:
            kwargs["params"] = {k: _text(v) for k, v in body.items()}
        return kwargs

    def send(self, number, text, sender=None, dlr_url=None, ref=None):
        """Send one SMS; never raises for transport or gateway errors.

        Accepted when the status code is a success code and the optional
        JSON/regex success rule holds.  5xx, 408 and 429 answers and failures
        to connect are temporary; timeouts after sending are temporary and
        ``uncertain``; other answers are permanent failures.
        """
        try:
            kwargs = self.build_request(number, text, sender, dlr_url, ref)
        except ValueError as exc:
            return SendResult(False, False, detail=f"bad gateway template: {exc}")
        answer, failure = http_transport.send_request(
            self.session, timeout=self.config.timeout, **kwargs
        )
        if failure:
            return failure
        return self.interpret(answer)

    def interpret(self, answer):
        """Turn an HTTP answer into a :class:`SendResult`."""
        config = self.config
        status = answer.status_code
        body = answer.text or ""
        detail = f"{status} {body.strip()[:500]}"
        if status not in config.success_status_codes:
            temporary = status >= 500 or status in (408, 429)
            _logger.warning("Gateway refused SMS: %s", detail)
            return SendResult(False, temporary, detail=detail, http_status=status)
        data = None
        if config.success_json_path or config.message_id_json_path:
            try:
                data = answer.json()
            except ValueError:
                return SendResult(
                    False,
                    False,
                    detail=f"answer is not JSON: {detail}",
                    http_status=status,
                )
        if config.success_json_path:
            value = get_path(data, config.success_json_path)
            if config.success_json_value is not None:
                ok = str(value) == str(config.success_json_value)
            else:
                ok = bool(value) and str(value).lower() not in ("false", "0")
            if not ok:
                return SendResult(False, False, detail=detail, http_status=status)
        if config.success_regex and not re.search(config.success_regex, body):
            return SendResult(False, False, detail=detail, http_status=status)
        gateway_ref = None
        if config.message_id_json_path:
            gateway_ref = _text(get_path(data, config.message_id_json_path))
        elif config.message_id_regex:
            match = re.search(config.message_id_regex, body)
            if match:
                groups = match.groupdict()
                gateway_ref = groups.get("id") or (
                    match.group(1) if match.groups() else match.group(0)
                )
        return SendResult(True, False, gateway_ref, detail, http_status=status)


# -- webhooks ---------------------------------------------------------------


def _config(config):
    if isinstance(config, dict):
        return HttpGatewayConfig.from_dict(config)
    return config


def parse_inbound(config, payload, query=None, now=None):
    """Decode an inbound webhook into an :class:`~.dlr.InboundSms`.

    ``payload`` is the form (dict of str or of lists) or the parsed JSON
    body; ``query`` the URL query parameters, searched when a field is not in
    the payload.  Raises :class:`PayloadError` when the sender or the text is
    missing or cannot be decoded.
    """
    config = _config(config)
    names = config.inbound_fields
    sender = _text(_lookup(payload, query, names.get("sender")))
    if not sender or not sender.strip():
        raise PayloadError(f"missing sender ({names.get('sender')})")
    text = None
    hex_name = names.get("text_hex")
    if hex_name:
        coding = _text(_lookup(payload, query, names.get("coding")))
        codec = config.inbound_codings.get(coding) if coding is not None else None
        hex_value = _text(_lookup(payload, query, hex_name))
        if codec and hex_value:
            try:
                text = bytes.fromhex(hex_value).decode(codec)
            except (ValueError, LookupError):
                raise PayloadError(f"cannot decode {hex_name} as {codec}") from None
    if text is None:
        text = _text(_lookup(payload, query, names.get("text")))
    if text is None:
        raise PayloadError(f"missing text ({names.get('text')})")
    recipient = _text(_lookup(payload, query, names.get("recipient"))) or None
    message_id = _text(_lookup(payload, query, names.get("id"))) or None
    received_at = parse_timestamp(_lookup(payload, query, names.get("timestamp")))
    return InboundSms(
        sender.strip(),
        text,
        recipient,
        received_at or now or datetime.now(UTC),
        message_id,
    )


def parse_dlr(config, payload, query=None):
    """Decode a delivery-report webhook into a :class:`~.dlr.DlrEvent`.

    Our reference (``dlr_fields['ref']``, usually a query parameter of the
    callback URL we gave) or the gateway's id must be present; the status is
    mapped with ``dlr_status_map`` (case-insensitive), falling back to
    ``dlr_status_default``.
    """
    config = _config(config)
    names = config.dlr_fields
    ref = _text(_lookup(payload, query, names.get("ref"))) or None
    gateway_ref = _text(_lookup(payload, query, names.get("id"))) or None
    if not ref and not gateway_ref:
        raise PayloadError("missing message reference")
    raw_status = _text(_lookup(payload, query, names.get("status")))
    if not raw_status:
        raise PayloadError(f"missing status ({names.get('status')})")
    table = {str(k).lower(): v for k, v in config.dlr_status_map.items()}
    status = table.get(raw_status.strip().lower(), config.dlr_status_default)
    if status is None:
        raise PayloadError(f"unknown status {raw_status!r}")
    reason = _text(_lookup(payload, query, names.get("reason"))) or None
    if status == dlr.FAILED:
        reason = f"{raw_status}: {reason}" if reason else raw_status
    elif status == dlr.DELIVERED:
        reason = None
    return DlrEvent(
        ref=ref,
        status=status,
        reason=reason,
        gateway_ref=gateway_ref,
        raw_status=raw_status,
        at=parse_timestamp(_lookup(payload, query, names.get("timestamp"))),
    )


def twilio_signature(url, params, secret):
    """Twilio's ``X-Twilio-Signature``: base64 HMAC-SHA1 of the full URL
    followed by each POST parameter name and value, sorted by name (repeated
    values sorted too)."""
    data = url
    for key in sorted(params):
        value = params[key]
        values = value if isinstance(value, list | tuple) else [value]
        for item in sorted({str(v) for v in values}):
            data += key + item
    digest = hmac.new(secret.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def verify_signature(config, url, params, headers, raw_body=b""):
    """True when the webhook carries a valid signature for ``config``.

    ``twilio``: header ``X-Twilio-Signature`` over ``url`` + sorted form
    ``params`` with ``auth_secret``.  ``hmac-sha256``: hex (optionally
    ``sha256=``-prefixed) HMAC-SHA256 of ``raw_body`` with
    ``signature_secret`` in ``signature_header``.  ``none``: always True
    (use a secret in the URL path instead).  Compared in constant time.
    """
    config = _config(config)
    if config.signature_type == "none":
        return True
    lowered = {str(k).lower(): v for k, v in headers.items()}
    header = config.signature_header or (
        "X-Twilio-Signature" if config.signature_type == "twilio" else "X-Signature"
    )
    given = lowered.get(header.lower())
    if not given:
        return False
    if config.signature_type == "twilio":
        expected = twilio_signature(url, params or {}, config.auth_secret or "")
    else:
        secret = (config.signature_secret or "").encode()
        expected = hmac.new(secret, raw_body or b"", hashlib.sha256).hexdigest()
        given = given.removeprefix("sha256=")
    return hmac.compare_digest(str(given).strip(), expected)
