"""Shared HTTP plumbing: keep-alive sessions and no secrets in logs."""

import logging
import socket

from smslib import http_transport, kannel


def _closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_retry_warnings_do_not_log_password_number_or_text(caplog):
    port = _closed_port()
    client = kannel.KannelClient(f"http://127.0.0.1:{port}", "odoo", "s3cret-pass")
    with caplog.at_level(logging.WARNING, logger="urllib3.connectionpool"):
        result = client.send("+6281298765432", "Rahasia warga", sender="DINKES")
    assert not result.accepted and result.temporary
    retries = [r for r in caplog.records if r.name == "urllib3.connectionpool"]
    assert retries, "urllib3 logs its retries of the refused connection"
    logged = " ".join(r.getMessage() for r in retries)
    assert "/cgi-bin/sendsms?[redacted]" in logged
    for secret in ("s3cret-pass", "6281298765432", "Rahasia"):
        assert secret not in logged


def test_not_sent_tells_refused_connections():
    client = http_transport.keepalive_session()
    try:
        client.get(f"http://127.0.0.1:{_closed_port()}/", timeout=2)
    except Exception as exc:  # noqa: BLE001 - the exception is the subject
        assert http_transport.not_sent(exc)
    else:
        raise AssertionError("the connection should have been refused")
