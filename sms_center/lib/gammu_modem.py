"""GSM modem access through python-gammu, safe for a periodic poller.

Guarantees
----------
* **One process per modem.**  :class:`GammuModem` is a context manager that
  takes an exclusive, non-blocking ``fcntl.flock`` on ``lock_path`` before it
  opens the device and releases it after closing; a second process gets
  :class:`ModemBusy` at once instead of waiting or fighting over the port.
* **Stable keys.**  Every stored SMS read from the modem carries a
  ``raw_key`` derived from its content (sender, SMSC timestamp, SMSC number,
  concatenation header, coding, text), never from its storage location,
  which the phone reuses.  Reading the same SMS again, in the same process or
  after a restart, gives the same key: store by key, then delete.
* **Safe deletion.**  :meth:`GammuModem.delete` can re-read the location and
  only delete when the SMS there still has the expected key, so a location
  reused by a newer SMS is never deleted by a retried clean-up.
* **Errors** from Gammu become :class:`ModemError` with a ``temporary`` flag
  seen from the point of view of one SMS: modem or network trouble (timeouts,
  busy device, no SIM, PIN, unplugged modem, network errors, unknown
  ``+CMS ERROR``) is temporary and worth retrying later; only errors about the
  request itself (invalid data, unsupported PDU, invalid number) and
  configuration errors that no retry fixes are permanent.

Reading returns inbound parts and status reports separately
(:meth:`GammuModem.read_all`); :meth:`read_inbound` and
:meth:`read_status_reports` are conveniences that each list the modem once.
Multi-part messages are *not* joined here: feed the parts to
:func:`.multipart.reassemble` after storing them.

Only ``gammu`` (python-gammu >= 3.5) is needed; nothing here imports Odoo.
"""

import fcntl
import hashlib
import json
import logging
import os
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from . import dlr
from .multipart import InboundPart

try:  # python-gammu is optional for the rest of the library.
    import gammu
except ImportError:  # pragma: no cover - exercised only without python-gammu
    gammu = None

_logger = logging.getLogger(__name__)

__all__ = [
    "GammuModem",
    "ModemBusy",
    "ModemError",
    "SmsLocation",
    "StatusReport",
    "map_delivery_status",
]

#: Keys of a gammurc ``[gammu]`` section that python-gammu's SetConfig takes.
GAMMU_CONFIG_KEYS = frozenset(
    {
        "Device",
        "Connection",
        "Model",
        "SyncTime",
        "LockDevice",
        "Localize",
        "StartInfo",
        "DebugFile",
        "DebugLevel",
        "UseGlobalDebugFile",
        "Features",
    }
)

#: Gammu errors that no retry of the same request can fix.
PERMANENT_ERRORS = frozenset(
    {
        "ERR_INVALIDDATA",  # malformed request
        "ERR_NOTSUPPORTED",  # e.g. +CMS ERROR 304 invalid PDU parameter
        "ERR_NOTIMPLEMENTED",
        "ERR_BUG",  # +CMS ERROR 305/514/538...: invalid parameter/address
        "ERR_EMPTYSMSC",
        "ERR_UNKNOWNMODELSTRING",
        "ERR_UNKNOWNCONNECTIONTYPESTRING",
        "ERR_DEVICENODRIVER",
        "ERR_INVALIDLOCATION",
        "ERR_INVALIDDATETIME",
        "ERR_BADFEATURE",
        "ERR_DISABLED",
        "ERR_UNCONFIGURED",
        "ERR_INSTALL_NOT_FOUND",
        "ERR_INVALID_OPERATION",
    }
)

_NUMBER_RE = re.compile(r"\+?[0-9]{2,20}")

# GSM 03.40 section 9.2.3.15 (TP-Status): reasons for the non-delivered codes.
_TP_STATUS_REASONS = {
    0x20: "congestion",
    0x21: "SME busy",
    0x22: "no response from SME",
    0x23: "service rejected",
    0x24: "quality of service not available",
    0x25: "error in SME",
    0x40: "remote procedure error",
    0x41: "incompatible destination",
    0x42: "connection rejected by SME",
    0x43: "not obtainable",
    0x44: "quality of service not available",
    0x45: "no interworking available",
    0x46: "validity period expired",
    0x47: "deleted by originating SME",
    0x48: "deleted by SC administration",
    0x49: "SM does not exist",
    0x60: "congestion",
    0x61: "SME busy",
    0x62: "no response from SME",
    0x63: "service rejected",
    0x64: "quality of service not available",
    0x65: "error in SME",
}


class ModemError(Exception):
    """A modem operation failed.

    ``temporary``: retrying the same SMS later may succeed.  ``code`` is the
    Gammu error name (``ERR_TIMEOUT``...) when the error came from Gammu.
    ``sent_references`` lists the message references of the parts already
    sent when sending a multi-part message failed half-way.
    """

    def __init__(self, message, temporary, code=None, sent_references=()):
        super().__init__(message)
        self.message = message
        self.temporary = temporary
        self.code = code
        self.sent_references = list(sent_references)


class ModemBusy(ModemError):
    """Another process holds the modem lock."""

    def __init__(self, message):
        super().__init__(message, temporary=True, code="LOCKED")


@dataclass(frozen=True)
class SmsLocation:
    """Where one stored SMS sits on the phone (Gammu's flat location)."""

    folder: int
    location: int


@dataclass(frozen=True)
class StatusReport:
    """A delivery report stored on the phone, mapped to the common statuses.

    ``reference`` is the TP-MR returned by :meth:`GammuModem.send` for the
    part it reports on; match it together with ``recipient`` because the
    8-bit reference wraps around after 256 messages.
    """

    reference: int
    recipient: str
    status: str
    reason: str | None
    at: datetime | None
    delivery_status: int
    raw_key: str
    location: SmsLocation


def map_delivery_status(tp_status):
    """Map a GSM 03.40 TP-Status value to ``(status, reason)``.

    0x00-0x1F: transaction completed (delivered); 0x20-0x3F: temporary
    error, the SMSC keeps trying (pending); 0x40-0x7F: permanent error or
    temporary error with no more attempts (failed).  Reserved values (0x80
    and above) are reported as pending with an explicit reason instead of an
    empty status, so the report is still consumed.
    """
    if tp_status is None or tp_status < 0:
        return dlr.PENDING, "no TP-Status in report"
    if tp_status < 0x20:
        return dlr.DELIVERED, None
    reason = _TP_STATUS_REASONS.get(tp_status)
    if tp_status < 0x40:
        return dlr.PENDING, reason or f"SMSC still trying (0x{tp_status:02X})"
    if tp_status < 0x80:
        return dlr.FAILED, reason or f"SMSC gave up (0x{tp_status:02X})"
    return dlr.PENDING, f"unrecognised TP-Status 0x{tp_status:02X}"


def _error_name(exc):
    name = type(exc).__name__
    if name.startswith("ERR_"):
        return name
    info = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
    code = info.get("Code")
    for err_name, err_code in getattr(gammu, "Errors", {}).items():
        if err_code == code:
            return err_name
    return "ERR_UNKNOWN"


def _wrap(exc, action, sent_references=()):
    name = _error_name(exc)
    info = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
    text = info.get("Text") or str(exc)
    return ModemError(
        f"{action} failed: {text} ({name})",
        temporary=name not in PERMANENT_ERRORS,
        code=name,
        sent_references=sent_references,
    )


def _as_utc(value, naive_tz):
    """Timezone-aware UTC datetime, or None for an empty Gammu date."""
    if not isinstance(value, datetime) or value.year < 1980:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=naive_tz)
    return value.astimezone(UTC)


def _text_of(sms):
    text = sms.get("Text")
    if isinstance(text, bytes | bytearray):
        # 8-bit data SMS: keep every byte, one character per byte.
        return bytes(text).decode("latin-1")
    return text or ""


def _concat_info(udh):
    """``(ref, part_no, part_count)`` from a python-gammu UDH dict."""
    if not udh or not str(udh.get("Type", "")).startswith("ConcatenatedMessages"):
        return None, None, None
    ref = udh.get("ID16bit", -1)
    if ref is None or ref < 0:
        ref = udh.get("ID8bit", -1)
    part_no = udh.get("PartNumber", -1)
    count = udh.get("AllParts", -1)
    if ref is None or ref < 0 or part_no is None or part_no < 1 or count < 1:
        return None, None, None
    return ref, part_no, count


def _digest(kind, fields):
    payload = json.dumps([kind, *fields], ensure_ascii=False, default=str)
    return f"gammu-{kind}-" + hashlib.sha256(payload.encode()).hexdigest()[:40]


def _date_key(value):
    return value.isoformat() if isinstance(value, datetime) else None


def deliver_key(sms):
    """Stable key of a received (Deliver) SMS dict as python-gammu returns it.

    Built from what the SMSC put in the PDU, never from the phone's storage
    location.  Two SMS identical in sender, SMSC timestamp (to the second),
    concatenation header and text are indistinguishable and share a key.
    """
    udh = sms.get("UDH") or {}
    text = sms.get("Text")
    text_hash = hashlib.sha256(
        bytes(text) if isinstance(text, bytes | bytearray) else (text or "").encode()
    ).hexdigest()
    return _digest(
        "sms",
        [
            sms.get("Number") or "",
            _date_key(sms.get("DateTime")),
            (sms.get("SMSC") or {}).get("Number") or "",
            bytes(udh.get("Text") or b"").hex(),
            sms.get("Coding"),
            sms.get("Class"),
            text_hash,
        ],
    )


def report_key(sms):
    """Stable key of a stored status report (the discharge time is left out:
    some storages do not keep it)."""
    return _digest(
        "report",
        [
            sms.get("Number") or "",
            sms.get("MessageReference"),
            _date_key(sms.get("DateTime")),
            sms.get("DeliveryStatus"),
        ],
    )


class GammuModem:
    """One exclusive session with a modem.

    ``config`` holds gammurc-style keys (``Device``, ``Connection``, optional
    ``Model``, ``DebugFile``...) passed to Gammu, plus these keys of ours:

    ``smsc``
        SMSC number to use; by default read once per session from the phone
        (``GetSMSC`` location 1).
    ``concat_16bit``
        use 16-bit concatenation references (one character less per part);
        default False (8-bit, the most widely supported).
    ``timezone``
        IANA zone of the modem's timestamps when Gammu returns them without
        zone information (default UTC).

    Usage::

        with GammuModem(config, "/run/lock/sms-modem-1.lock") as modem:
            parts, reports = modem.read_all()
            ...store parts durably...
            for location, part in parts:
                modem.delete(location, raw_key=part.raw_key)
    """

    def __init__(self, config, lock_path):
        if gammu is None:  # pragma: no cover
            raise ModemError("python-gammu is not installed", temporary=False)
        self.config = dict(config)
        self.lock_path = lock_path
        self._sm = None
        self._lock_fd = None
        self._smsc = None
        self._naive_tz = ZoneInfo(self.config.get("timezone") or "UTC")
        self._next_ref = random.randrange(256)
        #: Errors met while listing messages; the listing stopped there.
        self.read_errors = []

    # -- session ---------------------------------------------------------

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()
        return False

    def open(self):
        """Take the lock, then connect to the phone."""
        if self._sm is not None:
            return
        self._acquire_lock()
        try:
            machine = gammu.StateMachine()
            gammu_config = {
                key: value
                for key, value in self.config.items()
                if key in GAMMU_CONFIG_KEYS and value is not None
            }
            machine.SetConfig(0, gammu_config)
            machine.Init()
        except gammu.GSMError as exc:
            self._release_lock()
            raise _wrap(exc, "Connecting to the modem") from exc
        except Exception:
            self._release_lock()
            raise
        self._sm = machine
        _logger.debug("Modem %s connected", self.config.get("Device"))

    def close(self):
        """Disconnect and release the lock (safe to call twice)."""
        machine, self._sm = self._sm, None
        try:
            if machine is not None:
                try:
                    machine.Terminate()
                except gammu.GSMError as exc:
                    _logger.warning("Closing modem connection failed: %s", exc)
        finally:
            self._release_lock()

    def _acquire_lock(self):
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o660)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ModemBusy(f"Modem lock {self.lock_path} is held") from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd

    def _release_lock(self):
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)

    @property
    def machine(self):
        if self._sm is None:
            raise ModemError("Modem session is not open", temporary=True)
        return self._sm

    def _call(self, action, func, *args, **kwargs):
        try:
            return func(*args, **kwargs)
        except gammu.GSMError as exc:
            raise _wrap(exc, action) from exc

    # -- reading ---------------------------------------------------------

    def _iter_stored(self):
        """Yield every stored SMS dict, one listing pass over the phone."""
        self.read_errors = []
        machine = self.machine
        seen = set()
        location = None
        while True:
            try:
                if location is None:
                    batch = machine.GetNextSMS(Folder=0, Start=True)
                else:
                    batch = machine.GetNextSMS(Folder=0, Location=location)
            except gammu.ERR_EMPTY:
                return
            except (gammu.ERR_NOTSUPPORTED, gammu.ERR_NOTIMPLEMENTED):
                if location is None:
                    yield from self._iter_by_location()
                    return
                raise
            except gammu.GSMError as exc:
                error = _wrap(exc, "Listing SMS")
                if location is None:
                    raise error from exc
                _logger.warning("%s; continuing with what was read", error)
                self.read_errors.append(error)
                return
            if not batch:
                return
            location = batch[0]["Location"]
            if location in seen:  # a phone that loops: stop instead of hanging
                _logger.warning("Modem listed location %s twice", location)
                return
            seen.add(location)
            yield from batch

    def _iter_by_location(self):
        """Fallback for phones without GetNextSMS: probe every location."""
        machine = self.machine
        status = self._call("Reading SMS status", machine.GetSMSStatus)
        expected = status.get("SIMUsed", 0) + status.get("PhoneUsed", 0)
        size = status.get("SIMSize", 0) + status.get("PhoneSize", 0)
        found = 0
        for location in range(1, size + 1):
            if found >= expected:
                return
            try:
                batch = machine.GetSMS(Folder=0, Location=location)
            except (gammu.ERR_EMPTY, gammu.ERR_INVALIDLOCATION):
                continue
            except gammu.GSMError as exc:
                error = _wrap(exc, f"Reading SMS at {location}")
                _logger.warning("%s", error)
                self.read_errors.append(error)
                continue
            found += 1
            yield from batch

    def _part_from(self, sms):
        ref, part_no, count = _concat_info(sms.get("UDH"))
        received = _as_utc(sms.get("DateTime"), self._naive_tz)
        return InboundPart(
            sender=sms.get("Number") or "",
            text=_text_of(sms),
            received_at=received or datetime.now(UTC),
            concat_ref=ref,
            part_no=part_no,
            part_count=count,
            smsc=(sms.get("SMSC") or {}).get("Number") or None,
            raw_key=deliver_key(sms),
        )

    def _report_from(self, sms):
        status, reason = map_delivery_status(sms.get("DeliveryStatus"))
        at = _as_utc(sms.get("SMSCDateTime"), self._naive_tz) or _as_utc(
            sms.get("DateTime"), self._naive_tz
        )
        return StatusReport(
            reference=int(sms.get("MessageReference") or 0),
            recipient=sms.get("Number") or "",
            status=status,
            reason=reason,
            at=at,
            delivery_status=sms.get("DeliveryStatus", -1),
            raw_key=report_key(sms),
            location=SmsLocation(sms.get("Folder", 0), sms["Location"]),
        )

    def read_all(self):
        """List the phone once.

        Returns ``(parts, reports)``: ``parts`` is a list of
        ``(SmsLocation, InboundPart)`` for every received SMS (all folders),
        ``reports`` a list of :class:`StatusReport`.  Submit PDUs (drafts,
        sent copies) are ignored.  If the phone fails half-way through the
        listing, what was read is returned and the error is kept in
        :attr:`read_errors`.
        """
        parts = []
        reports = []
        for sms in self._iter_stored():
            kind = sms.get("Type")
            if kind == "Deliver":
                location = SmsLocation(sms.get("Folder", 0), sms["Location"])
                parts.append((location, self._part_from(sms)))
            elif kind == "Status_Report":
                reports.append(self._report_from(sms))
        return parts, reports

    def read_inbound(self):
        """Received SMS parts as ``[(SmsLocation, InboundPart)]``."""
        return self.read_all()[0]

    def read_status_reports(self):
        """Stored delivery reports as ``[StatusReport]``."""
        return self.read_all()[1]

    def _keys_at(self, location):
        try:
            batch = self.machine.GetSMS(Folder=0, Location=location.location)
        except gammu.ERR_EMPTY:
            return set()
        except gammu.GSMError as exc:
            raise _wrap(exc, f"Reading SMS at {location.location}") from exc
        keys = set()
        for sms in batch:
            if sms.get("Type") == "Status_Report":
                keys.add(report_key(sms))
            else:
                keys.add(deliver_key(sms))
        return keys

    def delete(self, location, raw_key=None):
        """Delete the SMS stored at ``location``.

        With ``raw_key``, the location is read first and only deleted if the
        SMS there still has that key (protects a newer SMS that took a reused
        location).  Returns True when something was deleted, False when the
        location was already empty or holds another SMS.
        """
        if raw_key is not None and raw_key not in self._keys_at(location):
            _logger.info(
                "Not deleting SMS at %s: it no longer holds %s", location, raw_key
            )
            return False
        try:
            self.machine.DeleteSMS(Folder=0, Location=location.location)
        except gammu.ERR_EMPTY:
            return False
        except gammu.GSMError as exc:
            raise _wrap(exc, f"Deleting SMS at {location.location}") from exc
        return True

    def delete_status_report(self, report):
        """Delete a :class:`StatusReport` (checked by its key)."""
        return self.delete(report.location, raw_key=report.raw_key)

    # -- sending ---------------------------------------------------------

    def _smsc_dict(self):
        if self._smsc is not None:
            return self._smsc
        number = self.config.get("smsc")
        if number:
            self._smsc = {"Location": 0, "Number": number, "Validity": "Max"}
            return self._smsc
        try:
            smsc = self.machine.GetSMSC(Location=1)
        except (gammu.ERR_NOTSUPPORTED, gammu.ERR_NOTIMPLEMENTED):
            # Let Gammu fetch it at send time.
            self._smsc = {"Location": 1}
            return self._smsc
        except gammu.GSMError as exc:
            raise _wrap(exc, "Reading the SMSC number") from exc
        if not smsc.get("Number"):
            raise ModemError(
                "The phone has no SMSC number; set one in the gateway",
                temporary=False,
                code="ERR_EMPTYSMSC",
            )
        smsc = dict(smsc)
        smsc["Location"] = 0
        self._smsc = smsc
        return smsc

    def _take_ref(self):
        ref = self._next_ref
        self._next_ref = (ref + 1) % (65536 if self._concat_16bit else 256)
        return ref

    @property
    def _concat_16bit(self):
        return bool(self.config.get("concat_16bit"))

    def build_messages(self, number, text, request_delivery_report=True):
        """The python-gammu SMS dicts :meth:`send` would send, one per part.

        GSM-7 when every character is in the GSM 03.38 alphabet, UCS-2
        otherwise; concatenated with a UDH when the text does not fit one
        SMS.  The concatenation reference comes from a per-session counter
        (Gammu's default derives it from the clock, so two long messages sent
        in the same second would share it).
        """
        if not _NUMBER_RE.fullmatch(number or ""):
            raise ModemError(f"Invalid destination number {number!r}", False)
        entry_id = (
            "ConcatenatedTextLong16bit"
            if self._concat_16bit
            else "ConcatenatedTextLong"
        )
        smsinfo = {
            "Class": -1,
            "Unicode": not dlr.is_gsm7(text),
            "Entries": [{"ID": entry_id, "Buffer": text}],
        }
        try:
            messages = gammu.EncodeSMS(smsinfo)
        except gammu.GSMError as exc:
            raise _wrap(exc, "Encoding the SMS") from exc
        if len(messages) > 1:
            ref = self._take_ref()
            for message in messages:
                udh = dict(message["UDH"])
                raw = bytearray(udh["Text"])
                if self._concat_16bit:
                    raw[3:5] = ref.to_bytes(2, "big")
                    udh["ID16bit"] = ref
                else:
                    raw[3] = ref
                    udh["ID8bit"] = ref
                udh["Text"] = bytes(raw)
                message["UDH"] = udh
        smsc = self._smsc_dict()
        for message in messages:
            message["SMSC"] = dict(smsc)
            message["Number"] = number
            # Gammu asks the SMSC for a report when the PDU type is
            # Status_Report (it still encodes an SMS-SUBMIT with TP-SRR set).
            message["Type"] = "Status_Report" if request_delivery_report else "Submit"
        return messages

    def send(self, number, text, request_delivery_report=True):
        """Send ``text`` to ``number``; return the message reference of each
        part, in order.  On failure after some parts went out, the raised
        :class:`ModemError` lists them in ``sent_references``."""
        messages = self.build_messages(number, text, request_delivery_report)
        references = []
        for message in messages:
            try:
                references.append(int(self.machine.SendSMS(message)))
            except gammu.GSMError as exc:
                raise _wrap(
                    exc,
                    f"Sending part {len(references) + 1}/{len(messages)}",
                    sent_references=references,
                ) from exc
        _logger.info("Sent %d part(s) to %s", len(references), number)
        return references

    # -- health ----------------------------------------------------------

    def _optional(self, func, *args, **kwargs):
        try:
            return func(*args, **kwargs)
        except gammu.GSMError as exc:
            _logger.debug("%s not available: %s", func.__name__, exc)
            return None

    def status(self):
        """Health figures; each is None when the phone cannot tell.

        Keys: ``signal_percent``, ``battery_percent``, ``network``,
        ``network_code``, ``network_state``, ``imei``, ``manufacturer``,
        ``model``, ``sms_used``, ``sms_size``.
        """
        machine = self.machine
        result = dict.fromkeys(
            (
                "signal_percent",
                "battery_percent",
                "network",
                "network_code",
                "network_state",
                "imei",
                "manufacturer",
                "model",
                "sms_used",
                "sms_size",
            )
        )
        signal = self._optional(machine.GetSignalQuality)
        if signal and signal.get("SignalPercent", -1) >= 0:
            result["signal_percent"] = signal["SignalPercent"]
        battery = self._optional(machine.GetBatteryCharge)
        if battery and battery.get("BatteryPercent", -1) >= 0:
            result["battery_percent"] = battery["BatteryPercent"]
        network = self._optional(machine.GetNetworkInfo)
        if network:
            result["network"] = network.get("NetworkName") or network.get("NetworkCode")
            result["network_code"] = network.get("NetworkCode") or None
            result["network_state"] = network.get("State") or None
        result["imei"] = self._optional(machine.GetIMEI) or None
        result["manufacturer"] = self._optional(machine.GetManufacturer) or None
        model = self._optional(machine.GetModel)
        if model:
            code, name = (list(model) + [None, None])[:2]
            result["model"] = name if name and name != "unknown" else code
        memory = self._optional(machine.GetSMSStatus)
        if memory:
            result["sms_used"] = memory.get("SIMUsed", 0) + memory.get("PhoneUsed", 0)
            result["sms_size"] = memory.get("SIMSize", 0) + memory.get("PhoneSize", 0)
        return result
