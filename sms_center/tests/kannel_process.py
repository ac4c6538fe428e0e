"""A real Kannel (bearerbox + smsbox + fakesmsc) for the tests.

The one Kannel harness of the repository: the Odoo tests use it, and so do
the Odoo-free tests of ``tests/`` (which import it without Odoo, see
``tests/conftest.py``), hence it imports nothing but ``..lib``. Everything
listens on 127.0.0.1 on free ports; the ``kannel.conf`` is the one
:func:`render_kannel_conf` renders, the very function whose output the
administrator documentation shows, with a fake SMSC in place of the
operator link.

* **Inbound** (MO): :meth:`KannelProcess.inject` writes a line to
  fakesmsc's stdin; Kannel calls the ``sms-service`` URL: Odoo's webhook,
  or, when no ``inbound_url`` is given, :class:`CaptureServer`, a tiny
  HTTP server thread that records every request.
* **Outbound** (MT): fakesmsc logs every message Kannel hands to it
  (``Got message N: <sender receiver type data>``), parsed by
  :meth:`KannelProcess.outbound`.
* **Delivery reports**: Kannel's fake SMSC driver produces the "SMSC
  accepted" (8) and "delivered" (1) reports itself when the dlr-mask asks
  for them; smsbox calls each message's ``dlr-url`` (Odoo's webhook, or
  the capture server's ``base_url``).

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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

from ..lib.kannel import INBOUND_QUERY, inbound_url_for, render_kannel_conf

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
SERVICE_NUMBER = "1708"  # the centre's receiving number (short code)
GATEWAY_TOKEN = "test-gateway-token"  # in the capture server's inbound URL

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
            # Headers and body leave in two writes: without TCP_NODELAY the
            # body waits for the client's delayed ACK (40 ms per request).
            disable_nagle_algorithm = True

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
    """Start/stop a Kannel with a fake SMSC calling ``inbound_url``.

    Without ``inbound_url``, :meth:`start` starts a :class:`CaptureServer`
    (``self.capture``, answering ``inbound_status``) and Kannel calls it.
    ``post`` uses the ``post-url`` variant of the sms-service; ``mo_recode``
    is Kannel's option of that name; ``log_level`` that of its logs (0:
    debug). ``workdir`` (kannel.conf, logs, spool) is kept; without it a
    temporary directory is made and removed by :meth:`stop`.
    """

    def __init__(
        self,
        inbound_url=None,
        *,
        post=False,
        http_request_retry=3,
        mo_recode=True,
        inbound_status=200,
        workdir=None,
        log_level=0,
    ):
        self.own_dir = workdir is None
        if self.own_dir:
            self.dir = Path(tempfile.mkdtemp(prefix="sms_center_kannel_"))
        else:
            self.dir = Path(workdir)
            self.dir.mkdir(parents=True, exist_ok=True)
        self.inbound_url = inbound_url
        self.inbound_status = inbound_status
        self.capture = None
        self.post = post
        self.http_request_retry = http_request_retry
        self.mo_recode = mo_recode
        # 0 (debug) shows every PDU; a flood test wants 1 (info): at debug
        # level smsbox is slowed down by its own log.
        self.log_level = log_level
        self.admin_port = free_port()
        self.smsbox_port = free_port()
        self.sendsms_port = free_port()
        self.fake_port = free_port()
        self.processes = {}
        self._outbound = queue.Queue()
        self._sent = 0
        self._sent_changed = threading.Condition()
        self.base_url = f"http://127.0.0.1:{self.sendsms_port}"  # KannelClient's
        self.sendsms_url = f"{self.base_url}/cgi-bin/sendsms"
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
            log_level=self.log_level,
            mo_recode=self.mo_recode,
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
        try:
            if self.inbound_url is None:
                self.capture = CaptureServer(status=self.inbound_status)
                self.inbound_url = inbound_url_for(self.capture.base_url, GATEWAY_TOKEN)
            conf = self.dir / "kannel.conf"
            conf.write_text(self.config_text())
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
        """Stop every process (SIGTERM, then SIGKILL) and the capture server;
        remove the temporary directory (not a given ``workdir``)."""
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
        if self.capture is not None:
            self.capture.stop()
        if self.own_dir:
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
