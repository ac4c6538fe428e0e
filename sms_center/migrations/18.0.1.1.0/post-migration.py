from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    """Existing SMS Center users get their home action (R19): officers their
    inbox, the secretariat and administrators the overview. Users who chose
    a home action keep it."""
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["res.users"]._sms_center_set_home_actions()
