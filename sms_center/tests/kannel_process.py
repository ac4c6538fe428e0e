"""A real Kannel (bearerbox + smsbox + fakesmsc) for the Odoo tests.

Adapted from the repository's ``tests/kannel_harness.py`` (the addon must
not import the repository's test package). Everything listens on 127.0.0.1
on free ports; the ``kannel.conf`` is the one :func:`render_kannel_conf`
renders, the very function whose output the administrator documentation
shows, with a fake SMSC in place of the operator link.

* **Inbound** (MO): :meth:`KannelProcess.inject` writes a line to
  fakesmsc's stdin; Kannel calls the ``sms-service`` URL (Odoo's webhook).
* **Outbound** (MT): fakesmsc logs every message Kannel hands to it
  (``Got message N: <sender receiver type data>``), parsed by
  :meth:`KannelProcess.outbound`.
* **Delivery reports**: Kannel's fake SMSC driver produces the "SMSC
  accepted" (8) and "delivered" (1) reports itself when the dlr-mask asks
  for them; smsbox calls each message's ``dlr-url``.

:meth:`KannelProcess.stop` kills every process it started (process groups,
SIGTERM then SIGKILL), also when starting failed half-way.
"""

import contextlib
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import requests

from ..lib.kannel import INBOUND_QUERY, render_kannel_conf

BEARERBOX = shutil.which("bearerbox") or "/usr/sbin/bearerbox"
SMSBOX = shutil.which("smsbox") or "/usr/sbin/smsbox"
FAKESMSC = next(
    (
        path
        for path in (
            "/usr/lib/kannel/test/fakesmsc",
            "/usr/libexec/kannel/test/fakesmsc",
            "/usr/lib/kannel/fakesmsc",
        )
        if os.access(path, os.X_OK)
    ),
    None,
)

SENDSMS_USER = "odoo"
SENDSMS_PASSWORD = "s3cret-pass"
ADMIN_PASSWORD = "admin-pass"
SERVICE_NUMBER = "1708"

#: Query of the ``post-url`` variant: the text travels in the body.
POST_QUERY = "from=%p&to=%P&coding=%c&charset=%C&ts=%T&id=%I&smsc=%i"


def missing_binaries():
    """Reason string when Kannel cannot run here, else None."""
    missing = [
        name
        for name, path in (
            ("bearerbox", BEARERBOX),
            ("smsbox", SMSBOX),
            ("fakesmsc", FAKESMSC),
        )
        if not path or not os.access(path, os.X_OK)
    ]
    return ("Kannel binaries not installed: " + ", ".join(missing)) if missing else None


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class OutboundLine:
    """A message Kannel handed to the fake SMSC."""

    sender: str
    receiver: str
    kind: str  # text | data | udh ...
    udh: bytes = b""
    data: bytes = b""
    raw: str = field(default="", repr=False)

    @property
    def concat(self):
        """``(ref, part_no, part_count)`` from a concatenation UDH, or None."""
        udh = self.udh
        if len(udh) >= 6 and udh[1] == 0x00 and udh[2] == 3:
            return udh[3], udh[5], udh[4]
        if len(udh) >= 7 and udh[1] == 0x08 and udh[2] == 4:
            return int.from_bytes(udh[3:5], "big"), udh[6], udh[5]
        return None


def parse_fakesmsc_line(line):
    """Parse ``sender receiver type ...`` as printed by fakesmsc."""
    sender, receiver, kind, rest = ([*line.split(" ", 3), "", "", "", ""])[:4]

    def unquote(value):
        return urllib.parse.unquote_to_bytes(value.replace("+", " "))

    if kind == "udh":
        udh, _data_kw, data = ([*rest.split(" ", 2), "", ""])[:3]
        return OutboundLine(
            sender, receiver, kind, udh=unquote(udh), data=unquote(data), raw=line
        )
    if kind == "text":
        return OutboundLine(sender, receiver, kind, data=rest.encode(), raw=line)
    return OutboundLine(sender, receiver, kind, data=unquote(rest), raw=line)


def join_parts(lines, codec):
    """Text of a message from the fakesmsc lines of its parts (any order)."""
    if len(lines) == 1 and not lines[0].concat:
        return lines[0].data.decode(codec)
    ordered = sorted(lines, key=lambda line: line.concat[1])
    return b"".join(line.data for line in ordered).decode(codec)


class KannelProcess:
    """Start/stop a Kannel with a fake SMSC calling ``inbound_url``."""

    def __init__(self, inbound_url, post=False, http_request_retry=3):
        self.dir = Path(tempfile.mkdtemp(prefix="sms_center_kannel_"))
        self.inbound_url = inbound_url
        self.post = post
        self.http_request_retry = http_request_retry
        self.admin_port = free_port()
        self.smsbox_port = free_port()
        self.sendsms_port = free_port()
        self.fake_port = free_port()
        self.processes = {}
        self._outbound = queue.Queue()
        self._sent = 0
        self._sent_changed = threading.Condition()
        self.sendsms_url = f"http://127.0.0.1:{self.sendsms_port}/cgi-bin/sendsms"
        self.admin_url = f"http://127.0.0.1:{self.admin_port}"

    def config_text(self):
        smsc_group = f"""\
group = smsc
smsc = fake
smsc-id = fake
port = {self.fake_port}
connect-allow-ip = "127.0.0.1"
"""
        conf = render_kannel_conf(
            inbound_url=self.inbound_url,
            sendsms_username=SENDSMS_USER,
            sendsms_password=SENDSMS_PASSWORD,
            admin_password=ADMIN_PASSWORD,
            smsc_group=smsc_group,
            admin_port=self.admin_port,
            smsbox_port=self.smsbox_port,
            sendsms_port=self.sendsms_port,
            log_dir=str(self.dir),
            spool_dir=str(self.dir),
            log_level=0,
            http_request_retry=self.http_request_retry,
            http_queue_delay=1,
        )
        if self.post:
            get_line = f'get-url = "{self.inbound_url}?{INBOUND_QUERY}"'
            assert get_line in conf
            conf = conf.replace(
                get_line, f'post-url = "{self.inbound_url}?{POST_QUERY}"'
            )
        return conf

    # -- processes ---------------------------------------------------------

    def _spawn(self, name, args, **kwargs):
        log = open(self.dir / f"{name}.out", "wb")  # noqa: SIM115 - closed in stop()
        try:
            process = subprocess.Popen(
                args,
                cwd=self.dir,
                stdout=kwargs.pop("stdout", log),
                stderr=kwargs.pop("stderr", subprocess.STDOUT),
                start_new_session=True,
                **kwargs,
            )
        except BaseException:
            log.close()
            raise
        process.sms_center_log = log
        self.processes[name] = process
        return process

    def start(self, timeout=20):
        reason = missing_binaries()
        if reason:
            raise RuntimeError(reason)
        conf = self.dir / "kannel.conf"
        conf.write_text(self.config_text())
        try:
            self._spawn("bearerbox", [BEARERBOX, "-v", "1", str(conf)])
            self._wait_port(self.smsbox_port, timeout, "bearerbox")
            self._wait_port(self.fake_port, timeout, "bearerbox fake smsc")
            self._spawn("smsbox", [SMSBOX, "-v", "1", str(conf)])
            self._wait_port(self.sendsms_port, timeout, "smsbox")
            fake = self._spawn(
                "fakesmsc",
                [FAKESMSC, "-H", "127.0.0.1", "-r", str(self.fake_port)]
                + ["-i", "0", "-v", "0"],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            threading.Thread(
                target=self._read_fakesmsc, args=(fake,), daemon=True
            ).start()
            self._wait_online(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _read_fakesmsc(self, process):
        pattern = re.compile(rb"Got message \d+: <(.*)>\s*$")
        sent = re.compile(rb"fakesmsc: sent message (\d+)")
        for raw in process.stderr:
            match = sent.search(raw)
            if match:
                with self._sent_changed:
                    self._sent = int(match.group(1))
                    self._sent_changed.notify_all()
            match = pattern.search(raw)
            if match:
                line = match.group(1).decode("utf-8", "surrogateescape")
                self._outbound.put(parse_fakesmsc_line(line))

    def _check_alive(self):
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(
                    f"{name} exited with {process.returncode}; see {self.dir}"
                )

    def _wait_port(self, port, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            with socket.socket() as sock:
                sock.settimeout(0.2)
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.05)
        raise TimeoutError(f"{what} did not open port {port}")

    def status(self):
        answer = requests.get(
            f"{self.admin_url}/status.txt",
            params={"password": ADMIN_PASSWORD},
            timeout=5,
        )
        return answer.text

    def _wait_online(self, timeout):
        deadline = time.monotonic() + timeout
        status = ""
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                status = self.status()
            except requests.RequestException:
                status = ""
            if re.search(r"FAKE:\d+\s+\(online", status) and re.search(
                r"smsbox:.*\(on-line", status
            ):
                return
            time.sleep(0.1)
        raise TimeoutError(f"Kannel not ready:\n{status}")

    def kill(self, name):
        """Stop one process (e.g. ``bearerbox`` to simulate an outage)."""
        process = self.processes.get(name)
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)

    def stop(self):
        """Stop every process (SIGTERM, then SIGKILL) and remove the files."""
        for name in ("fakesmsc", "smsbox", "bearerbox"):
            process = self.processes.get(name)
            if process is not None and process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
            for stream in (process.stdin, process.stderr):
                if stream:
                    with contextlib.suppress(OSError):
                        stream.close()
            process.sms_center_log.close()
        self.processes = {}
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # -- traffic -----------------------------------------------------------

    def inject(self, line, timeout=10):
        """Send one MO line through fakesmsc: ``sender receiver type data``.

        fakesmsc reads stdin 255 bytes at a time after a ``select``: lines
        must be shorter, and each one is written only after fakesmsc has
        sent the previous one.
        """
        data = (line + "\n").encode()
        if len(data) > 255:
            raise ValueError("fakesmsc reads at most 255 bytes per line")
        with self._sent_changed:
            target = self._sent + 1
            stdin = self.processes["fakesmsc"].stdin
            stdin.write(data)
            stdin.flush()
            if not self._sent_changed.wait_for(
                lambda: self._sent >= target, timeout=timeout
            ):
                raise TimeoutError("fakesmsc did not send the injected line")

    def outbound(self, count=1, timeout=15):
        """Wait for ``count`` messages handed to the fake SMSC."""
        deadline = time.monotonic() + timeout
        lines = []
        while len(lines) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"got {len(lines)} of {count} outbound messages")
            with contextlib.suppress(queue.Empty):
                lines.append(self._outbound.get(timeout=remaining))
        return lines

    def no_more_outbound(self, wait=1.0):
        """True when nothing else reaches the fake SMSC within ``wait``."""
        try:
            self._outbound.get(timeout=wait)
        except queue.Empty:
            return True
        return False

    def log(self, name):
        path = self.dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""
