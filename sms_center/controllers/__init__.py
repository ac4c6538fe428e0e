from . import main
from . import gateway_webhooks
