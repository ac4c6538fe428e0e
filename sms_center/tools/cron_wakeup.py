"""Wake Odoo's cron workers from a busy request path, cheaply.

Odoo's ``ir.cron._trigger()`` wakes the cron workers after the commit with
``pg_notify('cron_trigger', <database>)`` on the ``postgres`` database,
where they listen. Odoo never keeps a connection to ``postgres`` in its
pool, so each wake-up opens a new PostgreSQL connection (a backend process
started and stopped: about 3 ms, more than the rest of a webhook's
database work). The inbound router is woken once per stored SMS, so this
module keeps one connection to ``postgres`` per process for that
notification instead. Same channel, same payload, same function (Odoo's
``ODOO_NOTIFY_FUNCTION``): the cron workers cannot tell the difference.

A broken connection (PostgreSQL restarted) is replaced once; if that fails
too, Odoo's own way is used, which opens its connection as usual.
"""

import contextlib
import logging
import os
import threading

import psycopg2
from psycopg2 import sql as pg_sql

from odoo import sql_db
from odoo.tools import SQL

from odoo.addons.base.models.ir_cron import ODOO_NOTIFY_FUNCTION

_logger = logging.getLogger(__name__)

_lock = threading.Lock()
# The connection and the process that opened it: a forked worker must not
# use its parent's socket.
_state = {"pid": None, "connection": None}


def _connection():
    if _state["pid"] != os.getpid() or _state["connection"] is None:
        _state["connection"] = None
        _dsn, info = sql_db.connection_info_for("postgres")
        connection = psycopg2.connect(**info)
        connection.autocommit = True
        _state.update(pid=os.getpid(), connection=connection)
    return _state["connection"]


def _forget():
    connection, _state["connection"] = _state["connection"], None
    if connection is not None and _state["pid"] == os.getpid():
        with contextlib.suppress(psycopg2.Error):
            connection.close()


def notify_cron_workers(dbname):
    """Wake the cron workers of ``dbname`` now (call after the commit that
    made a job ready, e.g. from ``cr.postcommit``)."""
    query = pg_sql.SQL("SELECT {}('cron_trigger', %s)").format(
        pg_sql.Identifier(ODOO_NOTIFY_FUNCTION)
    )
    with _lock:
        for _attempt in range(2):
            try:
                with _connection().cursor() as cr:
                    cr.execute(query, [dbname])
                return True
            except psycopg2.Error as exc:
                _logger.info("Cron wake-up connection replaced: %s", exc)
                _forget()
    # Odoo's way: a connection of its own for this one notification.
    with sql_db.db_connect("postgres").cursor() as cr:
        cr.execute(
            SQL(
                "SELECT %s('cron_trigger', %s)",
                SQL.identifier(ODOO_NOTIFY_FUNCTION),
                dbname,
            )
        )
    return False
