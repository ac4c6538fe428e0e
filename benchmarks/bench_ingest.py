#!/usr/bin/env python3
"""Inbound SMS at gateway speed: acknowledgements, routing, latency (issue 11).

Prints figures, asserts nothing. Works on a scratch database (``--db``)
with sms_center and its demo data: a copy of ``--template`` (default
``sms_center``, the database ``scripts/dev-server`` creates; nobody may be
connected to it while it is copied) updated to this code, or, when that
database does not exist, a fresh install (a few minutes more). Dropped at
the end (``--keep`` keeps it):

    python3 benchmarks/bench_ingest.py --template sms_center --port 8250

1. **Acknowledgements** through real HTTP: a real Odoo server (prefork,
   ``--workers=2``, no cron worker: routing is measured apart) and
   ``--clients`` keep-alive clients (``requests`` sessions; Odoo's prefork
   workers answer in HTTP/1.0 and close each connection, so they reconnect
   for every request, as Kannel does), in ``--rounds`` interleaved rounds
   of ``--seconds`` per address: Odoo's own ``/web/health`` route (the
   server's ceiling on this machine), the Kannel-style ``GET`` webhook and
   a generic JSON ``POST`` webhook; and, for the cost of routing in the
   request (what the webhooks did before), ``receive()`` against
   ``store()`` through XML-RPC. Printed: requests/s per round, the means and
   the ratio to ``/web/health``.
2. **Routing**, in-process: the SMS stored by step 1 routed by the inbound
   router (batches, one commit each), against the same kind of SMS through
   ``receive()`` one by one with one commit each (what the webhooks did
   before: store and route in the request). Printed: SMS/s, ratio.
3. **Latency** from the gateway's acknowledgement to the ticket (visible in
   the officer's inbox, polled every 0.1 s) at ``--rate`` SMS/s for
   ``--latency-seconds``, with 2 HTTP workers and ``--cron-threads`` cron
   workers (default 1, which also sends the receipts, to a local fake SMS
   API; ``1,2`` measures with one, then two). Printed: p50, p95, max.

The machine's load is printed too: the figures of a shared machine are
noisy, the ratios less so.
"""

import argparse
import importlib.util
import json
import os
import statistics
import threading
import time
import urllib.parse
import xmlrpc.client
from contextlib import closing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg2
import requests

REPO = Path(__file__).resolve().parent.parent


def _load_harness():
    """The addon's Odoo server harness (Odoo-free), without importing the
    addon (whose package imports Odoo)."""
    path = REPO / "sms_center" / "tests" / "odoo_server.py"
    spec = importlib.util.spec_from_file_location("sms_center_odoo_server", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


odoo_server = _load_harness()

KANNEL_TOKEN = "bench-kannel-token"
JSON_TOKEN = "bench-json-token"
JSON_CONFIG = {
    "method": "POST",
    "body_type": "json",
    "body_template": {"to": "{number}", "text": "{text}", "ref": "{ref}"},
    "success_status_codes": [200],
    "message_id_json_path": "id",
    "inbound_fields": {
        "sender": "from",
        "text": "text",
        "recipient": "to",
        "id": "id",
        "timestamp": None,
    },
    "inbound_ack_body": '{"ok": true}',
    "inbound_ack_content_type": "application/json",
}
TEXTS = [
    "{kw} jalan rusak di desa {n}, mohon segera diperbaiki",
    "{kw}: puskesmas tutup lebih awal hari ini ({n})",
    "{kw}#lampu jalan mati sejak kemarin malam {n}",
]

SETUP = """
import json
env["sms_center.gateway"].create([
    {"name": "Bench Kannel", "code": "bench-kannel", "gateway_type": "kannel",
     "webhook_token": %(kannel_token)r, "outbound_enabled": False},
    {"name": "Bench JSON API", "code": "bench-json", "gateway_type": "http",
     "http_preset": "custom", "http_url": %(api_url)r,
     "http_config": json.dumps(%(config)r), "webhook_token": %(json_token)r,
     "default_sender_id": "PEMKAB", "outbound_enabled": True},
])
ICP = env["ir.config_parameter"]
ICP.set_param("web.base.url", %(base_url)r)
ICP.set_param("web.base.url.freeze", "True")
ICP.set_param("sms_center.receipt_enabled", "True")
print("KEYWORDS", ",".join(env["sms_center.keyword"].search([]).mapped("name")))
env.cr.commit()
"""

ROUTE = """
import threading, time
threading.current_thread().testing = False
Message = env["sms_center.message"]
Message.flush_model()
env.cr.execute("SELECT count(*) FROM sms_center_message WHERE state = 'to_route'")
count = env.cr.fetchone()[0]
env.cr.commit()
started = time.perf_counter()
Message._cron_route_inbound()
while Message._route_due_count():
    Message._cron_route_inbound()
batch_seconds = time.perf_counter() - started
# receive() one SMS at a time, one commit each, as the webhooks did.
keywords = env["sms_center.keyword"].search([]).mapped("name")
texts = %(texts)r
started = time.perf_counter()
for n in range(%(sync_count)d):
    text = texts[n %% len(texts)].format(kw=keywords[n %% len(keywords)], n=n)
    Message.receive(f"+62819{n:08d}", text, gateway_message_id=f"bench-sync-{n}")
    env.cr.commit()
sync_seconds = time.perf_counter() - started
# Receipts queued by these steps would be sent during step 3: not part of
# its steady load.
env.cr.execute("DELETE FROM sms_sms WHERE state = 'outgoing'")
env.cr.commit()
print("ROUTED", count, batch_seconds, %(sync_count)d, sync_seconds)
"""


class FakeSmsApi:
    """A JSON SMS API on 127.0.0.1 that accepts everything (the receipts)."""

    def __init__(self):
        self.count = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body leave in two writes: without TCP_NODELAY the
            # body waits for the client's delayed ACK (40 ms per request).
            disable_nagle_algorithm = True

            def do_POST(self):  # noqa: N802 - http.server's name
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                owner.count += 1
                body = json.dumps({"id": f"api-{owner.count}"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/send"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class Numbers:
    """Distinct senders (no daily limit reached) and gateway ids."""

    def __init__(self, keywords, db):
        self.keywords = keywords
        self.db = db
        self.lock = threading.Lock()
        self.n = 0

    def next(self):
        with self.lock:
            self.n += 1
            n = self.n
        text = TEXTS[n % len(TEXTS)].format(
            kw=self.keywords[n % len(self.keywords)], n=n
        )
        return n, f"+62812{n:08d}", text


def kannel_request(base, numbers):
    n, sender, text = numbers.next()
    query = urllib.parse.urlencode(
        {
            "from": sender,
            "to": "1708",
            "text": text,
            "coding": "0",
            "charset": "UTF-8",
            "id": f"k-{n}",
        }
    )
    return (
        "GET",
        f"{base}/sms_center/bench-kannel/{KANNEL_TOKEN}/inbound?{query}",
        None,
        f"k-{n}",
    )


def json_request(base, numbers):
    n, sender, text = numbers.next()
    body = json.dumps({"from": sender, "to": "1708", "text": text, "id": f"j-{n}"})
    return "POST", f"{base}/sms_center/bench-json/{JSON_TOKEN}/inbound", body, f"j-{n}"


def _rpc_request(method, base, numbers):
    """execute_kw of ``method`` (receive or store) over XML-RPC, as the
    administrator of the demo data: the same HTTP and RPC overhead for both,
    so that their ratio is the cost of routing in the request."""
    n, sender, text = numbers.next()
    body = xmlrpc.client.dumps(
        (
            numbers.db,
            2,
            "admin",
            "sms_center.message",
            method,
            [sender, text],
            {"gateway": "bench-kannel", "gateway_message_id": f"r-{n}"},
        ),
        "execute_kw",
    )
    return "POST", f"{base}/xmlrpc/2/object", body, f"r-{n}"


def rpc_receive_request(base, numbers):
    return _rpc_request("receive", base, numbers)


def rpc_store_request(base, numbers):
    return _rpc_request("store", base, numbers)


def health_request(base, _numbers):
    return "GET", f"{base}/web/health", None, None


def hammer(base, make_request, numbers, clients, seconds):
    """``clients`` keep-alive clients for ``seconds``: answers/s, errors."""
    counts = [0] * clients
    errors = [0] * clients
    stop = time.monotonic() + seconds
    barrier = threading.Barrier(clients + 1)

    def client(index):
        session = requests.Session()
        barrier.wait()
        while time.monotonic() < stop:
            method, url, body, _ref = make_request(base, numbers)
            rpc = url.endswith("/xmlrpc/2/object")
            headers = {"Content-Type": "text/xml" if rpc else "application/json"}
            try:
                answer = session.request(
                    method, url, data=body, headers=headers, timeout=60
                )
            except requests.RequestException:
                errors[index] += 1
                continue
            # An XML-RPC fault comes with a 200.
            if answer.status_code == 200 and not (rpc and b"<fault>" in answer.content):
                counts[index] += 1
            else:
                errors[index] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.monotonic()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return sum(counts) / elapsed, sum(errors)


def latency(base, db, numbers, rate, seconds, clients=8):
    """Send ``rate`` Kannel-style SMS/s for ``seconds`` (paced, from
    ``clients`` keep-alive clients); the seconds from each acknowledgement
    to its SMS being routed (ticket in the inbox), polled every 0.1 s."""
    acked, routed = {}, {}
    lock = threading.Lock()
    sending = threading.Event()
    sending.set()

    def poller():
        # By gateway id, among the SMS acknowledged and not seen routed yet:
        # concurrent webhooks commit their rows out of id order, so a
        # "lowest id not routed" floor would skip a row committed late.
        with closing(psycopg2.connect(dbname=db)) as cnx:
            cnx.autocommit = True
            with cnx.cursor() as cr:
                give_up = None
                while True:
                    with lock:
                        waiting = [ref for ref in acked if ref not in routed]
                    if waiting:
                        cr.execute(
                            """SELECT gateway_message_id FROM sms_center_message
                                WHERE gateway_message_id = ANY(%s)
                                  AND state <> 'to_route'""",
                            [waiting],
                        )
                        now = time.monotonic()
                        with lock:
                            for (ref,) in cr.fetchall():
                                routed.setdefault(ref, now)
                    if not sending.is_set():
                        with lock:
                            if all(ref in routed for ref in acked):
                                return
                        now = time.monotonic()
                        give_up = give_up or now + 120
                        if now > give_up:
                            return
                    time.sleep(0.1)

    tickets = iter(range(int(rate * seconds)))
    started = time.monotonic()

    def client():
        session = requests.Session()
        while True:
            with lock:
                index = next(tickets, None)
            if index is None:
                return
            delay = started + index / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            method, url, body, ref = kannel_request(base, numbers)
            answer = session.request(method, url, data=body, timeout=60)
            if answer.status_code == 200:
                with lock:
                    acked[ref] = time.monotonic()

    poll = threading.Thread(target=poller, daemon=True)
    poll.start()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sent_in = time.monotonic() - started
    sending.clear()
    poll.join()
    delays = sorted(routed[ref] - acked[ref] for ref in acked if ref in routed)
    return int(rate * seconds), len(acked), sent_in, delays


def percentile(values, fraction):
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(fraction * (len(values) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", default="sms_center")
    parser.add_argument("--port", type=int, default=8250)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sync-count", type=int, default=300)
    parser.add_argument("--rate", type=float, default=20)
    parser.add_argument("--latency-seconds", type=float, default=120)
    parser.add_argument("--db", default=f"sms_center_bench_ingest_{os.getpid()}")
    parser.add_argument(
        "--phases", default="123", help="which of the 3 measures to run, e.g. 3"
    )
    parser.add_argument(
        "--cron-threads",
        default="1",
        help="cron workers for the latency measure; several values (1,2) run "
        "it once with each",
    )
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    db = args.db
    workdir = odoo_server.scratch_dir("sms_center_bench_ingest_")
    api = FakeSmsApi()
    server = odoo_server.OdooServer(db, workdir, args.port, workers=args.workers)
    template = args.template if odoo_server.database_exists(args.template) else None
    origin = f"copy of {template}" if template else "fresh, with demo data"
    print(f"scratch database {db} ({origin}), logs in {workdir}")
    print(f"machine: {os.cpu_count()} CPU, load average {os.getloadavg()}")
    try:
        odoo_server.create_database(db, workdir, template=template, demo=True)
        out = odoo_server.odoo_shell(
            db,
            workdir,
            SETUP
            % {
                "kannel_token": KANNEL_TOKEN,
                "json_token": JSON_TOKEN,
                "api_url": api.url,
                "config": JSON_CONFIG,
                "base_url": server.url,
            },
        )
        keywords = next(
            line.split(" ", 1)[1]
            for line in out.splitlines()
            if line.startswith("KEYWORDS ")
        ).split(",")
        numbers = Numbers(keywords, db)

        if "1" in args.phases:
            print(
                f"\n1. acknowledgements: {args.workers} HTTP workers, no cron worker, "
                f"{args.clients} keep-alive clients, {args.rounds} rounds of "
                f"{args.seconds:.0f} s per address"
            )
            server.start(cron_threads=0)
            for make in (health_request, kannel_request, json_request):  # warm-up
                requests.request(*make(server.url, numbers)[:2], timeout=60)
            # Interleaved rounds: the load of a shared machine changes from one
            # minute to the next, and hits the baseline and ours alike.
            routes = (
                ("/web/health", health_request),
                ("Kannel GET webhook", kannel_request),
                ("JSON POST webhook", json_request),
                ("XML-RPC receive()", rpc_receive_request),
                ("XML-RPC store()", rpc_store_request),
            )
            answers = {name: [] for name, _make in routes}
            for round_number in range(1, args.rounds + 1):
                line = []
                for name, make in routes:
                    rate, errors = hammer(
                        server.url, make, numbers, args.clients, args.seconds
                    )
                    answers[name].append(rate)
                    line.append(
                        f"{name} {rate:.1f}/s"
                        + (f" ({errors} errors)" if errors else "")
                    )
                print(f"   round {round_number}: " + ", ".join(line))
            server.stop()
            ceiling = statistics.mean(answers["/web/health"])
            print(
                f"   {'/web/health':<22} {ceiling:7.1f} answers/s (mean of the rounds)"
            )
            for name, _make in routes[1:]:
                rate = statistics.mean(answers[name])
                ratios = [
                    ours / base
                    for ours, base in zip(
                        answers[name], answers["/web/health"], strict=True
                    )
                ]
                print(
                    f"   {name:<22} {rate:7.1f} answers/s = {rate / ceiling:.2f} x "
                    f"/web/health (rounds: {', '.join(f'{r:.2f}' for r in ratios)}; "
                    f"{rate / args.workers:.0f} SMS/s per worker)"
                )
            store, receive = (
                statistics.mean(answers["XML-RPC store()"]),
                statistics.mean(answers["XML-RPC receive()"]),
            )
            print(
                f"   store() / receive() over XML-RPC: {store / receive:.2f} x "
                "(what routing in the request costs)"
            )

        if "2" in args.phases:
            print("\n2. routing (in-process, one router) vs receive() one by one")
            out = odoo_server.odoo_shell(
                db,
                workdir,
                ROUTE % {"texts": TEXTS, "sync_count": args.sync_count},
                timeout=3600,
            )
            _tag, count, batch_s, sync_n, sync_s = next(
                line for line in out.splitlines() if line.startswith("ROUTED ")
            ).split()
            batch_rate = int(count) / float(batch_s)
            sync_rate = int(sync_n) / float(sync_s)
            for name, done, seconds, rate in (
                ("batch router", count, batch_s, batch_rate),
                ("receive()", sync_n, sync_s, sync_rate),
            ):
                print(
                    f"   {name:<14} {done:>6} SMS in {float(seconds):6.1f} s "
                    f"= {rate:6.1f} SMS/s"
                )
            print(f"   ratio          {batch_rate / sync_rate:6.2f} x")

        for cron_threads in (
            [int(n) for n in args.cron_threads.split(",")] if "3" in args.phases else []
        ):
            print(
                f"\n3. acknowledgement -> ticket latency at {args.rate:.0f} SMS/s for "
                f"{args.latency_seconds:.0f} s ({args.workers} HTTP workers, "
                f"{cron_threads} cron worker(s))"
            )
            server.start(cron_threads=cron_threads)
            receipts_before = api.count
            total, acked, sent_in, delays = latency(
                server.url, db, numbers, args.rate, args.latency_seconds
            )
            server.stop()
            print(
                f"   sent {total} in {sent_in:.0f} s, acknowledged {acked}, "
                f"routed {len(delays)}"
            )
            nan = float("nan")
            print(
                f"   p50 {percentile(delays, 0.5):.2f} s"
                f"   p95 {percentile(delays, 0.95):.2f} s"
                f"   max {max(delays) if delays else nan:.2f} s"
                f"   mean {statistics.mean(delays) if delays else nan:.2f} s"
            )
            print(
                f"   receipts sent to the fake SMS API: {api.count - receipts_before}"
            )
        errors = server.errors()
        print(f"\nERROR/CRITICAL lines in the server log: {len(errors)}")
        for line in errors[:10]:
            print("   " + line)
        print(f"machine: load average {os.getloadavg()}")
    finally:
        server.stop()
        api.stop()
        if args.keep:
            print(f"kept database {db}")
        else:
            odoo_server.drop_database(db)


if __name__ == "__main__":
    main()
