"""A real Odoo server process on a scratch database, for system tests and
benchmarks.

Odoo-free like ``kannel_process``: the Odoo-free tests of ``tests/`` and the
scripts of ``benchmarks/`` import it without importing Odoo (see
``tests/conftest.py``). Odoo runs as the ``odoo`` command does (``python -m
odoo``, ``TZ=UTC``) with its own configuration file, data directory and log
file, in a process group of its own, so that :meth:`OdooServer.kill` takes
the whole prefork server (master, HTTP workers, cron workers) down at once
with SIGKILL, as a power cut or the OOM killer would.

* :func:`odoo_missing`: why Odoo 18 cannot run here, or None;
* :func:`create_database`: a scratch database with ``sms_center``
  installed (or a copy of a template database), :func:`drop_database`;
* :func:`odoo_shell`: run Python with an Odoo ``env`` on a database (``odoo
  shell``), e.g. to prepare data;
* :class:`OdooServer`: start (and wait for ``/web/health``), stop, kill,
  and the ERROR/CRITICAL lines of its log.
"""

import contextlib
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]
#: A log record of Odoo's format at level ERROR or CRITICAL.
ERROR_LINE = re.compile(
    r"^\d{4}-\d{2}-\d{2} [\d:,]+ \d+ (ERROR|CRITICAL) ", re.MULTILINE
)

#: The start of any log record of Odoo's format.
LOG_RECORD = re.compile(r"^\d{4}-\d{2}-\d{2} [\d:,]+ \d+ [A-Z]+ ")
AST_RACE = "SystemError: AST constructor recursion depth mismatch"


def python():
    """The interpreter that runs Odoo (``SMS_CENTER_PYTHON`` as the scripts)."""
    return os.environ.get("SMS_CENTER_PYTHON") or sys.executable


def odoo_missing():
    """Why Odoo 18 cannot be run by :func:`python` here, or None."""
    try:
        answer = subprocess.run(
            [python(), "-c", "import odoo.release as r; print(r.version_info[0])"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"cannot run {python()}: {exc}"
    if answer.returncode:
        return "Odoo is not importable by " + python()
    if answer.stdout.strip() != "18":
        return f"the importable Odoo is version {answer.stdout.strip()}, not 18"
    if not shutil.which("createdb") or not shutil.which("psql"):
        return "the PostgreSQL client programs (createdb, psql) are missing"
    return None


def addons_path():
    """Odoo's standard addons and this repository (as scripts/lib.sh)."""
    spec = importlib.util.find_spec("odoo")
    odoo_dir = Path(next(iter(spec.submodule_search_locations)))
    standard = odoo_dir.parent / "addons"
    if not (standard / "web" / "__manifest__.py").exists():
        standard = odoo_dir / "addons"
    return f"{standard},{REPO}"


def _odoo_command(config, db, *args):
    return [python(), "-m", "odoo", "-c", str(config), "-d", db, *args]


def _environ():
    return dict(os.environ, TZ="UTC")


def write_config(workdir):
    """An Odoo configuration file in ``workdir`` (no ~/.odoorc)."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "odoo.conf"
    config.write_text(
        "[options]\n"
        f"data_dir = {workdir / 'data'}\n"
        f"addons_path = {addons_path()}\n"
        "without_demo = False\n"
    )
    return config


def database_exists(db):
    answer = subprocess.run(
        [
            "psql",
            "-X",
            "-d",
            "postgres",
            "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname = '{db}'",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return answer.stdout.strip() == "1"


def drop_database(db):
    subprocess.run(
        ["dropdb", "--if-exists", "--force", db],
        capture_output=True,
        check=False,
    )


def create_database(db, workdir, template=None, demo=False, timeout=1200):
    """A scratch database ``db``: a copy of ``template`` (which nobody may be
    connected to) with ``sms_center`` updated to this code, or a fresh one
    with ``sms_center`` installed (``demo``: with demo data). Returns the
    log's path."""
    drop_database(db)
    config = write_config(workdir)
    log = Path(workdir) / "install.log"
    args = ["--stop-after-init", "--no-http"]
    args += ["--max-cron-threads=0", f"--logfile={log}"]
    if template:
        subprocess.run(["createdb", "-T", template, db], check=True)
        args += ["-u", "sms_center"]
    else:
        args += ["-i", "sms_center"]
    if not demo and not template:
        args.append("--without-demo=all")
    subprocess.run(
        _odoo_command(config, db, *args),
        env=_environ(),
        check=True,
        timeout=timeout,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return log


def odoo_shell(db, workdir, code, timeout=600):
    """Run ``code`` in ``odoo shell`` on ``db`` (``env`` is defined; commit
    with ``env.cr.commit()``); its standard output."""
    config = write_config(workdir)
    answer = subprocess.run(
        [python(), "-m", "odoo", "shell", "-c", str(config), "-d", db]
        + ["--no-http", "--log-level=warn"]
        + [f"--logfile={Path(workdir) / 'shell.log'}"],
        input=code,
        env=_environ(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if answer.returncode:
        raise RuntimeError(
            f"odoo shell failed ({answer.returncode}):\n"
            f"{answer.stdout}\n{answer.stderr}"
        )
    if "Traceback (most recent call last)" in answer.stdout + answer.stderr:
        raise RuntimeError(f"odoo shell raised:\n{answer.stdout}\n{answer.stderr}")
    return answer.stdout


class OdooServer:
    """``python -m odoo`` serving ``db`` on 127.0.0.1:``port``.

    ``workers`` HTTP worker processes (prefork, 0: threaded) and
    ``cron_threads`` cron workers. Each start logs to a file of its own
    (``server-<n>.log`` in ``workdir``): :meth:`errors` reads them all.
    """

    def __init__(
        self, db, workdir, port, workers=2, cron_threads=1, extra=(), environ=None
    ):
        self.db = db
        self.environ = dict(environ or {})
        self.workdir = Path(workdir)
        self.port = port
        self.workers = workers
        self.cron_threads = cron_threads
        self.extra = list(extra)
        self.url = f"http://127.0.0.1:{port}"
        self.process = None
        self.logs = []

    def start(self, timeout=180, cron_threads=None):
        if cron_threads is not None:
            self.cron_threads = cron_threads
        config = write_config(self.workdir)
        log = self.workdir / f"server-{len(self.logs) + 1}.log"
        self.logs.append(log)
        args = [
            "--http-interface=127.0.0.1",
            f"--http-port={self.port}",
            f"--db-filter=^{re.escape(self.db)}$",
            f"--workers={self.workers}",
            f"--max-cron-threads={self.cron_threads}",
            f"--logfile={log}",
            # Webhooks take a few milliseconds; the defaults are for pages.
            "--limit-time-real=300",
            *self.extra,
        ]
        self.process = subprocess.Popen(
            _odoo_command(config, self.db, *args),
            env=dict(_environ(), **self.environ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"Odoo exited with {self.process.returncode}; see {log}"
                )
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.url}/web/health", timeout=2).ok:
                    return self
            time.sleep(0.2)
        self.stop()
        raise TimeoutError(f"Odoo did not answer /web/health; see {log}")

    def kill(self):
        """SIGKILL the whole server (master and workers) at once."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None

    def stop(self, timeout=60):
        """Stop gracefully (SIGTERM; SIGKILL if it lingers)."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        # Prefork workers leave after their master: wait for the group.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        self.process = None

    def log_text(self):
        return "".join(
            log.read_text(errors="replace") for log in self.logs if log.exists()
        )

    def errors(self):
        """The ERROR and CRITICAL lines of every log of this server, except
        two that come from the test's own set-up, not from the center:

        * what is logged once a graceful stop began (the test's last step):
          Odoo's threaded server closes its connection pool under a cron
          job that is still running ("cursor already closed");
        * CPython 3.11's thread-unsafe AST constructor ("AST constructor
          recursion depth mismatch", python/cpython#106905), hit when the
          threaded server parses manifests in one thread while another
          compiles; the gateway gets a 500 and sends the SMS again.
          Production runs prefork workers, one thread each.
        """
        errors = []
        for log in self.logs:
            if not log.exists():
                continue
            lines = log.read_text(errors="replace").splitlines()
            for index, line in enumerate(lines):
                if " odoo.service.server: Initiating shutdown" in line:
                    break
                if not ERROR_LINE.match(line):
                    continue
                record = [line]
                for following in lines[index + 1 :]:
                    if LOG_RECORD.match(following):
                        break
                    record.append(following)
                if any(AST_RACE in text for text in record):
                    continue
                errors.append(line)
        return errors

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


def scratch_dir(prefix):
    return Path(tempfile.mkdtemp(prefix=prefix))
