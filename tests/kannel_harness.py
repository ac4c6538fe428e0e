"""A real Kannel (bearerbox + smsbox) with a fake SMSC, on 127.0.0.1 only.

``KannelHarness`` writes a ``kannel.conf`` into a temporary directory, starts
``bearerbox``, ``smsbox`` and Kannel's ``fakesmsc`` test client as
subprocesses, waits until the fake SMSC is online and smsbox is connected,
and stops every process in :meth:`KannelHarness.stop` (also after failures).

* **Inbound** (MO): :meth:`inject` writes a line to fakesmsc's stdin
  (interactive mode); Kannel routes it to the ``sms-service`` whose
  ``get-url`` points at :class:`CaptureServer`, a tiny HTTP server thread
  that records every request.
* **Outbound** (MT): the fake SMSC driver hands each message to fakesmsc,
  which logs ``Got message N: <sender receiver type data>``; the harness
  parses those lines (:meth:`outbound`).
* **Delivery reports**: the fake SMSC driver itself generates the "SMSC
  success" (8) report and a final "delivered" (1) report when the dlr-mask
  asks for them; smsbox calls the message's ``dlr-url``, which tests point at
  the capture server.
"""

import contextlib
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from smslib.kannel import inbound_url_for, render_kannel_conf

BEARERBOX = shutil.which("bearerbox") or "/usr/sbin/bearerbox"
SMSBOX = shutil.which("smsbox") or "/usr/sbin/smsbox"
FAKESMSC_CANDIDATES = (
    "/usr/lib/kannel/test/fakesmsc",
    "/usr/libexec/kannel/test/fakesmsc",
    "/usr/lib/kannel/fakesmsc",
)
FAKESMSC = next((p for p in FAKESMSC_CANDIDATES if os.access(p, os.X_OK)), None)

SENDSMS_USER = "odoo"
SENDSMS_PASSWORD = "s3cret-pass"
ADMIN_PASSWORD = "admin-pass"
SERVICE_NUMBER = "1708"  # the centre's receiving number (short code)
GATEWAY_TOKEN = "test-gateway-token"


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
    if missing:
        return "Kannel binaries not installed: " + ", ".join(missing)
    return None


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class CapturedRequest:
    method: str
    path: str
    raw_query: str
    query: dict
    headers: dict
    body: bytes

    def param(self, name):
        values = self.query.get(name)
        return values[0] if values else None


class CaptureServer:
    """HTTP server thread on 127.0.0.1 that records requests.

    ``status`` (int or callable(request) -> int) is the answer code;
    the body is always empty so that Kannel sends no reply SMS.
    """

    def __init__(self, status=200):
        self.requests = queue.Queue()
        self.status = status
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parsed = urllib.parse.urlsplit(self.path)
                request = CapturedRequest(
                    method=self.command,
                    path=parsed.path,
                    raw_query=parsed.query,
                    query=urllib.parse.parse_qs(parsed.query, keep_blank_values=True),
                    headers=dict(self.headers.items()),
                    body=body,
                )
                status = owner.status
                if callable(status):
                    status = status(request)
                owner.requests.put(request)
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = _handle
            do_POST = _handle

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, predicate=lambda r: True, timeout=15):
        """Return the first recorded request matching ``predicate``."""
        deadline = time.monotonic() + timeout
        skipped = []
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("no matching HTTP request received")
                try:
                    request = self.requests.get(timeout=remaining)
                except queue.Empty:
                    raise TimeoutError("no matching HTTP request received") from None
                if predicate(request):
                    return request
                skipped.append(request)
        finally:
            for request in skipped:
                self.requests.put(request)

    def drain(self):
        items = []
        while True:
            try:
                items.append(self.requests.get_nowait())
            except queue.Empty:
                return items

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@dataclass
class OutboundLine:
    """A message Kannel handed to the fake SMSC."""

    sender: str
    receiver: str
    kind: str  # text | data | ucs-2 | udh ...
    udh: bytes = b""
    data: bytes = b""
    raw: str = field(default="", repr=False)

    @property
    def text(self):
        """Payload as text (UCS-2 decoded, or GSM/UTF-8 text)."""
        if self.kind in ("ucs-2", "ucs2"):
            return self.data.decode("utf-16-be")
        return self.data.decode("utf-8")

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
    sender, receiver, kind, rest = (line.split(" ", 3) + ["", "", "", ""])[:4]
    unquote = urllib.parse.unquote_to_bytes
    if kind == "udh":
        udh, _data_kw, data = (rest.split(" ", 2) + ["", ""])[:3]
        return OutboundLine(
            sender,
            receiver,
            kind,
            udh=unquote(udh.replace("+", " ")),
            data=unquote(data.replace("+", " ")),
            raw=line,
        )
    if kind == "text":
        return OutboundLine(sender, receiver, kind, data=rest.encode(), raw=line)
    return OutboundLine(
        sender, receiver, kind, data=unquote(rest.replace("+", " ")), raw=line
    )


class KannelHarness:
    """Start/stop a Kannel with a fake SMSC; see the module docstring."""

    def __init__(self, workdir, inbound_status=200, mo_recode=True):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.mo_recode = mo_recode
        self.capture = CaptureServer(status=inbound_status)
        self.admin_port = free_port()
        self.smsbox_port = free_port()
        self.sendsms_port = free_port()
        self.fake_port = free_port()
        self.processes = {}
        self._outbound = queue.Queue()
        self._fake_log = []
        self._sent = 0
        self._sent_changed = threading.Condition()
        self.sendsms_url = f"http://127.0.0.1:{self.sendsms_port}/cgi-bin/sendsms"
        self.base_url = f"http://127.0.0.1:{self.sendsms_port}"

    # -- configuration ---------------------------------------------------

    def config_text(self):
        """The kannel.conf from :func:`render_kannel_conf`, the very function
        whose output the documentation shows, with a fake SMSC."""
        smsc_group = f"""\
group = smsc
smsc = fake
smsc-id = fake
port = {self.fake_port}
connect-allow-ip = "127.0.0.1"
"""
        return render_kannel_conf(
            inbound_url=inbound_url_for(self.capture.base_url, GATEWAY_TOKEN),
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
            mo_recode=self.mo_recode,
            http_request_retry=3,
            http_queue_delay=1,
        )

    # -- processes -------------------------------------------------------

    def _spawn(self, name, args, **kwargs):
        log = open(self.dir / f"{name}.out", "wb")  # noqa: SIM115 - kept open
        process = subprocess.Popen(
            args,
            cwd=self.dir,
            stdout=kwargs.pop("stdout", log),
            stderr=kwargs.pop("stderr", subprocess.STDOUT),
            start_new_session=True,
            **kwargs,
        )
        process._harness_log = log
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
                [
                    FAKESMSC,
                    "-H",
                    "127.0.0.1",
                    "-r",
                    str(self.fake_port),
                    "-i",
                    "0",
                    "-v",
                    "0",
                ],
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
            self._fake_log.append(raw)
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

    def admin_status(self):
        import requests

        answer = requests.get(
            f"http://127.0.0.1:{self.admin_port}/status.txt",
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
                status = self.admin_status()
            except OSError:
                status = ""
            smsc_online = re.search(r"FAKE:\d+\s+\(online", status)
            box_online = re.search(r"smsbox:.*\(on-line", status)
            if smsc_online and box_online:
                return
            time.sleep(0.1)
        raise TimeoutError(f"Kannel not ready:\n{status}")

    def stop(self):
        """Stop every process (SIGTERM, then SIGKILL) and the HTTP server."""
        for name in ("fakesmsc", "smsbox", "bearerbox"):
            process = self.processes.get(name)
            if process is None or process.poll() is not None:
                continue
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
            for stream in (process.stdin, process.stderr):
                if stream:
                    stream.close()
            process._harness_log.close()
        self.processes = {}
        self.capture.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # -- traffic ---------------------------------------------------------

    def inject(self, line, timeout=10):
        """Send one MO line through fakesmsc: ``sender receiver type data``.

        fakesmsc reads stdin with ``fgets`` into a 256-byte buffer after a
        ``select``: lines must be shorter, and a second line written before
        the first was consumed would sit in stdio's buffer unseen.  So this
        waits until fakesmsc logs that it sent the line.
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
            try:
                lines.append(self._outbound.get(timeout=remaining))
            except queue.Empty:
                continue
        return lines

    def log(self, name):
        path = self.dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""
