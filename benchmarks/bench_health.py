#!/usr/bin/env python3
"""The monitoring endpoint with a million tickets, next to Odoo's /web/health.

Fills a scratch database that has sms_center installed with a large history
(``--tickets`` answered SMS tickets and their inbound SMS, reminders over
three years, failed and queued outgoing SMS, a backlog of open and overdue
tickets), prints the query plan of every query of the health report, then
starts an Odoo HTTP server on that database and times, with one keep-alive
client, in the same run:

* Odoo's own ``GET /web/health`` (no database: the server's floor),
* ``GET /sms_center/health`` (JSON) and ``?format=prometheus``.

Prints p50 / p95 / max latencies and the ratio to ``/web/health``; asserts
nothing. The history is inserted with SQL, committed (the server must see
it) and deleted at the end, unless ``--keep`` (a second run with ``--keep``
reuses it). Not a test: run it by hand on a scratch database, e.g.

    odoo -d sms_bench_health -i sms_center --without-demo=all --stop-after-init
    python3 benchmarks/bench_health.py -d sms_bench_health --tickets 1000000

Options: ``--addons-path`` (default: Odoo's addons plus this checkout),
``--port`` (default 8222), ``--requests`` (timed requests per URL, default
300).
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
TAG = "bench-health"
# Tables the health report must never scan whole.
HISTORY_TABLES = (
    "helpdesk_ticket",
    "sms_center_message",
    "sms_center_reminder",
    "sms_sms",
)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument(
        "--addons-path", default=f"/opt/odoo18/addons,{REPO}", help="Odoo addons path"
    )
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--port", type=int, default=8222)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--keep", action="store_true", help="keep the history")
    return parser.parse_args()


def timed(label, func):
    start = time.perf_counter()
    result = func()
    print(f"{label:<48} {time.perf_counter() - start:8.1f} s", flush=True)
    return result


def fill(env, count):
    """Insert the history, the backlog and the queues with SQL."""
    cr = env.cr
    team = env["helpdesk.ticket.team"].create({"name": f"{TAG} unit"})
    keyword = env["sms_center.keyword"].create({"name": "BENCHH", "team_id": team.id})
    user = env["res.users"].create(
        {
            "name": f"{TAG} officer",
            "login": f"{TAG}-officer",
            "groups_id": [(4, env.ref("sms_center.group_officer").id)],
        }
    )
    officer = env["sms_center.officer"].create(
        {"user_id": user.id, "notification_mobile": "+6281100009999"}
    )
    keyword.officer_ids = officer
    Gateway = env["sms_center.gateway"]
    now = env.cr.now()
    for code, kind in (("bench-kannel", "kannel"), ("bench-http", "http")):
        Gateway.create(
            {
                "name": code,
                "code": code,
                "gateway_type": kind,
                "outbound_enabled": False,
                "last_success_at": now,
            }
        )
    answered = env.ref("sms_center.helpdesk_ticket_stage_answered")
    new_stage = env["helpdesk.ticket.stage"].search([("closed", "=", False)], limit=1)
    params = {
        "count": count,
        "company": env.company.id,
        "team": team.id,
        "keyword": keyword.id,
        "answered": answered.id,
        "new": new_stage.id,
        "officer": officer.id,
    }
    # Answered tickets over three years, then 300 open ones of the last 8
    # hours (those older than 3 hours are overdue).
    cr.execute(
        """INSERT INTO helpdesk_ticket
               (name, number, description, company_id, team_id, stage_id,
                sms_keyword_id, sms_received_at, sms_deadline, sms_answered,
                sms_first_answer_at, sms_awaiting_answer, sms_compliance,
                sms_response_minutes, sms_answered_in_time, active,
                create_date, write_date, create_uid, write_uid)
           SELECT 'bench ' || n, 'BH' || n, '<p>bench</p>', %(company)s,
                  %(team)s, %(answered)s, %(keyword)s, r.at,
                  r.at + interval '3 hours', true, r.at + interval '1 hour',
                  false, 'in_time', 60, true, true, r.at, r.at, 1, 1
             FROM generate_series(1, %(count)s) n
             JOIN LATERAL (
                  SELECT (now() at time zone 'UTC') - interval '1 day'
                         - (n::float / %(count)s) * interval '3 years' AS at
             ) r ON true""",
        params,
    )
    cr.execute(
        """INSERT INTO helpdesk_ticket
               (name, number, description, company_id, team_id, stage_id,
                sms_keyword_id, sms_received_at, sms_deadline, sms_answered,
                sms_awaiting_answer, sms_compliance, active,
                create_date, write_date, create_uid, write_uid)
           SELECT 'bench open ' || n, 'BHO' || n, '<p>bench</p>', %(company)s,
                  %(team)s, %(new)s, %(keyword)s, r.at,
                  r.at + interval '3 hours', false, true, 'open', true,
                  r.at, r.at, 1, 1
             FROM generate_series(1, 300) n
             JOIN LATERAL (
                  SELECT (now() at time zone 'UTC') - n * interval '96 seconds' AS at
             ) r ON true""",
        params,
    )
    # One inbound SMS per ticket, routed.
    cr.execute(
        """INSERT INTO sms_center_message
               (sender, sender_e164, sender_masked, sender_kind, text,
                received_at, keyword_id, keyword_text, body, state, ticket_id,
                moderation_state, create_date, write_date, create_uid, write_uid)
           SELECT '0812' || lpad(t.id::text, 8, '0'),
                  '+62812' || lpad(t.id::text, 8, '0'),
                  '0812****' || right(t.id::text, 3), 'number', 'BENCHH bench',
                  t.sms_received_at, %(keyword)s, 'BENCHH', 'bench', 'routed',
                  t.id, 'ok', t.sms_received_at, t.sms_received_at, 1, 1
             FROM helpdesk_ticket t
            WHERE t.sms_keyword_id = %(keyword)s""",
        params,
    )
    # Reminders: one an hour for three years, 2 %% failed, 3 failed today.
    cr.execute(
        """INSERT INTO sms_center_reminder
               (officer_id, kind, period_key, count, sms_state, sms_status_date,
                create_date, write_date, create_uid, write_uid)
           SELECT %(officer)s, 'hourly', 'bench-' || n, 1,
                  CASE WHEN n %% 50 = 0 OR n <= 3 THEN 'failed' ELSE 'sent' END,
                  r.at, r.at, r.at, 1, 1
             FROM generate_series(1, 26280) n
             JOIN LATERAL (
                  SELECT (now() at time zone 'UTC') - n * interval '1 hour'
                         + interval '50 minutes' AS at
             ) r ON true""",
        params,
    )
    # Odoo's queue: a week of SMS handed over and waiting for their delivery
    # report (200,000), 5,000 failed SMS nobody resent, 30 queued, 5 sending.
    cr.execute(
        """INSERT INTO sms_sms (uuid, number, body, state, failure_type,
                                to_delete, create_date, write_date,
                                create_uid, write_uid)
           SELECT md5('bench-health-' || n), '+6281200000000', 'bench',
                  CASE WHEN n <= 30 THEN 'outgoing'
                       WHEN n <= 35 THEN 'process'
                       WHEN n <= 5035 THEN 'error' ELSE 'pending' END,
                  CASE WHEN n > 35 AND n <= 5035 THEN 'sms_server' END, false,
                  (now() at time zone 'UTC') - n * interval '3 seconds',
                  (now() at time zone 'UTC'), 1, 1
             FROM generate_series(1, 205035) n""",
        params,
    )
    for table in HISTORY_TABLES:
        cr.execute(f"ANALYZE {table}")


def cleanup(env):
    cr = env.cr
    keyword = env["sms_center.keyword"].search([("name", "=", "BENCHH")])
    cr.execute("DELETE FROM sms_sms WHERE body = 'bench' AND number = '+6281200000000'")
    cr.execute(
        "DELETE FROM sms_center_reminder WHERE period_key LIKE 'bench-%%'",
    )
    if keyword:
        cr.execute("DELETE FROM sms_center_message WHERE keyword_id = %s", [keyword.id])
        cr.execute(
            "DELETE FROM helpdesk_ticket WHERE sms_keyword_id = %s", [keyword.id]
        )
    env.invalidate_all()
    keyword.officer_ids.unlink()
    keyword.unlink()
    env["res.users"].search([("login", "=", f"{TAG}-officer")]).unlink()
    env["helpdesk.ticket.team"].search([("name", "=", f"{TAG} unit")]).unlink()
    env["sms_center.gateway"].search([("code", "like", "bench-")]).unlink()


def explain(env):
    from odoo.addons.sms_center.models.sms_center_health import QUERIES

    params = env["sms_center.health"]._health_query_params()
    clean = True
    for name, sql in QUERIES.items():
        env.cr.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params)
        plan = [row[0] for row in env.cr.fetchall()]
        scans = [
            table
            for table in HISTORY_TABLES
            if any(f"Seq Scan on {table}" in line for line in plan)
        ]
        clean = clean and not scans
        flag = f"   <-- SEQUENTIAL SCAN of {', '.join(scans)}" if scans else ""
        print(f"\n-- {name}{flag}")
        print("\n".join("    " + line for line in plan))
    return clean


def start_server(args, workdir):
    conf = os.path.join(workdir, "odoo.conf")
    with open(conf, "w") as fh:
        fh.write(f"[options]\ndata_dir = {workdir}/data\n")
    cmd = [
        sys.executable,
        "-m",
        "odoo",
        "-c",
        conf,
        "-d",
        args.database,
        f"--db-filter=^{args.database}$",
        f"--addons-path={args.addons_path}",
        "--http-interface=127.0.0.1",
        f"--http-port={args.port}",
        # Threaded: one sequential client measures the work of a request,
        # which prefork workers do alike (and a prefork server also keeps
        # restarting its websocket process where gevent is incomplete).
        "--workers=0",
        "--max-cron-threads=0",
        "--log-level=warn",
    ]
    log = open(os.path.join(workdir, "server.log"), "w")  # noqa: SIM115
    proc = subprocess.Popen(  # noqa: S603
        cmd, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, TZ="UTC")
    )
    base = f"http://127.0.0.1:{args.port}"
    for _ in range(120):
        try:
            if requests.get(f"{base}/web/health", timeout=2).ok:
                return proc, base
        except requests.RequestException:
            pass
        time.sleep(0.5)
    proc.terminate()
    raise SystemExit(f"the server did not start: see {workdir}/server.log")


def measure(session, url, count, headers=None):
    for _ in range(30):  # warm-up: registry, caches
        session.get(url, headers=headers, timeout=30)
    times = []
    status = None
    for _ in range(count):
        start = time.perf_counter()
        response = session.get(url, headers=headers, timeout=30)
        times.append((time.perf_counter() - start) * 1000)
        status = response.status_code
    times.sort()
    return {
        "p50": statistics.median(times),
        "p95": times[int(len(times) * 0.95) - 1],
        "max": times[-1],
        "status": status,
    }


def main():
    args = parse_args()
    import odoo
    from odoo import SUPERUSER_ID, api

    odoo.tools.config.parse_config(
        ["-d", args.database, f"--addons-path={args.addons_path}"]
    )
    registry = odoo.modules.registry.Registry(args.database)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        if "sms_center.health" not in env:
            raise SystemExit(f"sms_center is not installed in {args.database}")
        exists = env["sms_center.keyword"].search_count([("name", "=", "BENCHH")])
        if not exists:
            timed(
                f"insert {args.tickets:,} tickets + SMS + queues (SQL)",
                lambda: fill(env, args.tickets),
            )
            cr.commit()
        cr.execute(
            "SELECT count(*), count(*) FILTER (WHERE sms_awaiting_answer) "
            "FROM helpdesk_ticket"
        )
        total, open_count = cr.fetchone()
        cr.execute("SELECT count(*) FROM sms_center_message")
        messages = cr.fetchone()[0]
        print(f"tickets: {total:,} ({open_count} open), inbound SMS: {messages:,}")
        clean = explain(env)
        token = env["ir.config_parameter"].get_param("sms_center.health_token")
        runs = []
        for _ in range(50):
            report_start = time.perf_counter()
            report = env["sms_center.health"]._health_report()
            runs.append((time.perf_counter() - report_start) * 1000)
        print(
            f"\nreport built in-process (queries + Python, no HTTP): first "
            f"{runs[0]:.1f} ms, p50 of 50 {statistics.median(runs):.1f} ms; "
            f"status {report['status']}, alerts: "
            f"{sorted({a['check'] for a in report['alerts']}) or 'none'}; "
            f"tickets {report['tickets']}"
        )

    workdir = tempfile.mkdtemp(prefix="bench_health.")
    proc, base = start_server(args, workdir)
    try:
        session = requests.Session()
        auth = {"Authorization": f"Bearer {token}"}
        results = {
            "GET /web/health (Odoo, no database)": measure(
                session, f"{base}/web/health", args.requests
            ),
            "GET /sms_center/health (JSON)": measure(
                session, f"{base}/sms_center/health", args.requests, auth
            ),
            "GET /sms_center/health?format=prometheus": measure(
                session,
                f"{base}/sms_center/health?format=prometheus",
                args.requests,
                auth,
            ),
        }
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    floor = results["GET /web/health (Odoo, no database)"]["p50"]
    load = os.getloadavg()[0]
    print(
        f"\n{args.requests} sequential keep-alive requests each, threaded server, "
        f"{total:,} tickets, {os.cpu_count()} CPUs, load average {load:.1f}:"
    )
    print(f"{'':<44} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'x p50':>7}  status")
    for label, r in results.items():
        print(
            f"{label:<44} {r['p50']:8.1f} {r['p95']:8.1f} {r['max']:8.1f} "
            f"{r['p50'] / floor:7.1f}  {r['status']}"
        )
    print(
        "query plans: "
        + ("no sequential scan of the history" if clean else "SEQUENTIAL SCAN(S)!")
    )
    if not args.keep:
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            timed("delete the history", lambda: cleanup(env))


if __name__ == "__main__":
    main()
