from . import lib
from . import tools
from . import models
from . import wizards
from . import controllers


def post_init_hook(env):
    """SMS Center users land in their work after logging in (R19)."""
    env["res.users"]._sms_center_set_home_actions()
