"""Kannel HTTP interface: sendsms client, inbound and delivery-report parsing.

Outbound goes through smsbox's ``/cgi-bin/sendsms`` on one keep-alive
``requests.Session``; inbound and delivery reports arrive as HTTP GETs that
smsbox makes to URLs filled with Kannel escape codes.  Tested against
Kannel 1.4.5 (Debian 12) with its fake SMSC.

Kannel configuration (see :data:`KANNEL_CONF_EXAMPLE` for a full file)
----------------------------------------------------------------------
``group = sms-service`` with ``keyword = default``, ``catch-all = true``,
``max-messages = 0`` (never answer the citizen from Kannel: replies go out
through sendsms) and ``get-url`` = ``<odoo>/sms_center/kannel/<token>/inbound?``
+ :data:`INBOUND_QUERY`.  Use ``%e`` (payload as hex bytes) together with
``%C`` (charset) and ``%c`` (coding): it carries UCS-2/UTF-8 text without any
ambiguity, whatever the web framework does with percent-decoding.  With
``mo-recode = true`` in the smsbox group, Kannel turns UCS-2 messages into
UTF-8 before calling the URL (``%C`` then says ``UTF-8``); without it, ``%C``
says ``UTF-16BE`` and :func:`parse_inbound` decodes that too.

Concatenated inbound SMS are joined by bearerbox itself
(``sms-combine-concatenated-mo = true``, the default, in the core group);
the URL is called once with the whole text.

smsbox retries a failed ``get-url``/``dlr-url`` call (any answer other than
200/202, or no answer) only when ``http-request-retry`` is set in the smsbox
group (default 0: the SMS would be lost).  Set it, e.g. ``100`` with
``http-queue-delay = 30``, and answer 200 only after the SMS is committed.

Kannel's sendsms returns no message id.  The caller puts its own reference in
the ``dlr-url`` (:func:`dlr_url_for`); Kannel calls it with ``%d`` (report
type) and ``%A`` (SMSC answer) filled in, and :func:`parse_dlr` maps them.
"""

import logging
import re
from datetime import UTC, datetime

import requests

from . import dlr, http_transport
from .dlr import DlrEvent, InboundSms, PayloadError, SendResult

_logger = logging.getLogger(__name__)

__all__ = [
    "DLR_QUERY",
    "INBOUND_QUERY",
    "KANNEL_CONF_EXAMPLE",
    "KannelClient",
    "admin_status",
    "PayloadError",
    "dlr_base_url_for",
    "dlr_url_for",
    "inbound_url_for",
    "parse_dlr",
    "parse_inbound",
    "render_kannel_conf",
]

#: Query string for the sms-service ``get-url`` (append to the inbound URL).
INBOUND_QUERY = "from=%p&to=%P&text=%b&hex=%e&coding=%c&charset=%C&ts=%T&id=%I&smsc=%i"

#: Query string added to each message's ``dlr-url`` after ``ref=<our id>``.
DLR_QUERY = "type=%d&reply=%A&ts=%T&to=%p&from=%P&smsc=%i&fid=%F"

_SAFE_REF = re.compile(r"[A-Za-z0-9._~-]{1,128}")


def inbound_url_for(odoo_base_url, gateway_token):
    """URL of the Odoo inbound controller for a gateway, without query."""
    _check_safe(gateway_token, "gateway token")
    return f"{odoo_base_url.rstrip('/')}/sms_center/kannel/{gateway_token}/inbound"


def dlr_base_url_for(odoo_base_url, gateway_token):
    """URL of the Odoo DLR controller; pass it to :func:`dlr_url_for`."""
    _check_safe(gateway_token, "gateway token")
    return f"{odoo_base_url.rstrip('/')}/sms_center/kannel/{gateway_token}/dlr"


def _check_safe(value, what):
    if not _SAFE_REF.fullmatch(str(value)):
        raise ValueError(
            f"{what} {value!r} must use only letters, digits and ._~- "
            "(Kannel treats % in URLs as escape codes)"
        )


def render_kannel_conf(
    *,
    inbound_url,
    sendsms_username,
    sendsms_password,
    admin_password,
    smsc_group,
    global_sender=None,
    admin_port=13000,
    smsbox_port=13001,
    sendsms_port=13013,
    sendsms_interface="127.0.0.1",
    sendsms_allow_ip="127.0.0.1",
    log_dir="/var/log/kannel",
    spool_dir="/var/spool/kannel",
    log_level=1,
    mo_recode=True,
    http_request_retry=100,
    http_queue_delay=30,
    max_pending_requests=8,
    max_messages=10,
):
    """A complete kannel.conf (bearerbox + smsbox) for the SMS Center.

    ``inbound_url`` is :func:`inbound_url_for`; ``smsc_group`` the
    ``group = smsc`` block of the operator link (AT modem, SMPP...).  The
    result is what the tests run Kannel with (with a fake SMSC), so it works
    as written.  Key choices:

    * ``sms-service`` ``default`` catch-all with ``max-messages = 0``: every
      inbound SMS goes to Odoo and Kannel never answers the citizen itself;
    * ``mo-recode``: UCS-2 inbound arrives as UTF-8;
    * ``http-request-retry`` / ``http-queue-delay``: smsbox retries the
      inbound and DLR calls until Odoo answers 200 (Kannel's default is no
      retry, which would lose SMS while Odoo restarts);
    * ``max-pending-requests``: at most this many calls to Odoo at once
      (Kannel's default, 512, opens a connection per SMS of a flood: more
      than Odoo's HTTP workers can accept, so most fail and wait for their
      retry); about four per Odoo HTTP worker;
    * ``store-type = file``: bearerbox keeps queued messages across restarts;
    * ``sendsms-user`` ``max-messages``/``concatenation``: long answers go
      out as concatenated parts instead of being cut after the first one.
    """
    get_url = f"{inbound_url}?{INBOUND_QUERY}"
    lines = [
        "group = core",
        f"admin-port = {admin_port}",
        "admin-interface = 127.0.0.1",
        f"admin-password = {admin_password}",
        'admin-allow-ip = "127.0.0.1"',
        f"smsbox-port = {smsbox_port}",
        "smsbox-interface = 127.0.0.1",
        'box-allow-ip = "127.0.0.1"',
        'box-deny-ip = "*.*.*.*"',
        f'log-file = "{log_dir}/bearerbox.log"',
        f"log-level = {log_level}",
        f'access-log = "{log_dir}/bearerbox-access.log"',
        "dlr-storage = internal",
        "store-type = file",
        f'store-location = "{spool_dir}/kannel.store"',
        "sms-combine-concatenated-mo = true",
        "",
        smsc_group.strip(),
        "",
        "group = smsbox",
        "bearerbox-host = 127.0.0.1",
        f"bearerbox-port = {smsbox_port}",
        f"sendsms-port = {sendsms_port}",
        f"sendsms-interface = {sendsms_interface}",
        *([f"global-sender = {global_sender}"] if global_sender else []),
        f"mo-recode = {'true' if mo_recode else 'false'}",
        f"max-pending-requests = {max_pending_requests}",
        f"http-request-retry = {http_request_retry}",
        f"http-queue-delay = {http_queue_delay}",
        f'log-file = "{log_dir}/smsbox.log"',
        f"log-level = {log_level}",
        f'access-log = "{log_dir}/smsbox-access.log"',
        "",
        "group = sendsms-user",
        f"username = {sendsms_username}",
        f"password = {sendsms_password}",
        f'user-allow-ip = "{sendsms_allow_ip}"',
        f"max-messages = {max_messages}",
        "concatenation = true",
        "",
        "group = sms-service",
        "keyword = default",
        "catch-all = true",
        "max-messages = 0",
        f'get-url = "{get_url}"',
        "",
    ]
    return "\n".join(lines)


#: A kannel.conf for one SMSC; replace the ``<...>`` parts.
KANNEL_CONF_EXAMPLE = render_kannel_conf(
    inbound_url=("https://<odoo host>/sms_center/kannel/<gateway token>/inbound"),
    sendsms_username="<sendsms user>",
    sendsms_password="<sendsms password>",
    admin_password="<admin password>",
    global_sender="<centre number>",
    sendsms_interface="0.0.0.0",
    sendsms_allow_ip="<Odoo server IP>",
    smsc_group="""\
group = smsc
smsc = <at | smpp | ...>
smsc-id = <name>
# ... settings of that SMSC type (modem device, SMPP host/port/system-id...)""",
)


# %d values (Kannel user guide, "Delivery reports"): bit 1 delivered to phone,
# 2 non-delivered, 4 queued on SMSC, 8 SMSC accepted, 16 SMSC rejected.
_DLR_TYPES = {
    1: (dlr.DELIVERED, None),
    2: (dlr.FAILED, "not delivered to the phone"),
    4: (dlr.PENDING, "queued on the SMSC"),
    8: (dlr.PENDING, "accepted by the SMSC"),
    16: (dlr.FAILED, "rejected by the SMSC"),
}

_CODING_CHARSETS = {0: "utf-8", 1: "latin-1", 2: "utf-16-be"}


def dlr_url_for(base_url, ref):
    """``dlr-url`` for one message: ``base_url?ref=<ref>&type=%d...``.

    ``ref`` must be URL-safe (letters, digits, ``._~-``): Kannel scans the
    whole URL for ``%`` escape codes, so percent-encoded characters in it
    would be mangled.
    """
    _check_safe(ref, "DLR reference")
    separator = "&" if "?" in base_url else "?"
    return f"{base_url}{separator}ref={ref}&{DLR_QUERY}"


def _value(params, name):
    value = params.get(name)
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value


def _timestamp(value):
    if value in (None, ""):
        return None
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise PayloadError(f"invalid timestamp {value!r}") from None


def _codec(charset, coding):
    if charset:
        name = charset.strip().strip('"').lower()
        if name in ("8-bit", "binary"):
            return "latin-1"
        if name in ("ucs-2", "ucs2"):
            return "utf-16-be"
        return name
    return _CODING_CHARSETS.get(coding, "utf-8")


def parse_inbound(params, now=None):
    """Decode the query of a call made from :data:`INBOUND_QUERY`.

    Returns an :class:`~.dlr.InboundSms` (a 5-tuple ``(sender, text, recipient,
    received_at, gateway_message_id)``).  ``received_at`` is UTC-aware (from
    ``%T``; ``now`` or the current time when absent); the message id is
    Kannel's own UUID (``%I``), stable across smsbox's HTTP retries, so it is
    a good idempotency key.  Raises :class:`PayloadError` when the sender or
    the text is missing or cannot be decoded.
    """
    sender = (_value(params, "from") or "").strip()
    if not sender:
        raise PayloadError("missing sender (from)")
    recipient = (_value(params, "to") or "").strip() or None
    coding_raw = _value(params, "coding")
    try:
        coding = int(coding_raw) if coding_raw not in (None, "") else 0
    except ValueError:
        raise PayloadError(f"invalid coding {coding_raw!r}") from None
    charset = _value(params, "charset")
    hex_payload = _value(params, "hex")
    if hex_payload not in (None, ""):
        try:
            raw = bytes.fromhex(hex_payload)
        except ValueError:
            raise PayloadError("hex payload is not hexadecimal") from None
        try:
            text = raw.decode(_codec(charset, coding))
        except (LookupError, UnicodeDecodeError):
            raise PayloadError(f"text is not valid {charset or coding}") from None
    else:
        text = _value(params, "text")
        if text is None:
            if "hex" in params or "text" in params:
                text = ""
            else:
                raise PayloadError("missing text (text or hex)")
        if coding == 2 or _codec(charset, coding) == "utf-16-be":
            raise PayloadError(
                "UCS-2 text without hex payload: add hex=%e to the get-url "
                "or set mo-recode = true"
            )
    received_at = _timestamp(_value(params, "ts")) or now or datetime.now(UTC)
    message_id = _value(params, "id") or None
    return InboundSms(sender, text, recipient, received_at, message_id)


def parse_dlr(params):
    """Map a ``dlr-url`` call (see :func:`dlr_url_for`) to a :class:`DlrEvent`.

    ``ref`` is our reference from the URL; ``type`` (``%d``) gives the status:
    1 delivered, 2 failed (not delivered), 4 pending (queued on the SMSC),
    8 pending (accepted by the SMSC), 16 failed (rejected by the SMSC).  The
    SMSC's answer (``%A``, e.g. an SMPP receipt text) becomes the reason of a
    failure.
    """
    ref = (_value(params, "ref") or "").strip()
    if not ref:
        raise PayloadError("missing ref")
    raw_type = _value(params, "type")
    try:
        dlr_type = int(raw_type)
    except (TypeError, ValueError):
        raise PayloadError(f"invalid DLR type {raw_type!r}") from None
    if dlr_type not in _DLR_TYPES:
        raise PayloadError(f"unknown DLR type {dlr_type}")
    status, label = _DLR_TYPES[dlr_type]
    reply = (_value(params, "reply") or "").strip()
    reason = None
    if status == dlr.FAILED:
        reason = f"{label}: {reply}" if reply else label
    elif status == dlr.PENDING:
        reason = label
    return DlrEvent(
        ref=ref,
        status=status,
        reason=reason,
        gateway_ref=_value(params, "fid") or None,
        raw_status=str(dlr_type),
        at=_timestamp(_value(params, "ts")),
        extra={"reply": reply} if reply else {},
    )


class KannelClient(http_transport.SessionClient):
    """Send SMS through Kannel's sendsms interface.

    ``base_url`` is smsbox's sendsms root, e.g. ``http://127.0.0.1:13013``
    (``/cgi-bin/sendsms`` is appended unless already there).  One
    ``requests.Session`` is kept and reused (HTTP keep-alive): create one
    client per batch or per worker, not per SMS.  ``max_parts`` must not
    exceed the ``max-messages`` of the sendsms-user, or Kannel would cut the
    text; longer texts are refused here.  Give ``default_sender`` (or a
    ``sender`` per message) unless smsbox has a ``global-sender``: Kannel
    rejects a sendsms without ``from`` ("Sender missing and no global set").
    """

    def __init__(
        self,
        base_url,
        username,
        password,
        default_sender=None,
        timeout=10,
        session=None,
        max_parts=10,
    ):
        url = base_url.rstrip("/")
        if not url.endswith("/cgi-bin/sendsms"):
            url += "/cgi-bin/sendsms"
        self.url = url
        self.username = username
        self.password = password
        self.default_sender = default_sender
        self.timeout = timeout
        self.max_parts = max_parts
        super().__init__(session)

    def build_params(self, number, text, sender=None, dlr_url=None, dlr_mask=31):
        """The sendsms query parameters :meth:`send` uses."""
        params = {
            "username": self.username,
            "password": self.password,
            "to": number,
            "text": text,
            "charset": "UTF-8",
            "coding": 0 if dlr.is_gsm7(text) else 2,
        }
        sender = sender or self.default_sender
        if sender:
            params["from"] = sender
        if dlr_url:
            params["dlr-url"] = dlr_url
            params["dlr-mask"] = dlr_mask
        return params

    def send(self, number, text, sender=None, dlr_url=None, dlr_mask=31):
        """Hand one SMS to Kannel; never raises for transport errors.

        Accepted answers are ``0: Accepted for delivery`` and ``3: Queued for
        later delivery`` (HTTP 202).  5xx answers and failures to connect are
        temporary; a timeout or a dropped connection after the request was
        sent is temporary *and* ``uncertain`` (Kannel may have taken it);
        4xx answers (bad credentials, malformed number, not routable) are
        permanent.
        """
        encoding, _units, parts = dlr.count_parts(text)
        if parts > self.max_parts:
            return SendResult(
                accepted=False,
                temporary=False,
                detail=f"text needs {parts} {encoding} parts, more than "
                f"the allowed {self.max_parts}",
            )
        params = self.build_params(number, text, sender, dlr_url, dlr_mask)
        answer, failure = http_transport.send_request(
            self.session,
            method="GET",
            url=self.url,
            params=params,
            timeout=self.timeout,
        )
        if failure:
            return failure
        body = answer.text.strip()
        status = answer.status_code
        if status in (200, 202) and not body.startswith(("4", "5")):
            _logger.debug("Kannel accepted SMS to %s: %s", number, body)
            return SendResult(True, False, None, body, http_status=status)
        temporary = status >= 500
        _logger.warning("Kannel refused SMS to %s: %s %s", number, status, body)
        return SendResult(
            False, temporary, None, f"{status} {body}", http_status=status
        )


def admin_status(admin_url, password, session=None, timeout=5):
    """Health figures from bearerbox's ``/status.txt``.

    Returns ``{"running": bool, "sms_queued": int|None, "smscs": {id:
    "online"|"connecting"|"re-connecting"|"dead"|...}, "raw": text}``.
    Raises :class:`requests.RequestException` when bearerbox does not answer.
    """
    http = session or requests
    answer = http.get(
        admin_url.rstrip("/") + "/status.txt",
        params={"password": password},
        timeout=timeout,
    )
    answer.raise_for_status()
    text = answer.text
    queued = re.search(
        r"^SMS: received \d+ \((\d+) queued\), sent \d+ \((\d+) queued\)", text, re.M
    )
    smscs = {}
    for match in re.finditer(
        r"^\s+([^\s\[]+)\[[^\]]*\]\s+\S+\s+\(([a-z-]+)", text, re.M
    ):
        smscs[match.group(1)] = match.group(2)
    return {
        "running": "Status: running" in text,
        "sms_queued": int(queued.group(1)) + int(queued.group(2)) if queued else None,
        "smscs": smscs,
        "raw": text,
    }
