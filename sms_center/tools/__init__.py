from . import cron_wakeup
from . import deadline
from . import mail
from . import pseudonym
