"""Time arithmetic of the answer deadline (R9, Pasal 13).

Every SMS ticket gets a stored deadline when it is created: the reception
time plus N hours (setting, 3 by default), counted either in clock hours or
in the working time of an office calendar (``resource.calendar``; public
holidays are its global leaves). The deadline in force when the SMS arrived
stays with the ticket: changing the settings applies to new SMS only, unless
an administrator recomputes the open tickets (server action).
"""

import logging
from datetime import timedelta

import pytz

_logger = logging.getLogger(__name__)

DEFAULT_TZ = "Asia/Jakarta"
DEFAULT_DEADLINE_HOURS = 3.0
# A ticket is shown "due soon" when less than this is left.
DUE_SOON = timedelta(hours=1)
# Working time is searched in 14-day windows for at most about two years: a
# calendar without any attendance falls back to clock hours instead of
# looping forever.
CALENDAR_WINDOW = timedelta(days=14)
CALENDAR_MAX_WINDOWS = 53


def regency_tz(env):
    """The regency's time zone (setting ``sms_center.timezone``)."""
    name = env["sms_center.settings"]._sms_center_setting("timezone")
    try:
        return pytz.timezone(name or DEFAULT_TZ)
    except pytz.UnknownTimeZoneError:
        _logger.warning("Unknown time zone %r in sms_center.timezone", name)
        return pytz.timezone(DEFAULT_TZ)


def to_local(value, tz):
    """UTC naive datetime -> aware datetime in ``tz``."""
    return pytz.utc.localize(value).astimezone(tz)


def to_utc_naive(value):
    """Aware datetime -> UTC naive datetime (the ORM's format)."""
    return value.astimezone(pytz.utc).replace(tzinfo=None)


def plan_working_hours(calendar, start, hours, tz):
    """UTC naive moment when ``hours`` of ``calendar`` working time have
    passed since ``start`` (UTC naive), or None if the calendar has no
    working time in the next two years.

    The calendar's attendances are read in ``tz`` (the regency's time zone)
    and its global leaves (public holidays) are skipped. Same algorithm as
    ``resource.calendar.plan_hours``, which cannot be given a time zone.
    """
    remaining = hours
    window_start = pytz.utc.localize(start)
    for _n in range(CALENDAR_MAX_WINDOWS):
        window_end = window_start + CALENDAR_WINDOW
        intervals = calendar._work_intervals_batch(window_start, window_end, tz=tz)
        for begin, end, _meta in intervals[False]:
            available = (end - begin).total_seconds() / 3600
            if remaining <= available:
                return to_utc_naive(begin + timedelta(hours=remaining))
            remaining -= available
        window_start = window_end
    return None


def working_minutes(calendar, start, end, tz):
    """Minutes of ``calendar`` working time between two UTC naive moments."""
    if end <= start:
        return 0
    intervals = calendar._work_intervals_batch(
        pytz.utc.localize(start), pytz.utc.localize(end), tz=tz
    )
    seconds = sum(
        (stop - begin).total_seconds() for begin, stop, _m in intervals[False]
    )
    return round(seconds / 60)
