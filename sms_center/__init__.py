from . import lib
from . import tools
from . import models
from . import wizards
from . import controllers
