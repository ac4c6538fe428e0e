from . import test_keyword
from . import test_officer
from . import test_receive
from . import test_unknown_keyword
from . import test_reply
from . import test_access
from . import test_integrity
from . import test_transfer
