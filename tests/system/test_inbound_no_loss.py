"""No SMS lost, none doubled, when Odoo dies (issue 11, R14): a real Odoo
server killed with SIGKILL, a real Kannel retrying.

Both tests run against one scratch database (``sms_center`` installed
without demo data, dropped at the end) and an Odoo server of their own, in
one process (threaded: HTTP and cron threads die together with SIGKILL).
Not prefork: Odoo's prefork master listens with a backlog of 8 connections
per HTTP worker (hard-coded), and the burst of retries Kannel sends after
the restart overflows it; the connections caught in it reach a worker
seconds later, which logs "Request timed out" as an ERROR (nothing is
lost: Kannel retries them; see ``max-pending-requests`` in the manual).

1. 2,000 SMS through Kannel (bearerbox, smsbox, fakesmsc; ``http-request-
   retry = 100`` as the manual says, ``http-queue-delay = 1`` instead of 30
   to keep the test short); the server is killed with SIGKILL after 700,
   stays down while 500 more arrive, then restarts. Every SMS must be
   stored exactly once and routed exactly once (tickets and follow-ups
   counted against the distinct SMS sent), each new ticket with one
   receipt, and the receipts' delivery reports applied.
2. 500 SMS stored while no router runs; the server restarts with its cron
   worker and is killed while the router holds a batch (its rows locked,
   not committed): after the restart, that batch is routed once.

No ERROR or CRITICAL line may appear in the server's logs (the kill leaves
none: the process gets no chance to write). Run by scripts/run-tests as
step 9 (about 10 minutes on a 2-core machine); skipped, loudly, where Odoo
18, PostgreSQL's client programs or Kannel are missing.
"""

import contextlib
import os
import shutil
import time
import urllib.parse

import psycopg2
import pytest
import requests
from smscenter_addon.lib.kannel import inbound_url_for
from smscenter_addon.tests import kannel_process, odoo_server
from smscenter_addon.tests.kannel_process import SERVICE_NUMBER, KannelProcess

TOKEN = "no-loss-gateway-token"
KEYWORDS = ("DINKES", "JALAN")
# SMS_CENTER_NO_LOSS_SMS: fewer SMS for a quick local run (2,000 in CI).
FLOOD = int(os.environ.get("SMS_CENTER_NO_LOSS_SMS") or 2000)
SENDERS = FLOOD // 5
KILL_AT = FLOOD * 7 // 20
RESTART_AT = FLOOD * 3 // 5


def _skip_reason():
    reason = odoo_server.odoo_missing() or kannel_process.missing_binaries()
    if reason:
        print(f"\n!!!!! NO-LOSS TESTS NOT RUN: {reason} !!!!!")
    return reason


pytestmark = pytest.mark.skipif(bool(_skip_reason()), reason=_skip_reason() or "")

SETUP = f"""
from odoo import Command
team_ids = []
for name in ("Health unit", "Roads unit"):
    team_ids.append(env["helpdesk.ticket.team"].create({{"name": name}}).id)
officer_group = env.ref("sms_center.group_officer")
for index, (keyword, team_id) in enumerate(zip({KEYWORDS!r}, team_ids)):
    user = env["res.users"].create({{
        "name": f"Officer {{keyword}}", "login": f"officer{{index}}",
        "groups_id": [Command.link(officer_group.id)],
    }})
    officer = env["sms_center.officer"].create({{
        "user_id": user.id, "notification_mobile": f"08129999000{{index}}",
        "team_id": team_id,
    }})
    env["sms_center.keyword"].create({{
        "name": keyword, "team_id": team_id,
        "officer_ids": [Command.set(officer.ids)],
    }})
env["sms_center.gateway"].create({{
    "name": "Kannel", "code": "kannel", "gateway_type": "kannel",
    "webhook_token": {TOKEN!r},
    "kannel_username": {kannel_process.SENDSMS_USER!r},
    "kannel_password": {kannel_process.SENDSMS_PASSWORD!r},
    "kannel_sendsms_url": "__SENDSMS_URL__",
    "default_sender_id": {SERVICE_NUMBER!r},
    "receiving_numbers": {SERVICE_NUMBER!r},
}})
ICP = env["ir.config_parameter"]
ICP.set_param("web.base.url", "__BASE_URL__")
ICP.set_param("web.base.url.freeze", "True")
ICP.set_param("sms_center.receipt_enabled", "True")
env.cr.commit()
print("READY")
"""


class System:
    """The scratch database, the Odoo server and the Kannel of the tests."""

    def __init__(self):
        self.workdir = odoo_server.scratch_dir("sms_center_noloss_")
        self.db = f"sms_center_noloss_{os.getpid()}"
        self.server = odoo_server.OdooServer(
            self.db,
            self.workdir,
            kannel_process.free_port(),
            workers=0,
            # A threaded Odoo starts a thread per connection unless told
            # otherwise; 8 HTTP threads (each may hold 2 cursors) and the
            # cron threads fit in 24 database connections.
            extra=["--db_maxconn=24"],
            environ={"ODOO_MAX_HTTP_THREADS": "8"},
        )
        self.kannel = None

    def setup(self):
        odoo_server.create_database(self.db, self.workdir)
        inbound = inbound_url_for(self.server.url, TOKEN)
        self.kannel = KannelProcess(
            inbound,
            http_request_retry=100,
            log_level=1,
            workdir=self.workdir / "kannel",
        ).start()
        code = SETUP.replace("__SENDSMS_URL__", self.kannel.sendsms_url).replace(
            "__BASE_URL__", self.server.url
        )
        assert "READY" in odoo_server.odoo_shell(self.db, self.workdir, code)

    def teardown(self):
        with contextlib.suppress(Exception):
            self.server.kill()
        if self.kannel is not None:
            self.kannel.stop()
        odoo_server.drop_database(self.db)

    def sql(self, query, params=None):
        with (
            contextlib.closing(psycopg2.connect(dbname=self.db)) as cnx,
            cnx.cursor() as cr,
        ):
            cr.execute(query, params)
            return cr.fetchall()

    def wait(self, query, params, check, what, timeout=600):
        deadline = time.monotonic() + timeout
        while True:
            rows = self.sql(query, params)
            if check(rows):
                return rows
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}: {rows}")
            time.sleep(1)

    def routed_once(self, tag):
        """Assert that every SMS whose text holds ``tag`` is routed exactly
        once; return ``{state: count}``."""
        like = f"% {tag}%"
        states = dict(
            self.sql(
                "SELECT state, count(*) FROM sms_center_message WHERE text LIKE %s"
                " GROUP BY state",
                [like],
            )
        )
        assert set(states) <= {"routed", "appended"}, states
        # One ticket per routed SMS, and no ticket without its SMS.
        [(routed, tickets, created)] = self.sql(
            """SELECT count(*), count(DISTINCT ticket_id),
                      (SELECT count(*) FROM helpdesk_ticket t
                        WHERE t.description LIKE %s)
                 FROM sms_center_message WHERE text LIKE %s AND state = 'routed'""",
            ["%" + like + "%", like],
        )
        assert routed == tickets == created == states.get("routed", 0)
        # Each follow-up posted once, on the ticket of its sender and keyword.
        [(appended, notes, wrong)] = self.sql(
            """SELECT count(*),
                      sum((SELECT count(*) FROM mail_message mm
                            WHERE mm.model = 'helpdesk.ticket'
                              AND mm.res_id = m.ticket_id
                              AND mm.message_type = 'comment'
                              AND mm.body LIKE '%%' || m.text || '%%')),
                      count(*) FILTER (WHERE NOT EXISTS (
                          SELECT 1 FROM sms_center_message f
                           WHERE f.ticket_id = m.ticket_id AND f.state = 'routed'
                             AND f.sender_e164 = m.sender_e164
                             AND f.keyword_id = m.keyword_id AND f.id < m.id))
                 FROM sms_center_message m WHERE text LIKE %s AND state = 'appended'""",
            [like],
        )
        assert appended == states.get("appended", 0)
        assert (notes or 0) == appended, "each follow-up posted once"
        assert wrong == 0, "follow-ups join their sender's earlier ticket"
        # One receipt per new ticket (queued once, never twice).
        [(receipts, doubled)] = self.sql(
            """SELECT count(*) FILTER (WHERE n = 1), count(*) FILTER (WHERE n > 1)
                 FROM (SELECT m.id, count(s.id) AS n
                         FROM sms_center_message m
                         JOIN mail_message mm ON mm.model = 'sms_center.message'
                                             AND mm.res_id = m.id
                                             AND mm.message_type = 'sms'
                         LEFT JOIN mail_notification s ON s.mail_message_id = mm.id
                        WHERE m.text LIKE %s GROUP BY m.id) AS r""",
            [like],
        )
        assert doubled == 0
        [(with_receipt,)] = self.sql(
            "SELECT count(*) FROM sms_center_message WHERE text LIKE %s"
            " AND auto_reply_kind = 'receipt'",
            [like],
        )
        assert receipts == with_receipt > 0
        return states


@pytest.fixture(scope="module")
def system(request):
    system = System()
    failed = request.session.testsfailed
    try:
        system.setup()
        yield system
    finally:
        system.teardown()
        if request.session.testsfailed == failed:
            shutil.rmtree(system.workdir, ignore_errors=True)
        else:
            print(f"\nlogs of the failed no-loss test kept in {system.workdir}")


def test_flood_through_kannel_with_sigkill(system):
    server, kannel = system.server, system.kannel
    server.start(cron_threads=2)
    numbers = [f"+62813{70000000 + n:08d}" for n in range(SENDERS)]
    sent = {}
    stored_at_kill = None
    count_query = "SELECT count(*) FROM sms_center_message WHERE text LIKE '% flood%'"
    for i in range(FLOOD):
        if i == KILL_AT:
            # Kannel takes SMS much faster than Odoo: kill while Odoo is
            # storing them (a third of them stored).
            system.wait(
                count_query, None, lambda rows: rows[0][0] >= KILL_AT // 3, "SMS"
            )
            server.kill()
            [(stored_at_kill,)] = system.sql(count_query)
        if i == RESTART_AT:
            server.start()
        sender = numbers[i % SENDERS]
        # A sender's SMS alternate between the keywords: follow-ups of the
        # same keyword join its ticket, the others open one.
        keyword = KEYWORDS[(i // SENDERS) % 2]
        text = f"{keyword} flood{i:04d} jalan rusak"
        kannel.inject(f"{sender} {SERVICE_NUMBER} text {text}")
        sent[text] = sender
    assert (
        stored_at_kill is not None and 0 < stored_at_kill < KILL_AT
    ), "killed while SMS were arriving"
    system.wait(
        """SELECT count(*), count(*) FILTER (WHERE state = 'to_route')
             FROM sms_center_message WHERE text LIKE '% flood%'""",
        None,
        lambda rows: rows[0] == (FLOOD, 0),
        "2,000 SMS stored and routed",
    )
    # Stored exactly once, exactly as sent.
    rows = system.sql(
        "SELECT text, sender_e164 FROM sms_center_message WHERE text LIKE '% flood%'"
    )
    assert len(rows) == FLOOD
    assert dict(rows) == sent
    states = system.routed_once("flood")
    assert states == {"routed": 2 * SENDERS, "appended": FLOOD - 2 * SENDERS}
    # The receipts went out through Kannel and their delivery reports
    # ("accepted" and "delivered", sent together) came back for every one
    # Kannel accepted. (Those the kill interrupted while being handed over
    # stay "in process", failed later: never sent twice.)
    [(delivered, _waiting)] = system.wait(
        """SELECT count(*) FILTER (WHERE m.sms_delivered),
                  count(*) FILTER (WHERE m.sms_state = 'sent'
                                   AND NOT m.sms_delivered)
                  + (SELECT count(*) FROM sms_sms WHERE state = 'outgoing')
             FROM sms_center_message m
            WHERE m.text LIKE '% flood%' AND m.auto_reply_kind = 'receipt'""",
        None,
        lambda rows: rows[0][1] == 0,
        "the receipts and their delivery reports",
    )
    assert delivered > SENDERS
    server.stop()
    assert server.errors() == []


def test_kill_in_the_middle_of_a_batch(system):
    server = system.server
    # Stored while no router runs.
    server.start(cron_threads=0)
    session = requests.Session()
    url = inbound_url_for(server.url, TOKEN)
    count = 500
    for i in range(count):
        query = urllib.parse.urlencode(
            {
                "from": f"+62857{80000000 + i % 100:08d}",
                "to": SERVICE_NUMBER,
                "text": f"{KEYWORDS[i % 2]} batchkill{i:04d} lampu mati",
                "id": f"batchkill-{i}",
            }
        )
        assert session.get(f"{url}?{query}", timeout=30).status_code == 200
    server.stop()
    ids = [
        row[0]
        for row in system.sql(
            "SELECT id FROM sms_center_message WHERE text LIKE '% batchkill%'"
            " AND state = 'to_route'"
        )
    ]
    assert len(ids) == count
    # The router starts as soon as the cron worker does (the SMS woke it):
    # kill the server while it holds a batch.
    server.start(cron_threads=1)
    locked = []
    deadline = time.monotonic() + 120
    with (
        contextlib.closing(psycopg2.connect(dbname=system.db)) as cnx,
        cnx.cursor() as cr,
    ):
        while not locked and time.monotonic() < deadline:
            cr.execute(
                """SELECT id FROM sms_center_message
                    WHERE id = ANY(%s) AND state = 'to_route'""",
                [ids],
            )
            waiting = {row[0] for row in cr.fetchall()}
            cr.execute(
                """SELECT id FROM sms_center_message
                    WHERE id = ANY(%s) AND state = 'to_route'
                      FOR UPDATE SKIP LOCKED""",
                [ids],
            )
            free = {row[0] for row in cr.fetchall()}
            cnx.rollback()
            if waiting - free:
                server.kill()
                locked = sorted(waiting - free)
            time.sleep(0.02)
    assert locked, "the router never held a batch"
    assert len(locked) < count
    # The killed batch was rolled back: still to route, nothing made of it.
    system.wait(
        """SELECT count(*) FROM sms_center_message
            WHERE id = ANY(%s) AND state = 'to_route' AND ticket_id IS NULL
              AND auto_reply_body IS NULL""",
        [locked],
        lambda rows: rows[0][0] == len(locked),
        "the killed batch to be rolled back",
        timeout=60,
    )
    server.start(cron_threads=1)
    system.wait(
        """SELECT count(*) FILTER (WHERE state = 'to_route')
             FROM sms_center_message WHERE id = ANY(%s)""",
        [ids],
        lambda rows: rows[0][0] == 0,
        "the SMS to be routed after the restart",
    )
    states = system.routed_once("batchkill")
    assert sum(states.values()) == count
    # The batch the kill interrupted: routed, once (checked above for all).
    [(again,)] = system.sql(
        """SELECT count(*) FROM sms_center_message
            WHERE id = ANY(%s) AND state IN ('routed', 'appended')""",
        [locked],
    )
    assert again == len(locked)
    server.stop()
    assert server.errors() == []
