from . import deadline
from . import mail
