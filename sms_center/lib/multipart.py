"""Reassembly of concatenated (multi-part) inbound SMS.

Pure functions, no I/O.  The intended cycle for a poller that cannot keep
state in memory (a cron job that may crash at any point):

1. read parts from the gateway (each with a stable ``raw_key``);
2. store every part durably, keyed by ``raw_key`` (a second store of the same
   key is a no-op), then delete it from the gateway;
3. call :func:`reassemble` with *all* stored, not yet consumed parts;
4. for each returned message, create the business record using
   ``message_key`` as idempotency key, and mark ``part_keys`` plus
   ``duplicate_keys`` consumed in the same transaction;
5. ``waiting`` parts stay stored for the next poll.

A crash anywhere in this cycle repeats at most idempotent steps: the same
parts always give the same ``message_key``.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["MISSING_MARK", "InboundMessage", "InboundPart", "reassemble"]

#: Inserted in place of each part that never arrived.
MISSING_MARK = "[…]"


@dataclass(frozen=True)
class InboundPart:
    """One received SMS, possibly one part of a concatenated message.

    ``received_at`` is a timezone-aware UTC datetime (the SMSC timestamp when
    the gateway gives one).  ``concat_ref``/``part_no``/``part_count`` come
    from the UDH and are ``None`` for single SMS.  ``raw_key`` identifies the
    stored SMS across reads and restarts.  ``first_seen_at`` (optional) is
    when the poller first stored the part; the reassembly timeout counts from
    it when given, otherwise from ``received_at``.
    """

    sender: str
    text: str
    received_at: datetime
    concat_ref: int | None
    part_no: int | None
    part_count: int | None
    smsc: str | None
    raw_key: str
    first_seen_at: datetime | None = None
    recipient: str | None = None

    @property
    def is_concatenated(self):
        return (
            self.concat_ref is not None
            and self.part_count is not None
            and self.part_count > 1
            and self.part_no is not None
        )


@dataclass(frozen=True)
class InboundMessage:
    """A whole message (or, after the timeout, what arrived of it).

    ``received_at`` is the latest ``received_at`` among the used parts: the
    message is complete only when its last part arrived.  ``duplicate_keys``
    lists the keys of parts that were ignored (a second copy of a part, or a
    part number outside ``1..part_count``); mark them consumed too.
    """

    sender: str
    text: str
    received_at: datetime
    part_keys: list[str]
    complete: bool
    message_key: str
    duplicate_keys: list[str] = field(default_factory=list)
    smsc: str | None = None
    recipient: str | None = None


def message_key_for(part_keys):
    """Deterministic idempotency key for a message made of ``part_keys``."""
    digest = hashlib.sha256("\x1f".join(sorted(part_keys)).encode()).hexdigest()
    return f"msg-{digest[:40]}"


def _clock(part):
    return part.first_seen_at or part.received_at


def _order(part):
    """Deterministic tie-break so that re-runs choose the same duplicate."""
    return (part.received_at, part.raw_key)


def reassemble(parts, now, timeout_seconds):
    """Group ``parts`` into messages.

    Returns ``(messages, waiting)``: ``messages`` is a list of
    :class:`InboundMessage` ready to be stored, ``waiting`` the list of parts
    of incomplete groups younger than ``timeout_seconds`` (counted from the
    oldest part of the group).

    * Single SMS become a message at once.
    * Concatenated parts group by ``(sender, concat_ref, part_count)``; a
      complete group is joined in ``part_no`` order.
    * An incomplete group whose oldest part is at least ``timeout_seconds``
      old is delivered as it is: ``complete=False`` and :data:`MISSING_MARK`
      where parts are missing.
    * Repeated copies of the same part (same ``raw_key``, or same group and
      ``part_no``) are ignored; the earliest copy is used.
    """
    unique = {}
    for part in sorted(parts, key=_order):
        unique.setdefault(part.raw_key, part)

    messages = []
    waiting = []
    groups = {}
    for part in unique.values():
        if not part.is_concatenated:
            messages.append(_build([part], [], complete=True))
            continue
        key = (part.sender, part.concat_ref, part.part_count)
        groups.setdefault(key, []).append(part)

    for (_sender, _ref, count), group in groups.items():
        by_number = {}
        duplicates = []
        for part in sorted(group, key=_order):
            if part.part_no in by_number or not 1 <= part.part_no <= count:
                duplicates.append(part)
            else:
                by_number[part.part_no] = part
        complete = len(by_number) == count
        oldest = min(_clock(p) for p in group)
        expired = (now - oldest).total_seconds() >= timeout_seconds
        if complete or expired:
            messages.append(_build(by_number, duplicates, complete, count))
        else:
            waiting.extend(sorted(group, key=_order))

    messages.sort(key=lambda m: (m.received_at, m.message_key))
    return messages, waiting


def _build(parts, duplicates, complete, count=None):
    if isinstance(parts, dict):
        by_number = parts
        ordered = [by_number[n] for n in sorted(by_number)]
        chunks = [
            by_number[n].text if n in by_number else MISSING_MARK
            for n in range(1, count + 1)
        ]
        text = "".join(chunks)
    else:
        ordered = parts
        text = "".join(p.text for p in parts)
    keys = [p.raw_key for p in ordered]
    first = ordered[0]
    return InboundMessage(
        sender=first.sender,
        text=text,
        received_at=max(p.received_at for p in ordered),
        part_keys=keys,
        complete=complete,
        message_key=message_key_for(keys),
        duplicate_keys=[p.raw_key for p in duplicates],
        smsc=first.smsc,
        recipient=first.recipient,
    )
