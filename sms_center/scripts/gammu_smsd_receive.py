#!/usr/bin/env python3
# Copyright 2026 Regency SMS Center contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Hand the SMS that gammu-smsd has just received to SMS Center over XML-RPC.

gammu-smsd (Gammu's SMS daemon, which owns the GSM modem) runs this program
after storing each received message, with the message in its environment
(``SMS_MESSAGES``, ``SMS_1_NUMBER``, ``SMS_1_TEXT``, ``SMS_1_CLASS``,
``DECODED_PARTS``, ``DECODED_1_TEXT``... see gammu-smsd-run(7)) and the
message's own id(s) in its backend as arguments: file names for the files
backend, row ids for the SQL backends, one per physical part. This program
calls ``sms_center.message``'s ``store()`` on the Odoo server with that
id as ``gateway_message_id``, so that handing the same SMS over twice
stores it once. ``store()`` answers as soon as the SMS is stored (Odoo's
inbound router routes it right after), so that gammu-smsd, which waits for
this program, is not held up by routing when many SMS arrive at once.
Copied to ``/usr/local/bin/``, in ``/etc/gammu-smsdrc``::

    [smsd]
    RunOnReceive = /usr/local/bin/gammu_smsd_receive.py

The configuration file, ``/etc/sms-center/gammu-smsd-receive.conf`` (or
``--config FILE``; see ``gammu_smsd_receive.conf.example`` next to this
file), names the Odoo server, database, login and password (or API key)
and the SMS Center gateway code. When Odoo cannot be reached or refuses the
login, the SMS is kept as a JSON file in the spool directory, and
``--flush-spool`` (from cron, and after every later successful hand-over)
hands it over again. Standard library only, Python 3.7 or newer.

Exit status (sysexits.h, shown in gammu-smsd's log): 0 stored (or a
delivery report, ignored), 64 no SMS in the environment, 65 Odoo refused
the SMS itself (kept in <spool>/rejected/), 75 Odoo unreachable (kept in
the spool), 77 login or rights refused (kept in the spool), 78 bad
configuration.
"""

import argparse
import configparser
import fcntl
import hashlib
import json
import os
import re
import sys
import time
import uuid
import xmlrpc.client

DEFAULT_CONFIG = "/etc/sms-center/gammu-smsd-receive.conf"
EX_OK, EX_USAGE, EX_DATAERR = 0, 64, 65
EX_TEMPFAIL, EX_NOPERM, EX_CONFIG = 75, 77, 78
# Odoo's fault codes on /xmlrpc/2/: UserError/ValidationError, login refused,
# missing access rights. Any other fault (1) is an unexpected server error.
FAULT_USER_ERROR, FAULT_ACCESS_DENIED, FAULT_ACCESS_ERROR = 2, 3, 4
# The text Gammu gives a status report; Gammu 1.44+ also marks reports with
# SMS_n_SMSC_DATETIME / SMS_n_SENT_ID.
STATUS_REPORT_TEXTS = frozenset({"Delivered", "Failed", "Pending", "Unknown"})
# Characters XML 1.0 cannot carry: such a text travels as base64 UTF-8.
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
# gammu-smsd waits two minutes for this program: stay well within them.
FLUSH_BUDGET_SECONDS = 30


class ConfigError(Exception):
    """The configuration file is missing or incomplete."""


class Refused(Exception):
    """Odoo refused the SMS itself: retrying the same SMS cannot help."""


class NotAllowed(Exception):
    """Odoo refused the login or the rights: retry once an administrator
    has fixed the account."""


class Unreachable(Exception):
    """Odoo could not be reached or failed unexpectedly: retry later."""


def say(line, stream=None):
    """One line for gammu-smsd's log (it records this program's output)."""
    stream = stream or sys.stdout
    stream.write(f"sms-center: {line}\n")
    stream.flush()


def load_config(path):
    parser = configparser.ConfigParser(interpolation=None)
    try:
        found = parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as exc:
        raise ConfigError(f"unreadable configuration file {path}: {exc}") from exc
    if not found:
        raise ConfigError(f"cannot read the configuration file {path}")
    if not parser.has_section("odoo"):
        raise ConfigError(f"{path} has no [odoo] section")
    section = parser["odoo"]
    missing = [
        key
        for key in ("url", "database", "login", "password", "gateway")
        if not section.get(key, "").strip()
    ]
    if missing:
        raise ConfigError(f"{path}: [odoo] lacks {', '.join(missing)}")
    try:
        timeout = section.getfloat("timeout", 20.0)
        retry_for = section.getfloat("retry_for", 60.0)
    except ValueError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    return {
        "url": section["url"].strip().rstrip("/"),
        "database": section["database"].strip(),
        "login": section["login"].strip(),
        "password": section["password"].strip(),
        "gateway": section["gateway"].strip(),
        "recipient": section.get("recipient", "").strip(),
        "timeout": timeout,
        "retry_for": retry_for,
        "spool": section.get("spool", "").strip(),
    }


def gammu_environment():
    """The environment as text: gammu-smsd writes it in its locale's
    encoding (UTF-8 when it runs under a UTF-8 locale)."""
    if hasattr(os, "environb"):
        return {
            key.decode("ascii", "replace"): value.decode("utf-8", "replace")
            for key, value in os.environb.items()
        }
    return dict(os.environ)


def _count(env, name):
    try:
        return max(int(env.get(name) or 0), 0)
    except ValueError:
        return 0


def sms_from_environment(env, ids, config):
    """The SMS gammu-smsd describes in ``env``, as receive() arguments, or
    None when there is none (not run by gammu-smsd)."""
    parts = _count(env, "SMS_MESSAGES")
    if not parts:
        return None
    # A long SMS arrives in parts; Gammu joins their texts in DECODED_n_TEXT
    # when it can decode the whole. Otherwise (parts missing after gammu-smsd's
    # MultipartTimeout) each part's own text is all there is.
    decoded = [
        env.get(f"DECODED_{i}_TEXT", "")
        for i in range(1, 1 + _count(env, "DECODED_PARTS"))
    ]
    if any(decoded):
        text = "".join(decoded)
    else:
        text = "".join(env.get(f"SMS_{i}_TEXT", "") for i in range(1, parts + 1))
    return {
        "sender": env.get("SMS_1_NUMBER", ""),
        "text": text,
        # Gammu 1.44+ gives the SMS centre's time stamp with its UTC offset;
        # older versions nothing: then now, so that an SMS kept in the spool
        # during an outage keeps its arrival time.
        "received_at": env.get("SMS_1_DATETIME", "")
        or time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
        "recipient": config["recipient"],
        "gateway": config["gateway"],
        # The backend's own id(s) of this message: a repeated hand-over of
        # the same SMS stores nothing new. Without any (null backend), an id
        # of this run still makes its own retries safe.
        "gateway_message_id": " ".join(ids) or f"run-{uuid.uuid4()}",
        "parts": parts,
        "sms_class": env.get("SMS_1_CLASS", ""),
        "status_report": bool(
            env.get("SMS_1_SMSC_DATETIME") or env.get("SMS_1_SENT_ID")
        )
        or (parts == 1 and text in STATUS_REPORT_TEXTS),
    }


class _Transport(xmlrpc.client.Transport):
    def __init__(self, timeout):
        super().__init__()
        self._timeout = timeout

    def make_connection(self, host):
        connection = super().make_connection(host)
        connection.timeout = self._timeout
        return connection


class _SafeTransport(xmlrpc.client.SafeTransport):
    def __init__(self, timeout):
        super().__init__()
        self._timeout = timeout

    def make_connection(self, host):
        connection = super().make_connection(host)
        connection.timeout = self._timeout
        return connection


def _proxy(config, service):
    url = f"{config['url']}/xmlrpc/2/{service}"
    transport_class = _SafeTransport if url.startswith("https:") else _Transport
    return xmlrpc.client.ServerProxy(url, transport=transport_class(config["timeout"]))


def _xml_safe(value):
    if XML_ILLEGAL.search(value):
        return xmlrpc.client.Binary(value.encode("utf-8", "surrogateescape"))
    return value


def _fault_message(fault):
    lines = [
        line.strip() for line in str(fault.faultString).splitlines() if line.strip()
    ]
    return lines[-1] if lines else f"fault {fault.faultCode}"


def deliver(config, sms):
    """One attempt: store() on the server; returns the message id."""
    try:
        uid = _proxy(config, "common").authenticate(
            config["database"], config["login"], config["password"], {}
        )
        if not uid:
            raise NotAllowed(
                f"Odoo at {config['url']} refused the login {config['login']!r} on "
                f"database {config['database']!r}: wrong login or password (or API key)"
            )
        options = {
            "gateway": sms["gateway"],
            "gateway_message_id": _xml_safe(sms["gateway_message_id"]),
        }
        if sms.get("recipient"):
            options["recipient"] = sms["recipient"]
        if sms.get("received_at"):
            options["received_at"] = sms["received_at"]
        return _proxy(config, "object").execute_kw(
            config["database"],
            uid,
            config["password"],
            "sms_center.message",
            "store",
            [_xml_safe(sms["sender"]), _xml_safe(sms["text"])],
            options,
        )
    except xmlrpc.client.Fault as fault:
        message = _fault_message(fault)
        if fault.faultCode == FAULT_USER_ERROR:
            raise Refused(message) from fault
        if fault.faultCode in (FAULT_ACCESS_DENIED, FAULT_ACCESS_ERROR):
            raise NotAllowed(
                f"Odoo refused the account {config['login']!r}: {message}"
            ) from fault
        raise Unreachable(f"Odoo failed: {message}") from fault
    except xmlrpc.client.ProtocolError as exc:
        raise Unreachable(f"{exc.url}: HTTP {exc.errcode} {exc.errmsg}") from exc
    except (OSError, xmlrpc.client.ResponseError) as exc:
        raise Unreachable(f"{config['url']}: {exc}") from exc


def deliver_with_retries(config, sms):
    """Retry an unreachable Odoo for ``retry_for`` seconds, with back-off."""
    deadline = time.monotonic() + config["retry_for"]
    delay = 2.0
    while True:
        try:
            return deliver(config, sms)
        except Unreachable as exc:
            if time.monotonic() + delay > deadline:
                raise
            say(f"{exc}; retrying in {delay:.0f} s", sys.stderr)
            time.sleep(delay)
            delay = min(delay * 2, 30.0)


def _spool_dir(config, rejected=False):
    if not config["spool"]:
        return None
    directory = (
        os.path.join(config["spool"], "rejected") if rejected else config["spool"]
    )
    os.makedirs(directory, mode=0o700, exist_ok=True)
    return directory


def keep(config, sms, reason, rejected=False):
    """Write the SMS to the spool (atomically); returns its path or None."""
    try:
        directory = _spool_dir(config, rejected)
    except OSError as exc:
        say(f"cannot create the spool directory {config['spool']}: {exc}", sys.stderr)
        return None
    if not directory:
        return None
    record = {
        key: sms[key]
        for key in (
            "sender",
            "text",
            "received_at",
            "recipient",
            "gateway",
            "gateway_message_id",
        )
    }
    record.update(reason=reason, spooled_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    digest = hashlib.sha256(
        sms["gateway_message_id"].encode("utf-8", "surrogateescape")
    )
    name = f"{time.strftime('%Y%m%dT%H%M%S')}-{digest.hexdigest()[:16]}.json"
    path = os.path.join(directory, name)
    try:
        with open(path + ".tmp", "w", encoding="utf-8") as handle:
            json.dump(record, handle, ensure_ascii=False, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(path + ".tmp", path)
    except OSError as exc:
        say(f"cannot write {path}: {exc}", sys.stderr)
        return None
    return path


def flush_spool(config, budget=None):
    """Hand the spooled SMS over, oldest first; stop at the first SMS Odoo
    cannot take now. One flush at a time (a lock file in the spool)."""
    directory = config["spool"]
    if not directory or not os.path.isdir(directory):
        return EX_OK
    started = time.monotonic()
    with open(os.path.join(directory, ".lock"), "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say("another run is flushing the spool")
            return EX_OK
        names = sorted(n for n in os.listdir(directory) if n.endswith(".json"))
        for done, name in enumerate(names):
            waiting = f"{len(names) - done} SMS wait in {directory}"
            if budget is not None and time.monotonic() - started > budget:
                say(f"spool: time is up; {waiting}")
                break
            path = os.path.join(directory, name)
            try:
                with open(path, encoding="utf-8") as handle:
                    sms = json.load(handle)
                sms["gateway"] = sms.get("gateway") or config["gateway"]
                message_id = deliver(config, sms)
            except (OSError, ValueError, KeyError, TypeError) as exc:
                _set_aside(config, path, f"unreadable spool file: {exc}")
                continue
            except Refused as exc:
                _set_aside(config, path, str(exc))
                continue
            except NotAllowed as exc:
                say(f"spool: {exc}; {waiting}", sys.stderr)
                return EX_NOPERM
            except Unreachable as exc:
                say(f"spool: {exc}; {waiting}", sys.stderr)
                return EX_TEMPFAIL
            os.remove(path)
            say(f"spool: {name} stored as SMS Center message {message_id}")
    return EX_OK


def _set_aside(config, path, reason):
    target = os.path.join(_spool_dir(config, rejected=True), os.path.basename(path))
    os.replace(path, target)
    name = os.path.basename(path)
    say(f"Odoo refused the spooled SMS {name}: {reason}; moved to {target}", sys.stderr)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Hand the SMS gammu-smsd has just received to SMS Center "
        "(RunOnReceive program), or the SMS kept in the spool (--flush-spool)."
    )
    parser.add_argument(
        "--config",
        default=os.environ.get("SMS_CENTER_GAMMU_CONFIG", DEFAULT_CONFIG),
        help=f"configuration file (default: {DEFAULT_CONFIG})",
    )
    parser.add_argument(
        "--flush-spool",
        action="store_true",
        help="hand over the SMS kept in the spool directory (for cron)",
    )
    parser.add_argument(
        "ids", nargs="*", help="the message's id(s) in gammu-smsd's backend"
    )
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        say(str(exc), sys.stderr)
        return EX_CONFIG
    if args.flush_spool:
        return flush_spool(config)

    sms = sms_from_environment(gammu_environment(), args.ids, config)
    if sms is None:
        say(
            "no SMS in the environment (SMS_MESSAGES is not set): this program is "
            "gammu-smsd's RunOnReceive program; use --flush-spool from cron",
            sys.stderr,
        )
        return EX_USAGE
    what = (
        f"SMS with gammu id(s) {' '.join(args.ids) or '(none)'}, "
        f"{sms['parts']} part(s), class {sms['sms_class'] or '-'}"
    )
    if sms["status_report"]:
        say(f"{what} is a delivery report, not a citizen's SMS: ignored")
        return EX_OK
    try:
        message_id = deliver_with_retries(config, sms)
    except Refused as exc:
        path = keep(config, sms, str(exc), rejected=True)
        kept = f"kept in {path}" if path else "only in gammu-smsd's backend"
        say(f"Odoo refused the {what}: {exc}; {kept}", sys.stderr)
        return EX_DATAERR
    except (NotAllowed, Unreachable) as exc:
        path = keep(config, sms, str(exc))
        kept = (
            f"kept in {path}, handed over again by --flush-spool"
            if path
            else "NOT KEPT (no spool directory): it is only in gammu-smsd's backend"
        )
        say(f"{what} not handed over: {exc}; {kept}", sys.stderr)
        return EX_NOPERM if isinstance(exc, NotAllowed) else EX_TEMPFAIL
    say(f"{what} stored as SMS Center message {message_id}")
    # Odoo answers again: hand over what an outage left in the spool.
    flush_spool(config, budget=FLUSH_BUDGET_SECONDS)
    return EX_OK


if __name__ == "__main__":
    sys.exit(main())
