"""Answer deadline of SMS tickets and its compliance (R9, Pasal 13).

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

from odoo import api, fields, models
from odoo.exceptions import UserError

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
    name = env["ir.config_parameter"].sudo().get_param("sms_center.timezone")
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


class HelpdeskTicketDeadline(models.Model):
    """Deadline, escalation and compliance of SMS tickets (R9)."""

    _inherit = "helpdesk.ticket"

    sms_deadline = fields.Datetime(
        string="Answer deadline",
        compute="_compute_sms_deadline",
        store=True,
        copy=False,
        help="Reception time plus the answer deadline of the settings (3 hours "
        "by default), in clock hours or office working hours.",
    )
    sms_deadline_calendar_id = fields.Many2one(
        "resource.calendar",
        string="Deadline counted in",
        compute="_compute_sms_deadline",
        store=True,
        copy=False,
        help="Working calendar the deadline was counted in; empty: clock hours.",
    )
    sms_awaiting_answer = fields.Boolean(
        string="Awaiting answer",
        compute="_compute_sms_awaiting_answer",
        store=True,
        help="SMS ticket not answered yet, not closed and not archived.",
    )
    sms_escalated_at = fields.Datetime(
        string="Escalated",
        readonly=True,
        copy=False,
        help="When the overdue ticket was escalated to the secretariat.",
    )
    sms_response_minutes = fields.Integer(
        string="Response time (minutes)",
        compute="_compute_sms_response",
        store=True,
        aggregator="avg",
        help="Clock minutes from reception to the first answer (0 until answered).",
    )
    sms_response_working_minutes = fields.Integer(
        string="Response time (working minutes)",
        compute="_compute_sms_response",
        store=True,
        aggregator="avg",
        help="Working minutes of the deadline calendar from reception to the first "
        "answer; only when the deadline counts office working hours.",
    )
    sms_answered_in_time = fields.Boolean(
        string="Answered in time",
        compute="_compute_sms_response",
        store=True,
        help="The first answer was sent before the deadline.",
    )
    sms_compliance = fields.Selection(
        [
            ("open", "Open"),
            ("overdue", "Overdue"),
            ("in_time", "Answered in time"),
            ("late", "Answered late"),
            ("closed", "Closed unanswered"),
        ],
        string="Deadline compliance",
        compute="_compute_sms_compliance",
        store=True,
        help="Overdue: escalated after passing the deadline unanswered.",
    )
    # Live state for the inbox, relative to now: never stored.
    sms_deadline_state = fields.Selection(
        [
            ("on_time", "On time"),
            ("due_soon", "Due soon"),
            ("overdue", "Overdue"),
            ("done", "Done"),
        ],
        string="Deadline state",
        compute="_compute_sms_time_left",
    )
    sms_time_left = fields.Char(string="Time left", compute="_compute_sms_time_left")
    sms_overdue = fields.Boolean(
        string="Overdue",
        compute="_compute_sms_time_left",
        search="_search_sms_overdue",
    )

    def init(self):
        super().init()
        cr = self.env.cr
        # Escalation cron: only open tickets never escalated, by deadline.
        cr.execute(
            """CREATE INDEX IF NOT EXISTS helpdesk_ticket_sms_escalation_idx
               ON helpdesk_ticket (sms_deadline)
               WHERE sms_awaiting_answer AND sms_escalated_at IS NULL"""
        )
        # Daily reminder and "Overdue" filter: the backlog, not the history.
        cr.execute(
            """CREATE INDEX IF NOT EXISTS helpdesk_ticket_sms_awaiting_idx
               ON helpdesk_ticket (sms_keyword_id, sms_deadline)
               WHERE sms_awaiting_answer"""
        )

    # ------------------------------------------------------------------
    # Settings
    # ------------------------------------------------------------------

    @api.model
    def _sms_center_deadline_settings(self):
        """``(hours, calendar)``: calendar is None in clock-hours mode and an
        empty recordset when the ticket's company calendar applies."""
        ICP = self.env["ir.config_parameter"].sudo()
        try:
            hours = float(ICP.get_param("sms_center.deadline_hours") or 0)
        except ValueError:
            hours = 0
        if hours <= 0:
            hours = DEFAULT_DEADLINE_HOURS
        if ICP.get_param("sms_center.deadline_mode") != "calendar":
            return hours, None
        calendar_id = ICP.get_param("sms_center.deadline_calendar_id")
        calendar = self.env["resource.calendar"]
        if calendar_id and calendar_id.isdigit():
            # sudo: the calendar is configuration any ticket creator relies on.
            calendar = calendar.sudo().browse(int(calendar_id)).exists()
        return hours, calendar

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------

    @api.depends("sms_received_at")
    def _compute_sms_deadline(self):
        received = self.filtered("sms_received_at")
        (self - received).update(
            {"sms_deadline": False, "sms_deadline_calendar_id": False}
        )
        if not received:
            return
        hours, calendar = self._sms_center_deadline_settings()
        tz = regency_tz(self.env)
        for ticket in received:
            used = False
            deadline = None
            if calendar is not None:
                # sudo: tickets are created by gateways and officers alike.
                used = calendar or ticket.company_id.sudo().resource_calendar_id
                if used:
                    deadline = plan_working_hours(
                        used, ticket.sms_received_at, hours, tz
                    )
                if not deadline:
                    _logger.warning(
                        "Calendar %s has no working time: deadline of ticket %s "
                        "counted in clock hours",
                        used.display_name if used else None,
                        ticket.id,
                    )
                    used = False
            if not deadline:
                deadline = ticket.sms_received_at + timedelta(hours=hours)
            ticket.sms_deadline = deadline
            ticket.sms_deadline_calendar_id = used

    @api.depends("sms_keyword_id", "sms_answered", "stage_id", "active")
    def _compute_sms_awaiting_answer(self):
        # Changing the "closed" flag of a stage does not re-evaluate its
        # tickets (that would rewrite the whole history); they follow at
        # their next stage change.
        for ticket in self:
            ticket.sms_awaiting_answer = bool(
                ticket.sms_keyword_id
                and ticket.active
                and not ticket.sms_answered
                and not ticket.stage_id.closed
            )

    @api.depends(
        "sms_first_answer_at",
        "sms_received_at",
        "sms_deadline",
        "sms_deadline_calendar_id",
    )
    def _compute_sms_response(self):
        tz = regency_tz(self.env)
        for ticket in self:
            answered_at = ticket.sms_first_answer_at
            received_at = ticket.sms_received_at
            if not (answered_at and received_at):
                ticket.sms_response_minutes = 0
                ticket.sms_response_working_minutes = 0
                ticket.sms_answered_in_time = False
                continue
            ticket.sms_response_minutes = max(
                0, round((answered_at - received_at).total_seconds() / 60)
            )
            calendar = ticket.sms_deadline_calendar_id.sudo()
            ticket.sms_response_working_minutes = (
                working_minutes(calendar, received_at, answered_at, tz)
                if calendar
                else 0
            )
            ticket.sms_answered_in_time = bool(
                ticket.sms_deadline and answered_at <= ticket.sms_deadline
            )

    @api.depends(
        "sms_deadline",
        "sms_answered",
        "sms_answered_in_time",
        "sms_awaiting_answer",
        "sms_escalated_at",
    )
    def _compute_sms_compliance(self):
        for ticket in self:
            if not ticket.sms_deadline:
                ticket.sms_compliance = False
            elif ticket.sms_answered:
                ticket.sms_compliance = (
                    "in_time" if ticket.sms_answered_in_time else "late"
                )
            elif not ticket.sms_awaiting_answer:
                ticket.sms_compliance = "closed"
            elif ticket.sms_escalated_at:
                ticket.sms_compliance = "overdue"
            else:
                ticket.sms_compliance = "open"

    @api.depends("sms_deadline", "sms_awaiting_answer")
    def _compute_sms_time_left(self):
        now = fields.Datetime.now()
        for ticket in self:
            if not ticket.sms_deadline:
                state, text = False, False
            elif not ticket.sms_awaiting_answer:
                state, text = "done", False
            elif ticket.sms_deadline <= now:
                state = "overdue"
                text = self.env._(
                    "%(duration)s late",
                    duration=self._sms_center_format_duration(
                        now - ticket.sms_deadline
                    ),
                )
            else:
                left = ticket.sms_deadline - now
                state = "due_soon" if left < DUE_SOON else "on_time"
                text = self.env._(
                    "%(duration)s left",
                    duration=self._sms_center_format_duration(left),
                )
            ticket.sms_deadline_state = state
            ticket.sms_time_left = text
            ticket.sms_overdue = state == "overdue"

    def _search_sms_overdue(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(
                self.env._("Search overdue tickets with = True or = False only.")
            )
        overdue = [
            ("sms_awaiting_answer", "=", True),
            ("sms_deadline", "<=", fields.Datetime.now()),
        ]
        if (operator == "=") == bool(value):
            return overdue
        return ["!", "&", *overdue]

    @api.model
    def _sms_center_format_duration(self, delta):
        """Short duration for the inbox: "2 d 3 h", "1 h 05 min", "35 min"."""
        minutes = max(0, int(delta.total_seconds() // 60))
        days, minutes = divmod(minutes, 24 * 60)
        hours, minutes = divmod(minutes, 60)
        if days:
            return self.env._("%(days)s d %(hours)s h", days=days, hours=hours)
        if hours:
            return self.env._(
                "%(hours)s h %(minutes)s min", hours=hours, minutes=f"{minutes:02d}"
            )
        return self.env._("%(minutes)s min", minutes=minutes)

    # ------------------------------------------------------------------
    # Answer flow
    # ------------------------------------------------------------------

    def _sms_center_mark_answered(self):
        res = super()._sms_center_mark_answered()
        activity_type = self.env.ref(
            "sms_center.mail_activity_type_sms_overdue", raise_if_not_found=False
        )
        if activity_type:
            # sudo: the escalation activities belong to the secretariat; the
            # officer's answer settles them on their behalf.
            activities = self.sudo().activity_ids.filtered(
                lambda a: a.activity_type_id == activity_type
            )
            if activities:
                activities.action_feedback(
                    feedback=self.env._(
                        "Answered by %(user)s.", user=self.env.user.name
                    )
                )
        return res

    def _sms_center_recompute_deadlines(self):
        """Recompute the deadline of open, not yet escalated SMS tickets with
        the current settings (after changing hours, mode or holidays)."""
        tickets = self.filtered(
            lambda t: t.sms_awaiting_answer and not t.sms_escalated_at
        )
        for fname in ("sms_deadline", "sms_deadline_calendar_id"):
            self.env.add_to_compute(self._fields[fname], tickets)
        tickets.flush_recordset()
        return tickets
