"""HTTP plumbing shared by the Kannel and generic HTTP gateway clients."""

import logging
import re

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .dlr import SendResult

# Messages of connection errors raised before the request left this host.
_NOT_SENT_MARKERS = (
    "NewConnectionError",
    "Connection refused",
    "Name or service not known",
    "Failed to resolve",
    "No route to host",
)


class RedactQueryStrings(logging.Filter):
    """Cut query strings out of urllib3's log records.

    urllib3 logs the URL of every retried request, query string included;
    for Kannel's sendsms that is the password, the citizen's number and the
    text of the SMS, which have no place in a server log.
    """

    _QUERY = re.compile(r"\?[^\s'\"]+")

    def filter(self, record):
        if record.args:
            record.msg = record.getMessage()
            record.args = ()
        record.msg = self._QUERY.sub("?[redacted]", str(record.msg))
        return True


_URLLIB3_LOGGER = logging.getLogger("urllib3.connectionpool")
if not any(isinstance(f, RedactQueryStrings) for f in _URLLIB3_LOGGER.filters):
    _URLLIB3_LOGGER.addFilter(RedactQueryStrings())


def keepalive_session(pool_maxsize=10):
    """A ``requests.Session`` that reuses connections (HTTP keep-alive).

    It retries only failures to connect, when the request was never sent:
    retrying a request that may have reached the gateway could send an SMS
    twice.
    """
    session = requests.Session()
    retry = Retry(total=2, connect=2, read=0, status=0, other=0)
    adapter = HTTPAdapter(max_retries=retry, pool_maxsize=pool_maxsize)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def not_sent(exc):
    """True when a ConnectionError happened before the request was sent."""
    text = repr(exc)
    return any(marker in text for marker in _NOT_SENT_MARKERS)


class SessionClient:
    """Base of the gateway clients: a keep-alive session, given or owned.

    A session passed in (shared by a worker across batches) is left open;
    one created here is closed with the client.
    """

    def __init__(self, session=None):
        self._own_session = session is None
        self.session = keepalive_session() if session is None else session

    def close(self):
        if self._own_session:
            self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def send_request(session, **request_kwargs):
    """``(answer, None)`` or, when no answer came, ``(None, SendResult)``.

    Failures to connect are temporary; a timeout or a lost connection after
    the request left is temporary *and* uncertain: the gateway may have taken
    the SMS, so retrying could send it twice.
    """
    try:
        return session.request(**request_kwargs), None
    except requests.exceptions.ConnectionError as exc:
        if isinstance(exc, requests.exceptions.ConnectTimeout) or not_sent(exc):
            return None, SendResult(False, True, detail=f"cannot connect: {exc}")
        return None, SendResult(
            False, True, detail=f"connection lost: {exc}", uncertain=True
        )
    except requests.exceptions.Timeout as exc:
        return None, SendResult(False, True, detail=f"timeout: {exc}", uncertain=True)
    except requests.exceptions.RequestException as exc:
        return None, SendResult(False, True, detail=f"request failed: {exc}")
