"""The cron workers' wake-up used for every stored SMS (tools/cron_wakeup).

Listens on the ``postgres`` database, where Odoo's cron workers listen, with
a real PostgreSQL connection.
"""

import select
import time
from contextlib import closing

import psycopg2

from odoo import sql_db
from odoo.tests import BaseCase, tagged

from ..tools import cron_wakeup


def _listener():
    _dsn, info = sql_db.connection_info_for("postgres")
    connection = psycopg2.connect(**info)
    connection.autocommit = True
    with connection.cursor() as cr:
        cr.execute("LISTEN cron_trigger")
    return connection


def _payloads(connection, count, timeout=5):
    """The payloads of the next ``count`` cron_trigger notifications."""
    payloads = []
    deadline = time.monotonic() + timeout
    while len(payloads) < count and time.monotonic() < deadline:
        select.select([connection], [], [], max(0, deadline - time.monotonic()))
        connection.poll()
        while connection.notifies:
            payloads.append(connection.notifies.pop(0).payload)
    return payloads


@tagged("post_install", "-at_install")
class TestCronWakeup(BaseCase):
    def test_notifies_on_one_kept_connection(self):
        with closing(_listener()) as listener:
            self.assertTrue(cron_wakeup.notify_cron_workers("sms_center_wakeup_a"))
            kept = cron_wakeup._state["connection"]
            self.assertTrue(cron_wakeup.notify_cron_workers("sms_center_wakeup_b"))
            self.assertIs(cron_wakeup._state["connection"], kept)
            self.assertEqual(
                _payloads(listener, 2), ["sms_center_wakeup_a", "sms_center_wakeup_b"]
            )

    def test_a_lost_connection_is_replaced(self):
        """PostgreSQL restarted (here: the kept connection's backend
        terminated): the next wake-up still arrives."""
        cron_wakeup.notify_cron_workers("sms_center_wakeup_c")
        lost = cron_wakeup._state["connection"]
        with closing(_listener()) as listener:
            pid = lost.get_backend_pid()
            with listener.cursor() as cr:
                cr.execute("SELECT pg_terminate_backend(%s)", [pid])
            # The backend says goodbye (FATAL) and closes its end.
            self.assertTrue(select.select([lost], [], [], 5)[0])
            self.assertTrue(cron_wakeup.notify_cron_workers("sms_center_wakeup_d"))
            self.assertTrue(lost.closed, "the lost connection was tried and closed")
            self.assertIsNot(cron_wakeup._state["connection"], lost)
            self.assertEqual(_payloads(listener, 1), ["sms_center_wakeup_d"])
