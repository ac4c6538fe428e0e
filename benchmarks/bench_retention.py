#!/usr/bin/env python3
"""How the retention of citizens' numbers scales with history (issue 13).

Fills a database that has sms_center installed with many OLD closed SMS
tickets (one SMS each, from as many numbers, half of them answered, each
with its citizen's contact), straight in SQL, then times rounds of the
retention cron (``sms_center.personal.data._cron_apply_retention``) and
prints the query plans of its claim queries. A round must cost the same
whatever the history: index scans on the partial indexes
``sms_center_message_not_pseudonymised_idx`` and
``res_partner_sms_center_citizen_idx``, never a sequential scan of
``sms_center_message``.

Baseline, measured in the same run on the same data: Odoo's own list page
of the inbound SMS (``web_search_read`` of the first 80 rows, as the
*Inbound SMS* menu loads them) and an ORM write on as many SMS as a
retention round pseudonymises.

Everything is rolled back at the end unless ``--keep`` is given. Not a test:
run it by hand on a scratch database, e.g.

    odoo -d bench_sms -i sms_center --stop-after-init --without-demo=all
    python3 benchmarks/bench_retention.py -d bench_sms --tickets 1000000

Options: ``--addons-path`` (default /opt/odoo18/addons plus this checkout),
``--rounds`` (retention rounds to time, default 5), ``--keep``.
"""

import argparse
import os
import statistics
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument(
        "--addons-path", default=f"/opt/odoo18/addons,{REPO}", help="Odoo addons path"
    )
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="commit the data")
    return parser.parse_args()


def timed(label, func):
    start = time.perf_counter()
    result = func()
    print(f"{label:<52} {time.perf_counter() - start:8.3f} s")
    return result


def explain(env, label, sql, params=()):
    env.cr.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params)
    plan = "\n".join("    " + row[0] for row in env.cr.fetchall())
    seq = "Seq Scan on sms_center_message" in plan
    print(f"\n-- {label}{'   <-- SEQUENTIAL SCAN' if seq else ''}\n{plan}")
    return not seq


def fill_history(env, count):
    """``count`` closed SMS tickets, 30 to 66 months old, each with its SMS,
    its citizen's contact and, for half of them, an answer."""
    keyword = env["sms_center.keyword"].search([], limit=1)
    if not keyword:
        team = env["helpdesk.ticket.team"].create({"name": "Bench"})
        keyword = env["sms_center.keyword"].create(
            {"name": "BENCH", "team_id": team.id}
        )
    answered = env.ref("sms_center.helpdesk_ticket_stage_answered")
    cr = env.cr
    cr.execute(
        """CREATE TEMP TABLE bench_rows ON COMMIT DROP AS
           SELECT n, '+62813' || lpad(n::text, 8, '0') AS number,
                  (now() AT TIME ZONE 'UTC') - interval '30 months'
                  - (n::float / %(count)s) * interval '3 years' AS at
             FROM generate_series(1, %(count)s) AS n""",
        {"count": count},
    )
    cr.execute(
        """INSERT INTO res_partner (name, mobile, phone_sanitized, sms_center_citizen,
                                    active, type, create_date, write_date)
           SELECT 'SMS bench ' || n, number, number, TRUE, TRUE, 'contact', at, at
             FROM bench_rows"""
    )
    cr.execute("ANALYZE res_partner")
    cr.execute(
        """INSERT INTO helpdesk_ticket
               (name, number, description, company_id, team_id, stage_id,
                sms_keyword_id, sms_received_at, sms_answered, closed_date,
                sms_awaiting_answer, partner_id, active,
                create_date, write_date, create_uid, write_uid)
           SELECT 'bench ' || b.n, 'R' || b.n, '<p>bench</p>', %(company)s,
                  %(team)s, %(stage)s, %(keyword)s, b.at, b.n %% 2 = 0,
                  b.at + interval '2 hours', FALSE, p.id, TRUE, b.at, b.at, 1, 1
             FROM bench_rows b
             JOIN res_partner p ON p.mobile = b.number AND p.sms_center_citizen""",
        {
            "company": env.company.id,
            "team": keyword.team_id.id,
            "stage": answered.id,
            "keyword": keyword.id,
        },
    )
    cr.execute("ANALYZE helpdesk_ticket")
    cr.execute(
        """INSERT INTO sms_center_message
               (sender, sender_e164, sender_key, sender_masked, sender_kind, text,
                received_at, keyword_id, keyword_text, body, state, ticket_id,
                partner_id, moderation_state, create_date, write_date,
                create_uid, write_uid)
           SELECT '0' || substr(p.mobile, 4), p.mobile, sms_center_pseudonym(p.mobile),
                  '0813****' || right(p.mobile, 3), 'number', 'BENCH teks warga',
                  t.sms_received_at, %(keyword)s, 'BENCH', 'teks warga', 'routed',
                  t.id, t.partner_id, 'ok', t.create_date, t.create_date, 1, 1
             FROM helpdesk_ticket t JOIN res_partner p ON p.id = t.partner_id
            WHERE t.number LIKE 'R%%' AND t.name LIKE 'bench %%'""",
        {"keyword": keyword.id},
    )
    cr.execute("ANALYZE sms_center_message")
    cr.execute(
        """INSERT INTO sms_center_reply
               (ticket_id, keyword_id, author_id, body, number, encoding, parts,
                send_count, sms_state, create_date, write_date, create_uid, write_uid)
           SELECT m.ticket_id, m.keyword_id, 1, 'Terima kasih.', m.sender_e164,
                  'gsm7', 1, 1, 'sent', m.received_at, m.received_at, 1, 1
             FROM sms_center_message m
            WHERE m.text = 'BENCH teks warga' AND m.ticket_id % 2 = 0"""
    )
    for table in (
        "res_partner",
        "helpdesk_ticket",
        "sms_center_message",
        "sms_center_reply",
    ):
        cr.execute(f"ANALYZE {table}")  # noqa: S608 - constant names


def main():
    args = parse_args()
    import odoo
    from odoo import SUPERUSER_ID, api
    from odoo.tools import SQL

    odoo.tools.config.parse_config(
        ["-d", args.database, f"--addons-path={args.addons_path}"]
    )
    registry = odoo.modules.registry.Registry(args.database)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        env["ir.config_parameter"].set_param("sms_center.retention_months", "24")
        PersonalData = env["sms_center.personal.data"]
        timed(
            f"insert {args.tickets} old tickets, SMS, contacts (SQL)",
            lambda: fill_history(env, args.tickets),
        )
        cutoff = PersonalData._retention_cutoff()

        print("\nbaseline (Odoo, same data)")
        Message = env["sms_center.message"]
        spec = {
            name: {}
            for name in ("received_at", "sender_masked", "text", "keyword_id", "state")
        }
        timed(
            "  Inbound SMS list page: web_search_read 80 rows",
            lambda: Message.web_search_read([], spec, limit=80),
        )
        sample = Message.search([("text", "=", "BENCH teks warga")], limit=200)
        timed(
            "  ORM write on 200 SMS (moderation state)",
            lambda: (
                sample.write(
                    {"moderation_state": "excluded", "moderation_reason": "x"}
                ),
                env.flush_all(),
            ),
        )

        print("\nretention (batch of 200 tickets per round)")
        durations = []
        done = 0
        for n in range(args.rounds):
            start = time.perf_counter()
            result = PersonalData._cron_apply_retention(batch_size=200)
            durations.append(time.perf_counter() - start)
            done += result.get("messages", 0)
            print(
                f"  round {n + 1}: {durations[-1]:6.3f} s, "
                f"{result.get('messages', 0)} SMS, {result.get('partners', 0)} contacts"
            )
        median = statistics.median(durations)
        print(
            f"  median round {median:.3f} s: {200 / median:,.0f} tickets/s, "
            f"a backlog of {args.tickets} tickets in "
            f"{args.tickets / 200 * median / 60:,.1f} min"
        )
        timed(
            "  remaining count (once per round)",
            lambda: PersonalData._retention_remaining(cutoff),
        )
        timed(
            "  a run with nothing due (history all kept < 24 months)",
            lambda: PersonalData.with_context()._retention_remaining(
                cutoff.replace(year=cutoff.year - 10)
            ),
        )

        kinds = ["number", "invalid"]  # PERSONAL_SENDER_KINDS
        ok = all(
            [
                explain(
                    env,
                    "claim: closed tickets past the period",
                    *SQL(
                        """SELECT t.id FROM helpdesk_ticket t
                             JOIN helpdesk_ticket_stage s ON s.id = t.stage_id
                            WHERE t.sms_keyword_id IS NOT NULL AND s.closed
                              AND t.closed_date < %s
                              AND EXISTS (
                                  SELECT 1 FROM sms_center_message m
                                   WHERE m.ticket_id = t.id
                                     AND m.pseudonymised_at IS NULL
                                     AND m.sender_kind = ANY(%s))
                            ORDER BY t.id LIMIT 200
                              FOR NO KEY UPDATE OF t SKIP LOCKED""",
                        cutoff,
                        kinds,
                    ),
                ),
                explain(
                    env,
                    "claim: SMS without a ticket past the period",
                    *SQL(
                        """SELECT id FROM sms_center_message
                            WHERE ticket_id IS NULL AND pseudonymised_at IS NULL
                              AND sender_kind = ANY(%s) AND received_at < %s
                            ORDER BY id LIMIT 200 FOR NO KEY UPDATE SKIP LOCKED""",
                        kinds,
                        cutoff,
                    ),
                ),
            ]
        )
        print(
            "\nno sequential scan of sms_center_message" if ok else "\nSEQUENTIAL SCANS"
        )
        if args.keep:
            cr.commit()
        else:
            cr.rollback()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
