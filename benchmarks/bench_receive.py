#!/usr/bin/env python3
"""Inbound throughput and inbox query plans of sms_center, on a real database.

Prints figures; asserts nothing. Everything happens in one transaction that
is rolled back at the end, so the database is left as it was.

    python3 benchmarks/bench_receive.py --db sms_center --count 2000 \
        --history 200000

* ``--history N`` first bulk-inserts N old SMS tickets (and their inbound
  SMS) with SQL, to see the plans with years of history;
* then ``--count`` SMS go through ``sms_center.message.receive()`` (parse,
  store, route, ticket creation or automatic reply), timed;
* then the officer inbox, the secretariat list and the daily-reminder style
  "recent tickets" query are EXPLAINed as a non-admin officer would run them.

Use a database with sms_center installed (``scripts/dev-server`` creates one
named ``sms_center``).
"""

import argparse
import random
import time

import odoo
from odoo import SUPERUSER_ID, api
from odoo.tools import config

TEXTS = [
    "{kw} jalan rusak di desa {n}, mohon segera diperbaiki",
    "{kw}: puskesmas tutup lebih awal hari ini",
    "{kw}#lampu jalan mati sejak kemarin malam",
    "{kw}. terima kasih atas pelayanannya 👍",
    "HALO {n} ini nomor apa ya",
]


def bulk_history(env, count):
    """Insert ``count`` old answered SMS tickets with their SMS, by SQL."""
    cr = env.cr
    keywords = env["sms_center.keyword"].search([])
    stage = env.ref("sms_center.helpdesk_ticket_stage_answered")
    channel = env.ref("sms_center.helpdesk_ticket_channel_sms")
    started = time.perf_counter()
    cr.execute(
        """
        WITH kw AS (
            SELECT k.id, k.team_id, row_number() OVER (ORDER BY k.id) - 1 AS n,
                   count(*) OVER () AS total
              FROM sms_center_keyword k WHERE k.id = ANY(%(kw)s)
        )
        INSERT INTO helpdesk_ticket (number, name, description, team_id, stage_id,
            channel_id, sms_keyword_id, sms_received_at, sms_answered,
            sms_first_answer_at, company_id, active, priority, kanban_state,
            create_date, write_date, create_uid, write_uid)
        SELECT 'HIST' || g, 'history ' || g, '<p>history</p>', kw.team_id,
               %(stage)s, %(channel)s, kw.id,
               now() - (g || ' minutes')::interval - interval '2 days', true,
               now() - (g || ' minutes')::interval - interval '2 days'
                   + interval '1 hour',
               %(company)s, true, '1', 'normal', now(), now(), 1, 1
          FROM generate_series(1, %(count)s) g
          JOIN kw ON kw.n = g %% kw.total
        """,
        {
            "kw": keywords.ids,
            "stage": stage.id,
            "channel": channel.id,
            "count": count,
            "company": env.company.id,
        },
    )
    cr.execute("ANALYZE helpdesk_ticket")
    return time.perf_counter() - started


def explain(env, query, params):
    env.cr.execute("EXPLAIN (ANALYZE, BUFFERS OFF, TIMING ON) " + query, params)
    return "\n".join("    " + row[0] for row in env.cr.fetchall())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sms_center")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--history", type=int, default=0)
    parser.add_argument("--addons-path", default=None)
    args = parser.parse_args()

    odoo_args = ["-d", args.db, "--log-level=warn"]
    if args.addons_path:
        odoo_args.append(f"--addons-path={args.addons_path}")
    config.parse_config(odoo_args)
    registry = odoo.modules.registry.Registry(args.db)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        try:
            run(env, args)
        finally:
            cr.rollback()
            print("\n(rolled back: the database is unchanged)")
    # The rolled-back rows leave dead tuples that would mislead the planner
    # of the next run: clean them up.
    with registry.cursor() as cr:
        cr._cnx.autocommit = True
        cr.execute("VACUUM ANALYZE helpdesk_ticket, sms_center_message, res_partner")


def run(env, args):
    keywords = env["sms_center.keyword"].search([]).mapped("name")
    if not keywords:
        raise SystemExit("no keywords: install sms_center with demo data first")
    if args.history:
        seconds = bulk_history(env, args.history)
        print(f"history: {args.history} old tickets inserted in {seconds:.1f}s")

    rng = random.Random(42)
    Message = env["sms_center.message"]
    env.flush_all()
    started = time.perf_counter()
    states = {}
    for index in range(args.count):
        sender = f"0812{rng.randrange(10**7, 10**8)}"
        text = rng.choice(TEXTS).format(kw=rng.choice(keywords).lower(), n=index)
        message = Message.receive(sender, text, gateway_message_id=f"bench-{index}")
        states[message.state] = states.get(message.state, 0) + 1
    env.flush_all()
    elapsed = time.perf_counter() - started
    print(
        f"receive(): {args.count} SMS in {elapsed:.2f}s = "
        f"{args.count / elapsed:.0f} SMS/s ({1000 * elapsed / args.count:.1f} ms each)"
    )
    print(f"  outcomes: {states}")

    officer = env["sms_center.officer"].search([], limit=1)
    Ticket = env["helpdesk.ticket"].with_user(officer.user_id)
    inbox_domain = [
        ("sms_keyword_id", "!=", False),
        ("sms_answered", "=", False),
        ("stage_id.closed", "=", False),
    ]
    query = Ticket._search(
        inbox_domain, order="sms_answered, sms_received_at, id", limit=80
    )
    sql, params = query.select("helpdesk_ticket.id")
    started = time.perf_counter()
    ids = Ticket.search(
        inbox_domain, order="sms_answered, sms_received_at, id", limit=80
    )
    print(
        f"\nofficer inbox ({officer.name}): {len(ids)} rows in "
        f"{1000 * (time.perf_counter() - started):.1f} ms; plan:"
    )
    print(explain(env, sql, params))

    since = odoo.fields.Datetime.now().replace(minute=0, second=0, microsecond=0)
    sql = (
        "SELECT sms_keyword_id, count(*) FROM helpdesk_ticket "
        "WHERE sms_received_at >= %s AND sms_keyword_id IS NOT NULL "
        "GROUP BY sms_keyword_id"
    )
    print("\nrecent tickets per keyword (reminder crons read only recent work):")
    print(explain(env, sql, [since]))


if __name__ == "__main__":
    main()
