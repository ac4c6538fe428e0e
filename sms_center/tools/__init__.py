from . import deadline
from . import mail
from . import pseudonym
