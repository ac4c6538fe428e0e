"""Vocabulary shared by every SMS transport: send results and delivery reports.

Every gateway driver (Gammu modem, Kannel, generic HTTP) answers a send with a
:class:`SendResult` and turns a delivery report into a :class:`DlrEvent` whose
``status`` is one of :data:`STATUSES`.  The Odoo glue maps these three values
onto its own states (``delivered`` is shown as *sent / terkirim*).

GSM-7 detection and part counting live in :mod:`.gsm`; they are re-exported
here for the drivers' convenience.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from .gsm import count_parts, is_gsm7

__all__ = [
    "DELIVERED",
    "FAILED",
    "PENDING",
    "STATUSES",
    "DlrEvent",
    "InboundSms",
    "PayloadError",
    "SendResult",
    "aggregate_status",
    "count_parts",
    "is_final",
    "is_gsm7",
    "merge_status",
]

#: The handset received the message (final).
DELIVERED = "delivered"
#: Accepted somewhere on the way (gateway, SMSC) but not confirmed yet.
PENDING = "pending"
#: The message will not be delivered (final).
FAILED = "failed"

STATUSES = (DELIVERED, PENDING, FAILED)
_FINAL = frozenset({DELIVERED, FAILED})


class PayloadError(ValueError):
    """An inbound or delivery-report payload cannot be understood.

    ``reason`` is short and safe to return in a 400 answer.
    """

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class InboundSms(NamedTuple):
    """An inbound SMS as a webhook gateway reports it (already reassembled).

    A plain 5-tuple ``(sender, text, recipient, received_at,
    gateway_message_id)`` with names; ``received_at`` is UTC-aware.
    """

    sender: str
    text: str
    recipient: str | None
    received_at: datetime
    gateway_message_id: str | None


@dataclass(frozen=True)
class SendResult:
    """Outcome of handing one SMS to a gateway.

    ``accepted``: the gateway took responsibility for the message.
    ``temporary``: when not accepted, whether retrying later may succeed.
    ``gateway_ref``: the gateway's message id, when it gives one.
    ``detail``: human readable answer or error, safe to show to an admin.
    ``uncertain``: the request may have reached the gateway although no answer
    came back (read timeout, connection reset after sending); retrying could
    send the SMS twice, so callers should treat it with care.
    """

    accepted: bool
    temporary: bool = False
    gateway_ref: str | None = None
    detail: str = ""
    uncertain: bool = False
    http_status: int | None = None


@dataclass(frozen=True)
class DlrEvent:
    """One delivery report, already mapped to the common vocabulary.

    ``ref`` is *our* reference when the gateway echoes it back (Kannel's
    ``dlr-url``, a callback URL query parameter); ``gateway_ref`` is the
    gateway's own message id.  Match on ``ref`` first, then ``gateway_ref``.
    ``raw_status`` keeps the gateway's value for auditing.
    """

    ref: str | None
    status: str
    reason: str | None = None
    gateway_ref: str | None = None
    raw_status: str | None = None
    at: datetime | None = None
    extra: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"unknown delivery status {self.status!r}")


def is_final(status):
    """True for statuses that later reports must not overwrite."""
    return status in _FINAL


def merge_status(current, new):
    """Status to keep when ``new`` arrives while ``current`` is stored.

    Reports can arrive out of order (an SMSC "accepted" after the handset's
    "delivered"): a final status is never replaced by ``pending``; between two
    final statuses the newest wins.
    """
    if current is None:
        return new
    if new == PENDING and is_final(current):
        return current
    return new


def aggregate_status(statuses):
    """Status of a multi-part message from the statuses of its parts.

    Failed as soon as one part failed, delivered when every part was
    delivered, pending otherwise (including when nothing is known yet).
    """
    statuses = list(statuses)
    if any(s == FAILED for s in statuses):
        return FAILED
    if statuses and all(s == DELIVERED for s in statuses):
        return DELIVERED
    return PENDING
