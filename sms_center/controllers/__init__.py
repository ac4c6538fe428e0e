from . import main
from . import gateway_webhooks
from . import publication
from . import health
from . import data_request
