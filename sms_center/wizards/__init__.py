from . import sms_center_reply_wizard
from . import sms_center_keyword_transfer
from . import sms_center_message_route
from . import sms_center_message_moderate
from . import sms_center_gateway_test
from . import sms_center_officer_create
from . import sms_center_publication_wording
from . import sms_center_publication_wording_line
