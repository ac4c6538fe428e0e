"""SMS reminders to officers (R8, Pasal 12(2)) and overdue escalation (R9).

Every notification SMS is a row of ``sms_center.reminder``, keyed by
(officer, kind, period) with a database unique constraint. A cron first
inserts the row (``INSERT ... ON CONFLICT DO NOTHING``) and posts the SMS
only when the insert created it, in the same transaction: a repeated, late
or concurrent run finds the row and sends nothing.
"""

import logging
from collections import defaultdict
from datetime import datetime, time, timedelta

import psycopg2

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..lib import gsm
from ..tools.deadline import regency_tz, to_local, to_utc_naive

_logger = logging.getLogger(__name__)

# The inbox action's short path (its ``path`` field): the address goes into
# every reminder SMS, which must fit 160 characters.
INBOX_PATH = "/odoo/sms-inbox"
DEFAULT_DAILY_TIME = "16:00"
DEFAULT_QUIET_START = "21:00"
DEFAULT_QUIET_END = "06:00"
# Overdue tickets escalated per cron run; the cron asks to run again at
# once while some are left.
ESCALATION_BATCH = 200


def parse_hhmm(value, default):
    """ "16:30" -> time(16, 30); ``default`` when empty or unreadable."""
    for candidate in (value, default):
        try:
            hour, minute = (int(part) for part in (candidate or "").split(":"))
            return time(hour, minute)
        except ValueError:
            continue
    return time(0, 0)


def in_quiet_hours(moment, start, end):
    """Whether the local time of ``moment`` lies in [start, end), which may
    wrap around midnight (21:00-06:00)."""
    now = moment.time().replace(second=0, microsecond=0)
    if start <= end:
        return start <= now < end
    return now >= start or now < end


class SmsCenterReminder(models.Model):
    """One notification SMS to an officer: hourly or daily reminder, or an
    overdue escalation to a superior. The ledger that makes each of them go
    out exactly once."""

    _name = "sms_center.reminder"
    _description = "SMS Center Officer Notification"
    _inherit = ["mail.thread", "sms_center.sms.status.mixin"]
    _order = "id desc"

    officer_id = fields.Many2one(
        "sms_center.officer",
        string="Officer",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
    )
    user_id = fields.Many2one(related="officer_id.user_id", string="Login")
    kind = fields.Selection(
        [
            ("hourly", "Hourly reminder"),
            ("daily", "Daily reminder"),
            ("escalation", "Escalation to superior"),
        ],
        required=True,
        readonly=True,
        index=True,
    )
    period_key = fields.Char(
        string="Period",
        required=True,
        readonly=True,
        help="Hour (2026-11-28T14) or day (2026-11-28) in the regency's time "
        "zone, or the first escalated ticket: one notification per officer, "
        "kind and period.",
    )
    count = fields.Integer(string="SMS counted", readonly=True)
    keyword_ids = fields.Many2many(
        "sms_center.keyword",
        "sms_center_reminder_keyword_rel",
        "reminder_id",
        "keyword_id",
        string="Keywords",
        readonly=True,
    )
    ticket_ids = fields.Many2many(
        "helpdesk.ticket",
        "sms_center_reminder_ticket_rel",
        "reminder_id",
        "ticket_id",
        string="Overdue tickets",
        readonly=True,
    )
    window_start = fields.Datetime(string="SMS received from", readonly=True)
    window_end = fields.Datetime(string="SMS received until", readonly=True)
    number = fields.Char(readonly=True, groups="sms_center.group_secretariat")
    body = fields.Text(string="SMS text", readonly=True)
    skip_reason = fields.Char(string="Not sent because", readonly=True)

    _sql_constraints = [
        (
            "period_unique",
            "unique(officer_id, kind, period_key)",
            "This notification was already sent to this officer for this period.",
        ),
    ]

    def init(self):
        # Monitoring endpoint: reminders failed today, without reading the
        # history of sent ones.
        self.env.cr.execute(
            """CREATE INDEX IF NOT EXISTS sms_center_reminder_failed_idx
               ON sms_center_reminder (sms_status_date)
               WHERE sms_state = 'failed'"""
        )

    @api.depends("kind", "period_key", "officer_id")
    def _compute_display_name(self):
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        for reminder in self:
            reminder.display_name = (
                f"{kinds.get(reminder.kind, '')} {reminder.period_key or ''} "
                f"- {reminder.officer_id.name or ''}"
            )

    # ------------------------------------------------------------------
    # Ledger
    # ------------------------------------------------------------------

    @api.model
    def _claim(self, officer_id, kind, period_key):
        """Insert the ledger row; return it, or an empty recordset when this
        notification exists already (or is being created by a concurrent
        transaction that has since committed)."""
        cr = self.env.cr
        now = fields.Datetime.now()
        try:
            with cr.savepoint(flush=False):
                cr.execute(
                    """INSERT INTO sms_center_reminder
                           (officer_id, kind, period_key, count,
                            create_uid, create_date, write_uid, write_date)
                       VALUES (%s, %s, %s, 0, %s, %s, %s, %s)
                       ON CONFLICT (officer_id, kind, period_key) DO NOTHING
                       RETURNING id""",
                    [
                        officer_id,
                        kind,
                        period_key,
                        self.env.uid,
                        now,
                        self.env.uid,
                        now,
                    ],
                    log_exceptions=False,
                )
                row = cr.fetchone()
        except psycopg2.errors.SerializationFailure:
            # A concurrent run inserted the same row and committed after this
            # transaction's snapshot was taken: it is that run's to send.
            _logger.info(
                "Reminder %s %s for officer %s claimed by a concurrent run",
                kind,
                period_key,
                officer_id,
            )
            return self.browse()
        return self.browse(row[0]) if row else self.browse()

    def _send(self, body, number):
        """Post ``body`` by SMS on this ledger row and track its status."""
        self.ensure_one()
        if not number:
            self.write(
                {"body": body, "skip_reason": self.env._("No notification number")}
            )
            _logger.info(
                "Officer %s has no notification number: %s reminder %s not sent",
                self.officer_id.id,
                self.kind,
                self.period_key,
            )
            return False
        self.write({"body": body, "number": number})
        sms = self.env["sms.sms"]._sms_center_post(self, body, number)
        self._sms_status_track(sms)
        return sms

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    @api.model
    def _get_param(self, key, default=False):
        # sudo: system parameters are readable by the system only.
        return self.env["ir.config_parameter"].sudo().get_param(key, default)

    @api.model
    def _url(self, path):
        return (self._get_param("web.base.url") or "").rstrip("/") + path

    @api.model
    def _check_settings(self, deadline_hours, daily_time, quiet):
        """Validate the settings; ``quiet`` is ``(start, end)`` or False."""
        if not 0 < (deadline_hours or 0) <= 240:
            raise ValidationError(
                self.env._("The answer deadline must be between 0 and 240 hours.")
            )
        if not quiet:
            return
        start, end = (parse_hhmm(value, "00:00") for value in quiet)
        if start == end:
            raise ValidationError(
                self.env._("Quiet hours must start and end at different times.")
            )
        send_at = datetime.combine(
            datetime(2000, 1, 1), parse_hhmm(daily_time, DEFAULT_DAILY_TIME)
        )
        if in_quiet_hours(send_at, start, end):
            raise ValidationError(
                self.env._(
                    "The daily reminder time falls in the quiet hours: it would "
                    "never be sent."
                )
            )

    @api.model
    def _quiet_hours(self):
        """``(start, end)`` local times, or None when quiet hours are off."""
        Settings = self.env["sms_center.settings"]
        if not Settings._sms_center_setting("quiet_hours"):
            return None
        return (
            parse_hhmm(
                Settings._sms_center_setting("quiet_hours_start"), DEFAULT_QUIET_START
            ),
            parse_hhmm(
                Settings._sms_center_setting("quiet_hours_end"), DEFAULT_QUIET_END
            ),
        )

    @api.model
    def _officers_by_keyword(self, keyword_ids):
        """``{officer: keywords}`` for active officers of active logins
        holding any of ``keyword_ids``, in a stable order."""
        if not keyword_ids:
            return {}
        Officer = self.env["sms_center.officer"]
        Keyword = self.env["sms_center.keyword"]
        # Plain SQL below: pending changes (an officer just archived) first.
        Officer.flush_model(["active", "user_id"])
        Keyword.flush_model(["officer_ids"])
        self.env["res.users"].flush_model(["active"])
        self.env.cr.execute(
            """SELECT rel.officer_id, rel.keyword_id
                 FROM sms_center_keyword_officer_rel rel
                 JOIN sms_center_officer o ON o.id = rel.officer_id
                 JOIN res_users u ON u.id = o.user_id
                WHERE rel.keyword_id = ANY(%s) AND o.active AND u.active
                ORDER BY rel.officer_id, rel.keyword_id""",
            [list(keyword_ids)],
        )
        result = defaultdict(lambda: Keyword)
        for officer_id, keyword_id in self.env.cr.fetchall():
            result[Officer.browse(officer_id)] |= Keyword.browse(keyword_id)
        return dict(result)

    @api.model
    def _notify_officers(
        self, kind, period_key, counts, build_body, window=(None, None)
    ):
        """One SMS per officer holding keywords counted in ``counts``
        (``{keyword: count}``), in the officer's language.

        ``build_body(model, officer, count, keywords)`` returns the possible
        texts, most informative first; the first that fits one SMS is sent
        (an officer holding many keywords gets the text without their names).
        Returns the new ledger rows."""
        officers = self._officers_by_keyword([k.id for k in counts])
        reminders = self.browse()
        # Stable order: concurrent runs claim rows in the same order, so they
        # wait on each other instead of deadlocking.
        for officer, keywords in sorted(officers.items(), key=lambda i: i[0].id):
            keywords = keywords.filtered(lambda k, counts=counts: counts.get(k))
            total = sum(counts[k] for k in keywords)
            if not total:
                continue
            reminder = self._claim(officer.id, kind, period_key)
            if not reminder:
                continue
            # sudo: notification numbers are restricted to the secretariat;
            # read here only to send.
            officer = officer.sudo()
            lang = officer.user_id.lang or "en_US"
            body = gsm.first_fitting(
                build_body(
                    self.with_context(lang=lang),
                    officer,
                    total,
                    keywords.sorted("name"),
                )
            )
            reminder.write(
                {
                    "count": total,
                    "keyword_ids": [fields.Command.set(keywords.ids)],
                    "window_start": window[0],
                    "window_end": window[1],
                }
            )
            reminder._send(body, officer.notification_mobile)
            reminders |= reminder
        return reminders

    # ------------------------------------------------------------------
    # Hourly reminder (R8a)
    # ------------------------------------------------------------------

    @api.model
    def _hourly_window(self, now):
        """``(start, end, period_key)`` of the hourly reminder due at
        ``now`` (UTC naive), or None during quiet hours.

        The period is the last completed hour in the regency's time zone.
        A run after an outage reports that hour only (one catch-up, never a
        flood). After quiet hours, the first reminder also covers the hours
        whose reminders fell in the quiet hours (deferred, not dropped).
        """
        tz = regency_tz(self.env)
        local_now = to_local(now, tz)
        end = to_utc_naive(local_now.replace(minute=0, second=0, microsecond=0))
        start = end - timedelta(hours=1)
        quiet = self._quiet_hours()
        if quiet:
            if in_quiet_hours(local_now.replace(minute=0), *quiet):
                return None
            # The reminder due at ``start`` would have been sent in the quiet
            # hours: extend back to the first hour not reported yet.
            for _n in range(24):
                if not in_quiet_hours(to_local(start, tz), *quiet):
                    break
                start -= timedelta(hours=1)
        period_key = to_local(end - timedelta(hours=1), tz).strftime("%Y-%m-%dT%H")
        return start, end, period_key

    @api.model
    def _cron_send_hourly_reminders(self):
        """Each officer whose inbox received SMS in the last hour gets one SMS
        with the count (R8a)."""
        window = self._hourly_window(fields.Datetime.now())
        if not window:
            return self.browse()
        start, end, period_key = window
        # sudo: the cron counts every inbox; only counts leave this method.
        groups = (
            self.env["helpdesk.ticket"]
            .sudo()
            ._read_group(
                [
                    ("sms_received_at", ">=", start),
                    ("sms_received_at", "<", end),
                    ("sms_keyword_id", "!=", False),
                ],
                ["sms_keyword_id"],
                ["__count"],
            )
        )
        counts = dict(groups)
        if not counts:
            return self.browse()
        long_window = end - start > timedelta(hours=1)
        since = to_local(start, regency_tz(self.env)).strftime("%H:%M")
        url = self._url(INBOX_PATH)

        def build_body(model, officer, count, keywords):
            return model._hourly_texts(
                count, keywords.mapped("name"), url, since if long_window else None
            )

        return self._notify_officers(
            "hourly", period_key, counts, build_body, window=(start, end)
        )

    # ------------------------------------------------------------------
    # Daily reminder (R8b)
    # ------------------------------------------------------------------

    @api.model
    def _daily_period(self, now):
        """Local date (ISO) of the daily reminder due at ``now``, or None when
        it is not time yet, it was done today, or it is quiet hours."""
        tz = regency_tz(self.env)
        local_now = to_local(now, tz)
        send_time = parse_hhmm(
            self.env["sms_center.settings"]._sms_center_setting("daily_reminder_time"),
            DEFAULT_DAILY_TIME,
        )
        send_at = tz.localize(datetime.combine(local_now.date(), send_time))
        if local_now < send_at:
            return None
        period_key = local_now.date().isoformat()
        if self._get_param("sms_center.daily_reminder_last_period") == period_key:
            return None
        quiet = self._quiet_hours()
        if quiet and in_quiet_hours(local_now, *quiet):
            return None
        return period_key

    @api.model
    def _cron_send_daily_reminders(self):
        """At the configured time, each officer with unanswered SMS gets one SMS
        with the count (R8b).

        Counted: every SMS ticket of the officer's keywords still awaiting an
        answer at that moment, whatever day it arrived ("SMS not answered on
        that day"), with how many of them are past their deadline. Runs once a
        day: an SMS arriving after the reminder waits for the next day's.
        """
        now = fields.Datetime.now()
        period_key = self._daily_period(now)
        if not period_key:
            return self.browse()
        # sudo: the cron counts every inbox; only counts leave this method.
        Ticket = self.env["helpdesk.ticket"].sudo()
        awaiting = [("sms_awaiting_answer", "=", True)]
        counts = dict(Ticket._read_group(awaiting, ["sms_keyword_id"], ["__count"]))
        overdue = dict(
            Ticket._read_group(
                awaiting + [("sms_deadline", "<=", now)],
                ["sms_keyword_id"],
                ["__count"],
            )
        )
        url = self._url(INBOX_PATH)

        def build_body(model, officer, count, keywords):
            late = sum(overdue.get(k, 0) for k in keywords)
            return model._daily_texts(count, keywords.mapped("name"), late, url)

        reminders = self._notify_officers(
            "daily", period_key, counts, build_body, window=(None, now)
        )
        # Later runs of the day skip at once; the ledger still guards each
        # officer if two runs overlap.
        # sudo: the cron's bookkeeping is a system parameter.
        self.env["ir.config_parameter"].sudo().set_param(
            "sms_center.daily_reminder_last_period", period_key
        )
        return reminders

    # ------------------------------------------------------------------
    # Escalation of overdue tickets (R9)
    # ------------------------------------------------------------------

    @api.model
    def _lock_overdue_tickets(self, now, limit):
        """Lock and return overdue tickets not escalated yet; rows locked by a
        concurrent run are skipped, so each ticket is escalated once."""
        Ticket = self.env["helpdesk.ticket"]
        Ticket.flush_model(["sms_awaiting_answer", "sms_escalated_at", "sms_deadline"])
        cr = self.env.cr
        try:
            with cr.savepoint(flush=False):
                cr.execute(
                    """SELECT id FROM helpdesk_ticket
                        WHERE sms_awaiting_answer AND sms_escalated_at IS NULL
                          AND sms_deadline <= %s
                        ORDER BY sms_deadline, id
                        LIMIT %s
                          FOR NO KEY UPDATE SKIP LOCKED""",
                    [now, limit],
                    log_exceptions=False,
                )
                ids = [row[0] for row in cr.fetchall()]
        except psycopg2.errors.SerializationFailure:
            # A concurrent run escalated some of them and committed after this
            # transaction began; the next run takes whatever is left.
            _logger.info("Overdue SMS tickets being escalated by a concurrent run")
            return Ticket.browse()
        return Ticket.browse(ids)

    @api.model
    def _escalation_recipients(self):
        """``(activity users, notified partners)`` of the secretariat."""
        # sudo: reading group membership and the setting, not ticket data.
        Users = self.env["res.users"].sudo()
        secretariat = Users.search(
            [
                ("groups_id", "in", self.env.ref("sms_center.group_secretariat").id),
                ("share", "=", False),
            ]
        )
        responsible = (
            self.env["sms_center.settings"]
            ._sms_center_setting("escalation_user_id")
            .sudo()
            .filtered("active")
        )
        return (
            responsible or secretariat,
            secretariat.partner_id | responsible.partner_id,
        )

    @api.model
    def _cron_escalate_overdue(self, batch_size=ESCALATION_BATCH):
        """Escalate SMS tickets past their deadline unanswered, exactly once
        each: an activity and a notification for the secretariat and,
        optionally, one SMS to each officer's superior (R9)."""
        now = fields.Datetime.now()
        # sudo: the cron escalates tickets of every unit.
        tickets = self._lock_overdue_tickets(now, batch_size).sudo()
        if not tickets:
            return self.browse()
        tickets.write({"sms_escalated_at": now})
        activity_users, partners = self._escalation_recipients()
        tz = regency_tz(self.env)
        today = to_local(now, tz).date()
        officers = self._ticket_officers(tickets)
        # The chatter note is read by the whole secretariat: the
        # organisation's language.
        note_env = self.with_context(lang=self.env.company.partner_id.lang).env
        for ticket in tickets:
            officer = officers.get(ticket)
            values = {
                # As the screens show dates, with the zone (WIB, WITA, WIT).
                "deadline": to_local(ticket.sms_deadline, tz).strftime(
                    "%d/%m/%Y %H:%M %Z"
                ),
                "officer": officer.name if officer else "-",
            }
            ticket.message_post(
                body=note_env._(
                    "Not answered by the deadline (%(deadline)s); officer "
                    "%(officer)s. Escalated to the secretariat.",
                    **values,
                ),
                subtype_xmlid="mail.mt_note",
                partner_ids=partners.ids,
            )
            for user in activity_users:
                user_env = self.with_context(lang=user.lang).env
                # The note above already notifies: no extra activity e-mail.
                ticket.with_context(mail_activity_quick_update=True).activity_schedule(
                    "sms_center.mail_activity_type_sms_overdue",
                    date_deadline=today,
                    summary=user_env._("Overdue SMS: not answered by the deadline"),
                    note=user_env._(
                        "Deadline %(deadline)s passed without an answer from "
                        "%(officer)s.",
                        **values,
                    ),
                    user_id=user.id,
                )
        reminders = self.browse()
        if self.env["sms_center.settings"]._sms_center_setting("escalate_to_superior"):
            reminders = self._notify_superiors(tickets, officers)
        # sudo: reminders and escalations run as the scheduler, across units.
        remaining = (
            self.env["helpdesk.ticket"]
            .sudo()
            .search_count(
                [
                    ("sms_awaiting_answer", "=", True),
                    ("sms_escalated_at", "=", False),
                    ("sms_deadline", "<=", now),
                ]
            )
        )
        self.env["ir.cron"]._notify_progress(done=len(tickets), remaining=remaining)
        return reminders

    @api.model
    def _ticket_officers(self, tickets):
        """``{ticket: officer}``: the officer assigned, else the keyword's
        primary officer."""
        # sudo: reminders and escalations run as the scheduler, across units.
        Officer = self.env["sms_center.officer"].sudo()
        by_user = {
            officer.user_id: officer
            for officer in Officer.search([("user_id", "in", tickets.user_id.ids)])
        }
        result = {}
        for ticket in tickets:
            officer = by_user.get(ticket.user_id)
            if not officer and ticket.sms_keyword_id:
                # sudo: reminders and escalations run as the scheduler, across units.
                officer = ticket.sms_keyword_id.sudo()._get_primary_officer()
            if officer:
                result[ticket] = officer
        return result

    @api.model
    def _notify_superiors(self, tickets, officers):
        """One SMS per superior with the count of their officers' overdue SMS."""
        per_superior = defaultdict(lambda: self.env["helpdesk.ticket"])
        for ticket in tickets:
            superior = officers.get(ticket) and officers[ticket].superior_id
            if superior and superior.active:
                per_superior[superior] |= ticket
        reminders = self.browse()
        for superior, overdue in sorted(per_superior.items(), key=lambda i: i[0].id):
            # These tickets were locked and flagged above and are never
            # escalated again: keyed by the first of them, the row is unique.
            reminder = self._claim(
                superior.id, "escalation", f"ticket-{min(overdue.ids)}"
            )
            if not reminder:
                continue
            # sudo: the superior's notification number is hidden from officers.
            superior = superior.sudo()
            model = self.with_context(lang=superior.user_id.lang or "en_US")
            keywords = overdue.sms_keyword_id.sorted("name")
            body = gsm.first_fitting(
                model._escalation_texts(
                    len(overdue),
                    keywords.mapped("name"),
                    sorted({officers[t].name for t in overdue}),
                )
            )
            reminder.write(
                {
                    "count": len(overdue),
                    "keyword_ids": [fields.Command.set(keywords.ids)],
                    "ticket_ids": [fields.Command.set(overdue.ids)],
                }
            )
            reminder._send(body, superior.notification_mobile)
            reminders |= reminder
        return reminders

    # ------------------------------------------------------------------
    # SMS texts: the possible texts of each notification, most informative
    # first; the first that fits one SMS (160 GSM-7 characters) is sent.
    # ------------------------------------------------------------------

    @api.model
    def _hourly_texts(self, count, keywords, url, since=None):
        """Hourly reminder; ``since`` (local "HH:MM") after quiet hours."""
        names = ", ".join(keywords)
        if since:
            return [
                self.env._(
                    "SMS Center: %(count)s new SMS for %(keywords)s since "
                    "%(since)s. Answer at %(url)s",
                    count=count,
                    keywords=names,
                    since=since,
                    url=url,
                ),
                self.env._(
                    "SMS Center: %(count)s new SMS since %(since)s. Answer at %(url)s",
                    count=count,
                    since=since,
                    url=url,
                ),
            ]
        return [
            self.env._(
                "SMS Center: %(count)s new SMS for %(keywords)s in the last hour. "
                "Answer at %(url)s",
                count=count,
                keywords=names,
                url=url,
            ),
            self.env._(
                "SMS Center: %(count)s new SMS in the last hour. Answer at %(url)s",
                count=count,
                url=url,
            ),
        ]

    @api.model
    def _daily_texts(self, count, keywords, overdue, url):
        """Daily reminder: ``count`` unanswered, ``overdue`` of them late."""
        names = ", ".join(keywords)
        if overdue:
            return [
                self.env._(
                    "SMS Center: %(count)s SMS for %(keywords)s still unanswered, "
                    "%(overdue)s past the deadline. Answer at %(url)s",
                    count=count,
                    keywords=names,
                    overdue=overdue,
                    url=url,
                ),
                self.env._(
                    "SMS Center: %(count)s SMS still unanswered, %(overdue)s past "
                    "the deadline. Answer at %(url)s",
                    count=count,
                    overdue=overdue,
                    url=url,
                ),
            ]
        return [
            self.env._(
                "SMS Center: %(count)s SMS for %(keywords)s still unanswered. "
                "Answer at %(url)s",
                count=count,
                keywords=names,
                url=url,
            ),
            self.env._(
                "SMS Center: %(count)s SMS still unanswered. Answer at %(url)s",
                count=count,
                url=url,
            ),
        ]

    @api.model
    def _escalation_texts(self, count, keywords, officers):
        """Escalation SMS to a superior about their officers' overdue SMS."""
        names = ", ".join(keywords)
        return [
            self.env._(
                "SMS Center: %(count)s SMS for %(keywords)s (officer %(officers)s) "
                "not answered by the deadline.",
                count=count,
                keywords=names,
                officers=", ".join(officers),
            ),
            self.env._(
                "SMS Center: %(count)s SMS for %(keywords)s not answered by the "
                "deadline.",
                count=count,
                keywords=names,
            ),
            self.env._(
                "SMS Center: %(count)s SMS of your officers not answered by the "
                "deadline.",
                count=count,
            ),
        ]

    # ------------------------------------------------------------------
    # UI
    # ------------------------------------------------------------------

    def action_view_tickets(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "sms_center.action_sms_ticket_all"
        )
        action["domain"] = [("id", "in", self.ticket_ids.ids)]
        action["context"] = {}
        return action
