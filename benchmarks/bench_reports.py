#!/usr/bin/env python3
"""Speed of the reporting (R13) with a million inbound SMS over three years.

Fills a database that has sms_center installed with inbound SMS and their
tickets (straight in SQL: the ORM would take hours), the month before the
current one holding ``--month-sms`` of them, then times, in the same run:

1. Odoo's own ``helpdesk.ticket`` pivot (the "All SMS tickets" pivot view):
   SMS tickets of one year, units x months, the read_group calls the pivot
   view makes (total, rows, columns, cells), as a secretariat user;
2. the Inbound SMS analysis pivot over the same year, units x months, with
   its default measures, the same calls, as the same user;
3. generating the periodic report of that month (every figure of the PDF).

Prints the figures side by side and the query plans of the analysis pivot
and of the report's main queries. The data is committed and vacuumed
before timing, as in a production database, and deleted at the end. Not a
test: run it by hand on a scratch database, e.g.

    odoo -d bench_sms -i sms_center --stop-after-init --without-demo=all
    python3 benchmarks/bench_reports.py -d bench_sms

Options: ``--addons-path`` (default /opt/odoo18/addons plus this checkout),
``--messages`` (default 1,000,000), ``--month-sms`` (default 30,000),
``--units`` (default 12), ``--repeat`` (rounds, default 3), ``--keep``
(leave the SMS in the database; by default they are deleted at the end).
"""

import argparse
import os
import statistics
import time
from contextlib import contextmanager
from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
GOAL_PIVOT_RATIO = 1.5
GOAL_REPORT_SECONDS = 10.0


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument(
        "--addons-path", default=f"/opt/odoo18/addons,{REPO}", help="Odoo addons path"
    )
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--month-sms", type=int, default=30_000)
    parser.add_argument("--units", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the data")
    return parser.parse_args()


def best_of(repeat, func):
    """(best seconds, median seconds, result) of ``repeat`` runs."""
    times = []
    result = None
    for _n in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), result


@contextmanager
def captured_queries(cr):
    """Record the SQL ``cr`` executes (to EXPLAIN it afterwards)."""
    queries = []
    execute = cr.execute

    def recording(query, params=None, log_exceptions=True):
        queries.append((query, params))
        return execute(query, params, log_exceptions)

    cr.execute = recording
    try:
        yield queries
    finally:
        cr.execute = execute


def explain(cr, label, query, params):
    if hasattr(query, "code"):  # odoo.tools.SQL
        query, params = query.code, query.params
    cr.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + query, params)
    plan = "\n".join("    " + row[0] for row in cr.fetchall())
    print(f"\n-- {label}\n{plan}")


def setup_units(env, count):
    """``count`` units, each with a keyword and an officer."""
    Keyword = env["sms_center.keyword"]
    keywords = Keyword.search([("name", "=like", "BENCH%")])
    for n in range(len(keywords), count):
        team = env["helpdesk.ticket.team"].create({"name": f"Bench unit {n:02d}"})
        user = env["res.users"].create(
            {
                "name": f"Bench officer {n:02d}",
                "login": f"bench_report_officer_{n}",
                "groups_id": [(4, env.ref("sms_center.group_officer").id)],
            }
        )
        officer = env["sms_center.officer"].create(
            {"user_id": user.id, "notification_mobile": f"+62811100{n:04d}"}
        )
        keywords |= Keyword.create(
            {
                "name": f"BENCH{n:02d}",
                "team_id": team.id,
                "officer_ids": [(6, 0, officer.ids)],
            }
        )
    secretariat = env["res.users"].search(
        [("login", "=", "bench_report_secretariat")]
    ) or env["res.users"].create(
        {
            "name": "Bench secretariat",
            "login": "bench_report_secretariat",
            "tz": "Asia/Jakarta",
            "groups_id": [(4, env.ref("sms_center.group_secretariat").id)],
        }
    )
    return keywords, secretariat


def fill(env, keywords, count, month_sms, month_start, month_end):
    """Insert ``count`` inbound SMS and their tickets. ``month_sms`` of them
    fall in [month_start, month_end) (UTC naive); the others spread over the
    three years before ``month_start``. Mix: 88 % open a ticket (2 % of
    those marked spam), 4 % appended to an earlier ticket of their keyword,
    6 % unknown keyword, 2 % cannot be answered; 90 % of the tickets
    answered (80 % of those in time), the rest open and escalated.

    Messages and tickets reference each other both ways: their ids are
    drawn from their sequences first, and both tables are filled with the
    foreign-key triggers off (``session_replication_role = replica``),
    consistent by construction."""
    cr = env.cr
    categories = [
        env.ref(f"sms_center.category_{name}").id
        for name in ("information", "complaint", "question", "suggestion")
    ]
    stage_answered = env.ref("sms_center.helpdesk_ticket_stage_answered").id
    stage_new = env["helpdesk.ticket.stage"].search(
        [("closed", "=", False)], order="sequence", limit=1
    )
    cr.execute(
        """CREATE TEMP TABLE bench_sms AS
           SELECT n, at, keyword_id, state,
                  nextval('sms_center_message_id_seq') AS message_id,
                  CASE WHEN state = 'routed'
                       THEN nextval('helpdesk_ticket_id_seq') END AS ticket_id
             FROM (
               SELECT n,
                      CASE WHEN n <= %(month_sms)s
                           THEN %(month_start)s::timestamp
                                + (n::float / %(month_sms)s)
                                  * (%(month_end)s::timestamp - %(month_start)s)
                           ELSE %(month_start)s::timestamp
                                - ((n - %(month_sms)s)::float
                                   / (%(count)s - %(month_sms)s))
                                  * interval '3 years'
                      END AS at,
                      (%(keyword_ids)s::int[])[1 + n %% %(nkeywords)s] AS keyword_id,
                      CASE WHEN n %% 50 < 44 THEN 'routed'
                           WHEN n %% 50 < 46 THEN 'appended'
                           WHEN n %% 50 < 49 THEN 'unknown'
                           ELSE 'rejected' END AS state
                 FROM generate_series(1, %(count)s) AS n
             ) AS generated ORDER BY n""",
        {
            "count": count,
            "month_sms": month_sms,
            "month_start": month_start,
            "month_end": month_end,
            "keyword_ids": keywords.ids,
            "nkeywords": len(keywords),
        },
    )
    # A follow-up SMS joins an earlier ticket of its keyword.
    cr.execute(
        """UPDATE bench_sms s SET ticket_id = earlier.ticket_id
             FROM (SELECT n, max(ticket_id) OVER (
                          PARTITION BY keyword_id ORDER BY at
                          ROWS UNBOUNDED PRECEDING) AS ticket_id
                     FROM bench_sms) earlier
            WHERE earlier.n = s.n AND s.state = 'appended'"""
    )
    cr.execute("SET LOCAL session_replication_role = replica")
    cr.execute(
        """INSERT INTO helpdesk_ticket
               (id, name, number, description, company_id, team_id, stage_id,
                user_id, category_id, channel_id, sms_keyword_id, sms_message_id,
                sms_sender_masked, sms_received_at, sms_received_date, sms_deadline,
                sms_answered, sms_first_answer_at, sms_awaiting_answer,
                sms_compliance, sms_response_minutes, sms_response_working_minutes,
                sms_answered_in_time, sms_escalated_at, sms_not_substantive,
                active, create_date, write_date, create_uid, write_uid)
           SELECT s.ticket_id, k.name || ': bench ' || s.n, 'BR' || s.n,
                  '<p>bench</p>', %(company)s, k.team_id,
                  CASE WHEN s.n %% 10 <> 0 THEN %(answered)s ELSE %(new)s END,
                  o.user_id, (%(categories)s::int[])[1 + s.n %% 4], %(channel)s,
                  k.id, s.message_id,
                  '0812****' || lpad((s.n %% 1000)::text, 3, '0'),
                  s.at, timezone('Asia/Jakarta', timezone('UTC', s.at))::date,
                  s.at + interval '3 hours', s.n %% 10 <> 0,
                  CASE WHEN s.n %% 10 <> 0
                       THEN s.at + (CASE WHEN s.n %% 5 = 0 THEN 300
                                         ELSE 60 + s.n %% 100 END)
                                   * interval '1 minute' END,
                  s.n %% 10 = 0,
                  CASE WHEN s.n %% 10 = 0 THEN 'overdue'
                       WHEN s.n %% 5 = 0 THEN 'late' ELSE 'in_time' END,
                  CASE WHEN s.n %% 10 = 0 THEN 0
                       WHEN s.n %% 5 = 0 THEN 300 ELSE 60 + s.n %% 100 END,
                  0, s.n %% 10 <> 0 AND s.n %% 5 <> 0,
                  CASE WHEN s.n %% 10 = 0 THEN s.at + interval '3 hours' END,
                  s.n %% 100 = 7,
                  true, s.at, s.at, 1, 1
             FROM bench_sms s
             JOIN sms_center_keyword k ON k.id = s.keyword_id
             LEFT JOIN LATERAL (
                  SELECT officer.user_id FROM sms_center_keyword_officer_rel rel
                    JOIN sms_center_officer officer ON officer.id = rel.officer_id
                   WHERE rel.keyword_id = k.id LIMIT 1) o ON true
            WHERE s.state = 'routed'""",
        {
            "company": env.company.id,
            "answered": stage_answered,
            "new": stage_new.id,
            "categories": categories,
            "channel": env.ref("sms_center.helpdesk_ticket_channel_sms").id,
        },
    )
    cr.execute(
        """INSERT INTO sms_center_message
               (id, sender, sender_e164, sender_masked, sender_kind, text,
                received_at, received_date, keyword_text, keyword_id, body, state,
                ticket_id, moderation_state, moderation_reason, create_date,
                write_date, create_uid, write_uid)
           SELECT s.message_id,
                  CASE WHEN s.state = 'rejected' THEN 'PROMO'
                       ELSE '0812' || lpad(s.n::text, 8, '0') END,
                  CASE WHEN s.state = 'rejected' THEN NULL
                       ELSE '+62812' || lpad(s.n::text, 8, '0') END,
                  '0812****' || lpad((s.n % 1000)::text, 3, '0'),
                  CASE WHEN s.state = 'rejected' THEN 'alphanumeric'
                       ELSE 'number' END,
                  CASE WHEN s.state = 'unknown' THEN 'HALO bench ' || s.n
                       ELSE k.name || ' bench message ' || s.n END,
                  s.at, timezone('Asia/Jakarta', timezone('UTC', s.at))::date,
                  CASE WHEN s.state = 'unknown' THEN 'HALO' ELSE k.name END,
                  CASE WHEN s.state = 'unknown' THEN NULL ELSE k.id END,
                  'bench message ' || s.n, s.state, s.ticket_id,
                  CASE WHEN s.state = 'routed' AND s.n % 100 = 7 THEN 'spam'
                       ELSE 'ok' END,
                  CASE WHEN s.state = 'routed' AND s.n % 100 = 7 THEN 'bench'
                  END,
                  s.at, s.at, 1, 1
             FROM bench_sms s
             JOIN sms_center_keyword k ON k.id = s.keyword_id"""
    )
    cr.execute("SET LOCAL session_replication_role = DEFAULT")
    for table in ("helpdesk_ticket", "sms_center_message"):
        cr.execute(f"ANALYZE {table}")


def pivot(model, domain, measures, rows, cols):
    """The read_group calls of Odoo's pivot view (total, rows, columns,
    cells), as web/static/src/views/pivot/pivot_model.js makes them."""
    result = []
    for groupby in ([], rows, cols, rows + cols):
        result.append(model.read_group(domain, measures, groupby, lazy=False))
    return result


def vacuum(registry):
    """VACUUM ANALYZE the two big tables, as autovacuum does in production
    (index-only scans and fresh statistics); outside any transaction."""
    import odoo

    with odoo.sql_db.db_connect(registry.db_name).cursor() as cr:
        cr._cnx.autocommit = True
        for table in ("helpdesk_ticket", "sms_center_message"):
            cr.execute(f"VACUUM ANALYZE {table}")


def delete_bench_rows(cr):
    """Remove the inserted SMS and tickets (foreign-key triggers off: they
    reference each other)."""
    cr.execute("SET LOCAL session_replication_role = replica")
    cr.execute(
        "DELETE FROM sms_center_message WHERE ticket_id IN "
        "(SELECT id FROM helpdesk_ticket WHERE number LIKE 'BR%%')"
    )
    cr.execute("DELETE FROM sms_center_message WHERE body LIKE 'bench message %%'")
    cr.execute("DELETE FROM helpdesk_ticket WHERE number LIKE 'BR%%'")
    cr.execute("SET LOCAL session_replication_role = DEFAULT")


def main():
    args = parse_args()
    import odoo
    from odoo import SUPERUSER_ID, api

    odoo.tools.config.parse_config(
        ["-d", args.database, f"--addons-path={args.addons_path}"]
    )
    registry = odoo.modules.registry.Registry(args.database)
    # Importable once the addons path is set.
    from odoo.addons.sms_center.models.sms_center_report import (
        period_end,
        previous_period_start,
    )
    from odoo.addons.sms_center.tools.deadline import (
        regency_tz,
        to_local,
        to_utc_naive,
    )

    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        tz = regency_tz(env)
        today = to_local(env.cr.now(), tz).date()
        month_from = previous_period_start("month", today.replace(day=1))
        month_to = period_end("month", month_from)

        def utc_midnight(day):
            return to_utc_naive(tz.localize(datetime.combine(day, datetime.min.time())))

        keywords, secretariat = setup_units(env, args.units)
        delete_bench_rows(cr)
        start = time.perf_counter()
        fill(
            env,
            keywords,
            args.messages,
            args.month_sms,
            utc_midnight(month_from),
            utc_midnight(month_to + timedelta(days=1)),
        )
        cr.commit()
        print(f"inserted in {time.perf_counter() - start:.1f} s", end="")
    start = time.perf_counter()
    vacuum(registry)
    print(f", vacuumed in {time.perf_counter() - start:.1f} s")

    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        cr.execute(
            "SELECT count(*), min(received_at), max(received_at)"
            " FROM sms_center_message"
        )
        total, first, last = cr.fetchone()
        cr.execute(
            "SELECT count(*) FROM helpdesk_ticket WHERE sms_keyword_id IS NOT NULL"
        )
        tickets = cr.fetchone()[0]
        print(
            f"{total} inbound SMS ({first:%Y-%m-%d} .. {last:%Y-%m-%d}), "
            f"{tickets} SMS tickets, {args.units} units\n"
        )

        # One year: the twelve months up to the report's month.
        year_from = month_from - relativedelta(months=11)
        user_env = env(user=secretariat, context={"tz": tz.zone, "lang": "en_US"})
        Ticket = user_env["helpdesk.ticket"]
        Inbound = user_env["sms_center.inbound.analysis"]
        ticket_domain = [
            ("sms_keyword_id", "!=", False),
            ("sms_received_at", ">=", utc_midnight(year_from)),
            ("sms_received_at", "<", utc_midnight(month_to + timedelta(days=1))),
        ]
        inbound_domain = [
            ("received_date", ">=", year_from),
            ("received_date", "<=", month_to),
        ]
        measures = ["sms_count", "question_count", "answered_count", "in_time_rate"]
        runs = {
            "Odoo helpdesk.ticket pivot (count)": lambda: pivot(
                Ticket,
                ticket_domain,
                ["__count"],
                ["team_id"],
                ["sms_received_at:month"],
            ),
            "Inbound SMS analysis pivot (count)": lambda: pivot(
                Inbound,
                inbound_domain,
                ["__count"],
                ["team_id"],
                ["received_date:month"],
            ),
            "Inbound SMS analysis pivot (default measures)": lambda: pivot(
                Inbound, inbound_domain, measures, ["team_id"], ["received_date:month"]
            ),
        }
        print(
            f"pivot: units x months, {year_from} .. {month_to}, as a secretariat user;"
            f" one warm-up, then {args.repeat} interleaved rounds (best / median)"
        )
        for func in runs.values():
            func()
        times = {label: [] for label in runs}
        rows = {}
        for _round in range(args.repeat):
            for label, func in runs.items():
                start = time.perf_counter()
                result = func()
                times[label].append(time.perf_counter() - start)
                rows[label] = sum(group.get("__count", 0) for group in result[0])
        for label in runs:
            print(
                f"  {label:<48} {min(times[label]):7.3f} s  "
                f"{statistics.median(times[label]):7.3f} s   rows {rows[label]}"
            )
        baseline = min(times["Odoo helpdesk.ticket pivot (count)"])
        for label in list(runs)[1:]:
            ratio = min(times[label]) / baseline
            verdict = "ok" if ratio <= GOAL_PIVOT_RATIO else "ABOVE GOAL"
            print(
                f"  {label}: {ratio:.2f} x Odoo's ticket pivot "
                f"(goal <= {GOAL_PIVOT_RATIO}) {verdict}"
            )

        Report = env["sms_center.report"]
        best, median, snapshot = best_of(
            args.repeat,
            lambda: Report._compute_snapshot("month", month_from, month_to),
        )
        verdict = "ok" if best <= GOAL_REPORT_SECONDS else "ABOVE GOAL"
        print(
            f"\nreport of {month_from:%B %Y} ({snapshot['totals']['received']} SMS): "
            f"{best:.3f} s best, {median:.3f} s median "
            f"(goal < {GOAL_REPORT_SECONDS:.0f} s) {verdict}"
        )
        report = Report.create({"period_type": "month", "date_from": month_from})
        start = time.perf_counter()
        report.action_generate()
        env.flush_all()
        print(
            f"report record generated and stored: {time.perf_counter() - start:.3f} s"
        )

        with captured_queries(cr) as queries:
            Inbound.read_group(
                inbound_domain, measures, ["team_id", "received_date:month"], lazy=False
            )
        explain(cr, "analysis pivot cells (units x months)", *queries[-1])
        with captured_queries(cr) as queries:
            Ticket.read_group(
                ticket_domain,
                ["__count"],
                ["team_id", "sms_received_at:month"],
                lazy=False,
            )
        explain(cr, "Odoo ticket pivot cells (units x months)", *queries[-1])
        with captured_queries(cr) as queries:
            Report._compute_snapshot("month", month_from, month_to)
        slowest = []
        for query, params in queries:
            if "sms_center_inbound_analysis" not in str(query):
                continue
            start = time.perf_counter()
            cr.execute(query, params)
            slowest.append((time.perf_counter() - start, query, params))
        slowest.sort(key=lambda item: item[0], reverse=True)
        print(f"\nreport: {len(queries)} queries; the two slowest:")
        for seconds, query, params in slowest[:2]:
            explain(cr, f"report query ({seconds:.3f} s)", query, params)
        cr.rollback()  # the report record
        if not args.keep:
            delete_bench_rows(cr)
            cr.commit()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
