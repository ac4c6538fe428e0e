"""A Gammu ``dummy`` phone in a temporary directory, for real-Gammu tests.

The one Gammu harness of the repository: the Odoo tests use it, and so do
the Odoo-free tests of ``tests/`` (which import it without Odoo, see
``tests/conftest.py``), hence it imports nothing but ``..lib``.

Facts about the dummy driver (Gammu 1.45, ``libgammu/phone/dummy/dummy.c``):

* ``Device`` is a directory; ``Init`` creates ``sms/1`` ... ``sms/5`` (1 SIM
  inbox, 2 SIM outbox, 3 phone inbox, 4 phone outbox, 5 templates), ``pbk``,
  ``fs``, ... and truncates ``operations.log``.
* Each stored SMS is one file ``sms/<folder>/<n>`` (n = 1..9999) in Gammu's
  text *SMS backup* format (``[SMSBackup000]`` sections: ``PDU``, ``Number``,
  ``DateTime``, ``UDH`` hex, ``Text00`` UTF-16BE hex, ``Coding``,
  ``DeliveryStatus``, ``MessageReference``...).  One file may hold several
  SMS; they then share a location.
* ``GetNextSMS`` walks folders 1→5 and reports location
  ``n + folder * 10000``; ``DeleteSMS`` with folder 0 converts it back and
  unlinks the file.
* ``SendSMS`` stores nothing: it encodes the PDU, logs it to the *debug log*
  and reports message reference 255.  Outbound is therefore read back from
  Gammu's own debug log (``DebugFile`` + ``DebugLevel = textall``), which
  shows recipient, SMSC, UDH bytes, coding and text of each submitted part.

Injected SMS are written with ``gammu.SaveSMSBackup``: Gammu's own writer of
the format the dummy driver reads.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

try:
    import gammu
except ImportError:  # pragma: no cover - the tests using it are skipped
    gammu = None

from ..lib import dlr

SIM_INBOX = 1
PHONE_INBOX = 3


@dataclass
class SentPart:
    """One SMS-SUBMIT as Gammu encoded it."""

    recipient: str
    smsc: str
    udh: bytes
    coding: str  # "gsm7", "ucs2" or "8bit"
    text: str

    @property
    def concat(self):
        """``(ref, part_no, part_count)`` from a concatenation UDH, or None."""
        udh = self.udh
        if len(udh) >= 6 and udh[1] == 0x00 and udh[2] == 3:
            return udh[3], udh[5], udh[4]
        if len(udh) >= 7 and udh[1] == 0x08 and udh[2] == 4:
            return int.from_bytes(udh[3:5], "big"), udh[6], udh[5]
        return None


class DummyPhone:
    """Temporary dummy-device directory plus helpers to fill and inspect it."""

    def __init__(self, root):
        self.root = Path(root)
        self.device = self.root / "phone"
        for folder in range(1, 6):
            (self.device / "sms" / str(folder)).mkdir(parents=True, exist_ok=True)
        self.debug_log = self.root / "gammu-debug.log"
        self.lock_path = str(self.root / "modem.lock")

    def config(self, **extra):
        """A gammurc-like dict for :class:`GammuModem`."""
        config = {
            "Device": str(self.device),
            "Connection": "none",
            "Model": "dummy",
            "DebugFile": str(self.debug_log),
            "DebugLevel": "textall",
            "UseGlobalDebugFile": False,
        }
        config.update(extra)
        return config

    # -- injecting -------------------------------------------------------

    def _free_path(self, folder):
        directory = self.device / "sms" / str(folder)
        for n in range(1, 10000):
            path = directory / str(n)
            if not path.exists():
                return path
        raise RuntimeError("dummy folder full")

    def _save(self, sms, folder):
        path = self._free_path(folder)
        gammu.SaveSMSBackup(str(path), [sms])
        return path

    def inject_sms(
        self,
        sender,
        text,
        at=None,
        smsc="+6281100000",
        udh=None,
        folder=SIM_INBOX,
    ):
        """Store one received SMS (SMS-DELIVER); return its file path."""
        sms = {
            "SMSC": {"Location": 0, "Number": smsc},
            "Number": sender,
            "Type": "Deliver",
            "State": "UnRead",
            "DateTime": at or datetime(2024, 5, 1, 3, 0, tzinfo=UTC),
            "Folder": folder,
            "Text": text,
            "Coding": (
                "Default_No_Compression"
                if dlr.is_gsm7(text)
                else "Unicode_No_Compression"
            ),
        }
        if udh is not None:
            sms["UDH"] = udh
        return self._save(sms, folder)

    def inject_multipart(
        self,
        sender,
        texts,
        ref,
        at=None,
        folder=SIM_INBOX,
        only=None,
        ref16=False,
    ):
        """Store the parts of a concatenated SMS, one file each.

        ``texts`` are the part texts in order; ``only`` (1-based part numbers)
        stores just those parts, to simulate parts arriving in later polls.
        """
        count = len(texts)
        paths = []
        for number, text in enumerate(texts, start=1):
            if only is not None and number not in only:
                continue
            if ref16:
                raw = bytes([6, 8, 4]) + ref.to_bytes(2, "big") + bytes([count, number])
                udh = {
                    "Type": "ConcatenatedMessages16bit",
                    "Text": raw,
                    "ID8bit": -1,
                    "ID16bit": ref,
                    "PartNumber": number,
                    "AllParts": count,
                }
            else:
                raw = bytes([5, 0, 3, ref, count, number])
                udh = {
                    "Type": "ConcatenatedMessages",
                    "Text": raw,
                    "ID8bit": ref,
                    "ID16bit": -1,
                    "PartNumber": number,
                    "AllParts": count,
                }
            paths.append(self.inject_sms(sender, text, at=at, udh=udh, folder=folder))
        return paths

    def inject_status_report(
        self, recipient, reference, delivery_status, at=None, folder=SIM_INBOX
    ):
        """Store an SMS-STATUS-REPORT for message reference ``reference``."""
        sms = {
            "SMSC": {"Location": 0, "Number": ""},
            "Number": recipient,
            "Type": "Status_Report",
            "DateTime": at or datetime(2024, 5, 1, 3, 0, tzinfo=UTC),
            "DeliveryStatus": delivery_status,
            "MessageReference": reference,
            "Folder": folder,
            "Text": "Delivered" if delivery_status < 0x20 else "Failed",
            "Coding": "Default_No_Compression",
        }
        return self._save(sms, folder)

    def stored_files(self, folder=None):
        folders = [folder] if folder else range(1, 6)
        return sorted(
            path
            for f in folders
            for path in (self.device / "sms" / str(f)).iterdir()
            if path.is_file()
        )

    # -- reading what was sent -------------------------------------------

    def sent_parts(self):
        """Every SMS-SUBMIT Gammu encoded, parsed from its debug log.

        Read it after the modem session is closed (Gammu buffers the log).
        """
        if not self.debug_log.exists():
            return []
        lines = self.debug_log.read_text(encoding="utf-8").splitlines()
        parts = []
        i = 0
        while i < len(lines):
            if lines[i] != "Entering GSM_SendSMS":
                i += 1
                continue
            end = lines.index("Leaving GSM_SendSMS", i)
            parts.append(_parse_submit(lines[i:end]))
            i = end + 1
        return parts


def _hex_bytes(lines, start, count):
    """Read ``count`` bytes of Gammu's DumpMessage output from ``start``."""
    data = bytearray()
    row = start
    while len(data) < count:
        line = lines[row]
        if not line.strip():
            row += 1
            continue
        for i in range(16):
            token = line[4 * i : 4 * i + 2]
            if len(data) == count or not re.fullmatch(r"[0-9A-F]{2}", token):
                break
            data.append(int(token, 16))
        row += 1
    return bytes(data), row


def _parse_submit(block):
    recipient = smsc = ""
    udh = b""
    coding = None
    text = ""
    i = 0
    while i < len(block):
        line = block[i]
        match = re.match(r'Recipient number "(.*)"', line)
        if match:
            recipient = match.group(1)
        match = re.match(r'SMSC number "(.*)"', line)
        if match:
            smsc = match.group(1)
        match = re.match(r"UDH, length (\d+)", line)
        if match:
            udh, i = _hex_bytes(block, i + 1, int(match.group(1)))
            continue
        match = re.match(r"Unicode SMS, length (\d+)", line)
        if match:
            raw, i = _hex_bytes(block, i + 1, 2 * int(match.group(1)))
            coding, text = "ucs2", raw.decode("utf-16-be")
            break
        if re.match(r"7 bit SMS, length", line):
            coding, text = "gsm7", "\n".join(block[i + 1 :])
            break
        if re.match(r"8 bit SMS, length", line):
            coding = "8bit"
            break
        i += 1
    return SentPart(recipient=recipient, smsc=smsc, udh=udh, coding=coding, text=text)
