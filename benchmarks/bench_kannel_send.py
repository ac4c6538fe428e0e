#!/usr/bin/env python3
"""Sending throughput to a real Kannel: one keep-alive session vs a new
connection per SMS.

Starts bearerbox + smsbox + fakesmsc on 127.0.0.1 (the tests' harness,
sms_center/tests/kannel_process.py, imported without Odoo),
sends ``--count`` SMS through ``/cgi-bin/sendsms`` with
:class:`KannelClient` twice, and prints SMS/s and latency figures:

* ``keep-alive``: one client (one ``requests.Session``) for all messages;
* ``new connection``: a new client, hence a new TCP connection, per SMS.

On loopback a TCP handshake costs microseconds, so both figures are close;
``--rtt-ms`` puts a small TCP proxy in front of smsbox that delays every
chunk by half the round-trip time and the connection set-up by one RTT (the
SYN/SYN-ACK exchange), which is what a Kannel on another machine costs.

Usage: python3 benchmarks/bench_kannel_send.py [--count 500] [--rtt-ms 10]
"""

import argparse
import contextlib
import importlib.util
import logging
import socket
import statistics
import sys
import threading
import time
import types
from pathlib import Path

ADDON = Path(__file__).resolve().parent.parent / "sms_center"


def _package(name, path, real=False):
    """Register package ``name`` at ``path`` without running the addon's
    ``__init__.py`` files (they import Odoo), except the library's."""
    if real:
        spec = importlib.util.spec_from_file_location(
            name, path / "__init__.py", submodule_search_locations=[str(path)]
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    else:
        module = types.ModuleType(name)
        module.__path__ = [str(path)]
        sys.modules[name] = module


_package("smscenter_addon", ADDON)
_package("smscenter_addon.lib", ADDON / "lib", real=True)
_package("smscenter_addon.tests", ADDON / "tests")

from smscenter_addon.lib.kannel import KannelClient  # noqa: E402
from smscenter_addon.tests.kannel_process import (  # noqa: E402
    SENDSMS_PASSWORD,
    SENDSMS_USER,
    SERVICE_NUMBER,
    KannelProcess,
    missing_binaries,
)


class DelayProxy:
    """TCP proxy on 127.0.0.1 adding latency (see the module docstring)."""

    def __init__(self, target_port, rtt):
        self.target_port = target_port
        self.rtt = rtt
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _addr = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        time.sleep(self.rtt)  # handshake round trip
        upstream = socket.create_connection(("127.0.0.1", self.target_port))
        for src, dst in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src, dst):
        try:
            while data := src.recv(65536):
                time.sleep(self.rtt / 2)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def close(self):
        self.listener.close()


def run(label, count, make_client, per_message_client):
    latencies = []
    failures = 0
    client = None if per_message_client else make_client()
    started = time.perf_counter()
    for i in range(count):
        text = f"Benchmark message {i}: jalan rusak sudah diperbaiki"
        t0 = time.perf_counter()
        if per_message_client:
            with make_client() as one:
                result = one.send("+6281234567890", text)
        else:
            result = client.send("+6281234567890", text)
        latencies.append(time.perf_counter() - t0)
        failures += not result.accepted
    elapsed = time.perf_counter() - started
    connections = count
    if client is not None:
        pools = client.session.adapters["http://"].poolmanager.pools
        connections = sum(pools[key].num_connections for key in list(pools.keys()))
        client.close()
    latencies.sort()
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    print(
        f"{label:<16} {count:>6} SMS in {elapsed:6.2f} s = {count / elapsed:8.1f} SMS/s"
        f"   latency median {statistics.median(latencies) * 1000:6.2f} ms"
        f"   p95 {p95 * 1000:6.2f} ms   TCP connections {connections}"
        f"   failures {failures}"
    )
    return count / elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500, help="SMS per run")
    parser.add_argument(
        "--rtt-ms", type=float, default=0.0, help="simulated network round trip"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    reason = missing_binaries()
    if reason:
        print(f"skipped: {reason}")
        return 0
    with KannelProcess() as kannel:
        base_url = kannel.base_url
        proxy = None
        if args.rtt_ms > 0:
            proxy = DelayProxy(kannel.sendsms_port, args.rtt_ms / 1000)
            base_url = f"http://127.0.0.1:{proxy.port}"
            print(f"simulated round trip: {args.rtt_ms:g} ms")

        def make_client():
            return KannelClient(
                base_url,
                SENDSMS_USER,
                SENDSMS_PASSWORD,
                default_sender=SERVICE_NUMBER,
            )

        # Warm-up (first connections, Kannel's queues).
        run("warm-up", min(50, args.count), make_client, False)
        keep = run("keep-alive", args.count, make_client, False)
        fresh = run("new connection", args.count, make_client, True)
        print(f"keep-alive / new connection: {keep / fresh:.2f}x")
        if proxy:
            proxy.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
