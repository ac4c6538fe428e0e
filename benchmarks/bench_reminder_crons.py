#!/usr/bin/env python3
"""How the reminder and escalation crons scale with history (R8, R9).

Fills a database that has sms_center installed with many OLD SMS tickets
(answered, or closed unanswered), adds a few recent ones through the real
inbound path, then times the three crons and prints the query plans of the
queries they run. The crons must read only the recent tickets: the plans
should show index scans on ``sms_received_at`` and on the partial indexes
``helpdesk_ticket_sms_awaiting_idx`` / ``helpdesk_ticket_sms_escalation_idx``,
never a sequential scan of ``helpdesk_ticket``.

Everything is rolled back at the end unless ``--keep`` is given. Not a test:
run it by hand on a scratch database, e.g.

    odoo -d bench_sms -i sms_center --stop-after-init --without-demo=all
    python3 benchmarks/bench_reminder_crons.py -d bench_sms --tickets 1000000

Options: ``--addons-path`` (default /opt/odoo18/addons plus this checkout),
``--recent`` (recent SMS to receive, default 300), ``--keep``.
"""

import argparse
import os
import random
import time
from datetime import timedelta

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument(
        "--addons-path", default=f"/opt/odoo18/addons,{REPO}", help="Odoo addons path"
    )
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--recent", type=int, default=300)
    parser.add_argument("--keep", action="store_true", help="commit the data")
    return parser.parse_args()


def timed(label, func):
    start = time.perf_counter()
    result = func()
    print(f"{label:<42} {time.perf_counter() - start:8.3f} s")
    return result


def explain(env, label, sql, params=()):
    env.cr.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params)
    plan = "\n".join("    " + row[0] for row in env.cr.fetchall())
    seq = "Seq Scan on helpdesk_ticket" in plan
    print(f"\n-- {label}{'   <-- SEQUENTIAL SCAN' if seq else ''}\n{plan}")
    return not seq


def orm_sql(env, domain, column):
    """SQL text and parameters of the ORM's search for ``domain``."""
    query = env["helpdesk.ticket"].sudo()._search(domain)
    sql = query.select(f'"helpdesk_ticket"."{column}"')
    return sql.code, sql.params


def fill_history(env, count):
    """Insert ``count`` old SMS tickets straight in SQL (the ORM would take
    hours): 95 % answered, 5 % closed unanswered, over the past three years."""
    keywords = env["sms_center.keyword"].search([])
    if not keywords:
        keywords = env["sms_center.keyword"].create(
            {
                "name": "BENCH",
                "team_id": env["helpdesk.ticket.team"].create({"name": "Bench"}).id,
            }
        )
    for n, keyword in enumerate(keywords.filtered(lambda k: not k.officer_ids)):
        user = env["res.users"].create(
            {
                "name": f"Bench officer {n}",
                "login": f"bench_officer_{n}",
                "groups_id": [(4, env.ref("sms_center.group_officer").id)],
            }
        )
        keyword.officer_ids = env["sms_center.officer"].create(
            {"user_id": user.id, "notification_mobile": f"+62811000{n:05d}"}
        )
    answered = env.ref("sms_center.helpdesk_ticket_stage_answered")
    env.cr.execute(
        """INSERT INTO helpdesk_ticket
               (name, number, description, company_id, team_id, stage_id,
                sms_keyword_id, sms_received_at, sms_deadline,
                sms_answered, sms_first_answer_at, sms_awaiting_answer,
                sms_compliance, sms_response_minutes, sms_answered_in_time,
                active, create_date, write_date, create_uid, write_uid)
           SELECT 'old SMS ' || n, 'B' || n, '<p>old</p>', %(company)s,
                  k.team_id, %(stage)s, k.id, r.at, r.at + interval '3 hours',
                  n %% 20 <> 0, CASE WHEN n %% 20 <> 0
                                     THEN r.at + interval '90 minutes' END,
                  false, CASE WHEN n %% 20 <> 0 THEN 'in_time' ELSE 'closed' END,
                  CASE WHEN n %% 20 <> 0 THEN 90 ELSE 0 END, n %% 20 <> 0,
                  true, r.at, r.at, 1, 1
             FROM generate_series(1, %(count)s) AS n
             JOIN LATERAL (
                  SELECT (now() at time zone 'UTC') - interval '2 days'
                         - (n::float / %(count)s) * interval '3 years' AS at
             ) r ON true
             JOIN sms_center_keyword k
               ON k.id = (%(keyword_ids)s)[1 + n %% %(nkeywords)s]""",
        {
            "company": env.company.id,
            "stage": answered.id,
            "count": count,
            "keyword_ids": keywords.ids,
            "nkeywords": len(keywords),
        },
    )
    env.cr.execute("ANALYZE helpdesk_ticket")
    return keywords


def receive_recent(env, keywords, count):
    """Recent SMS through the real inbound path: some overdue, most new."""
    Message = env["sms_center.message"]
    now = env.cr.now()
    rng = random.Random(4)
    for n in range(count):
        received_at = now - timedelta(minutes=rng.randint(1, 8 * 60))
        keyword = keywords[n % len(keywords)]
        Message.receive(
            f"0813{n:08d}", f"{keyword.name} bench message {n}", received_at=received_at
        )
    env.flush_all()
    env.cr.execute("ANALYZE helpdesk_ticket")


def main():
    args = parse_args()
    import odoo
    from odoo import SUPERUSER_ID, api, fields

    odoo.tools.config.parse_config(
        ["-d", args.database, f"--addons-path={args.addons_path}"]
    )
    registry = odoo.modules.registry.Registry(args.database)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        Reminder = env["sms_center.reminder"]
        keywords = timed(
            f"insert {args.tickets} old tickets (SQL)",
            lambda: fill_history(env, args.tickets),
        )
        timed(
            f"receive {args.recent} recent SMS (ORM)",
            lambda: receive_recent(env, keywords, args.recent),
        )
        env.cr.execute(
            "SELECT count(*), count(*) FILTER (WHERE sms_awaiting_answer) "
            "FROM helpdesk_ticket"
        )
        total, awaiting = env.cr.fetchone()
        print(f"tickets: {total}, awaiting an answer: {awaiting}\n")

        # Daily reminder due now, whatever the hour.
        ICP = env["ir.config_parameter"]
        ICP.set_param("sms_center.daily_reminder_time", "00:00")
        ICP.set_param("sms_center.daily_reminder_last_period", "")
        ICP.set_param("sms_center.quiet_hours", False)
        hourly = timed("hourly reminders", Reminder._cron_send_hourly_reminders)
        timed("hourly reminders, repeated", Reminder._cron_send_hourly_reminders)
        daily = timed("daily reminders", Reminder._cron_send_daily_reminders)
        escalated = timed("escalation", Reminder._cron_escalate_overdue)
        timed("escalation, repeated", Reminder._cron_escalate_overdue)
        print(
            f"\nhourly reminders: {len(hourly)}, daily: {len(daily)}, "
            f"superior SMS: {len(escalated)}"
        )

        now = fields.Datetime.now()
        start, end, _key = Reminder._hourly_window(now)
        ok = all(
            [
                explain(
                    env,
                    "hourly: SMS received in the last hour",
                    *orm_sql(
                        env,
                        [
                            ("sms_received_at", ">=", start),
                            ("sms_received_at", "<", end),
                            ("sms_keyword_id", "!=", False),
                        ],
                        "sms_keyword_id",
                    ),
                ),
                explain(
                    env,
                    "daily: SMS awaiting an answer",
                    *orm_sql(
                        env, [("sms_awaiting_answer", "=", True)], "sms_keyword_id"
                    ),
                ),
                explain(
                    env,
                    'inbox "Overdue" filter',
                    *orm_sql(env, [("sms_overdue", "=", True)], "id"),
                ),
                explain(
                    env,
                    "escalation: overdue tickets not escalated (lock query)",
                    """SELECT id FROM helpdesk_ticket
                        WHERE sms_awaiting_answer AND sms_escalated_at IS NULL
                          AND sms_deadline <= %s
                        ORDER BY sms_deadline, id LIMIT 200
                          FOR NO KEY UPDATE SKIP LOCKED""",
                    [now],
                ),
            ]
        )
        print("\nno sequential scan of helpdesk_ticket" if ok else "\nSEQUENTIAL SCANS")
        if args.keep:
            cr.commit()
        else:
            cr.rollback()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
