from . import lib
from . import tools
from . import models
from . import wizards
from . import controllers
from . import report


def post_init_hook(env):
    """SMS Center users land in their work after logging in (R19)."""
    env["res.users"]._sms_center_set_home_actions()


def uninstall_hook(env):
    """Drop what the models do not own: the pseudonym secret and SQL
    functions (the data they protected is gone with the tables)."""
    tools.pseudonym.drop_pseudonym_sql(env.cr)
