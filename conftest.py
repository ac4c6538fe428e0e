"""pytest settings of the repository, for pytest-odoo.

``pytest --odoo-database=DB sms_center/tests -k ...`` runs the addon's
TransactionCase tests in the existing database ``DB`` (sms_center installed,
as ``scripts/run-tests`` and ``scripts/dev-server`` install it), in one
transaction per test (or class) rolled back afterwards. pytest-odoo parses
Odoo's configuration from its ``--odoo-*`` options, then imports each test
module as ``odoo.addons.sms_center.tests.<module>``: Odoo must find this
repository on its addons path. Without ``--odoo-addons-path`` (or an
``addons_path`` in ``--odoo-config``) Odoo's default path holds only its
standard addons (OCA helpdesk_mgmt, installed from PyPI, lives in
site-packages' ``odoo/addons`` and is found through the namespace), so this
file adds the repository to it.

HttpCase tests (webhooks over HTTP, Kannel, the RPC API, browser tours) need
Odoo's HTTP server: pytest-odoo skips them unless ``--odoo-http`` is given;
Odoo's own runner (step 6 of ``scripts/run-tests``) runs them.

The Odoo-free tests in ``tests/`` need none of this (and
``tests/conftest.py`` keeps pytest-odoo from loading a registry there).
"""

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
ADDON = ROOT / "sms_center"


def _odoo_config(config):
    """Odoo's configuration when pytest-odoo drives this run, else None."""
    odoo = sys.modules.get("odoo")
    if odoo is None or not config.pluginmanager.hasplugin("odoo"):
        return None
    if not odoo.tools.config.get("db_name"):
        return None  # pytest-odoo loaded, but no database: Odoo-free run
    return odoo.tools.config


def pytest_configure(config):
    odoo_config = _odoo_config(config)
    if odoo_config is None:
        return
    paths = [p.strip() for p in (odoo_config["addons_path"] or "").split(",")]
    paths = [p for p in paths if p]
    known = {os.path.normcase(os.path.abspath(p)) for p in paths}
    if os.path.normcase(str(ROOT)) not in known:
        odoo_config["addons_path"] = ",".join([*paths, str(ROOT)])
        from odoo.modules.module import initialize_sys_path

        initialize_sys_path()


def pytest_collection_modifyitems(session, config, items):
    """A database without sms_center gives a clear message, not a registry
    without the addon's models."""
    if _odoo_config(config) is None:
        return
    if not any(ADDON in Path(str(item.path)).parents for item in items):
        return
    from odoo.sql_db import db_connect
    from odoo.tests.common import get_db_name

    db_name = get_db_name()
    try:
        with db_connect(db_name).cursor() as cr:
            cr.execute("SELECT state FROM ir_module_module WHERE name = 'sms_center'")
            row = cr.fetchone()
    except Exception as exc:  # any connection or schema problem: say it
        pytest.exit(f"pytest-odoo: cannot read database {db_name!r}: {exc}", 4)
    if not row or row[0] != "installed":
        pytest.exit(
            f"pytest-odoo: sms_center is not installed in database {db_name!r} "
            "(create one with scripts/dev-server, or keep the test database of "
            "scripts/run-tests with KEEP_DB=1)",
            4,
        )
