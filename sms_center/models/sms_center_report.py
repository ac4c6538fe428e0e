"""The periodic report of the SMS Center to the Regent (R13, Pasal 7, 8(6)).

A report covers one month, quarter or year in the regency's time zone. Its
figures are computed from the analysis views (``sms_center.inbound.analysis``
and ``sms_center.outgoing.analysis``) with the same domains the pivot views
use, and stored as a snapshot when the report is generated: a sent report
never changes when tickets change later. A draft can be regenerated.

A cron generates and e-mails the report of the previous period on a
configured day and time. Each (period type, first day) has one report row
(unique constraint): the cron inserts it with ``INSERT ... ON CONFLICT DO
NOTHING`` and sends it in the same transaction, so a repeated or concurrent
run finds the row and sends nothing, as the reminders do.
"""

import logging
from datetime import date, datetime, time, timedelta

import psycopg2
from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import SQL
from odoo.tools.misc import format_date, formatLang

from ..tools.deadline import regency_tz, to_local, to_utc_naive
from .sms_center_reminder import parse_hhmm

_logger = logging.getLogger(__name__)

PERIOD_TYPES = [("month", "Month"), ("quarter", "Quarter"), ("year", "Year")]
PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}
SNAPSHOT_VERSION = 1
LONGEST_OPEN_LIMIT = 10
DEFAULT_REPORT_TIME = "07:00"
# Totals compared with the previous period in the report (trend).
TREND_KEYS = (
    "received",
    "questions",
    "answered",
    "in_time_rate",
    "response_avg",
    "unknown",
)
# Figures where a rise is bad news (the arrow is drawn red).
LOWER_IS_BETTER = {"response_avg", "unknown", "overdue"}
# Figures that are neither good nor bad news when they change: how many
# citizens wrote (the arrow is drawn without colour).
NEUTRAL_TREND = {"received", "questions"}
# Aggregates read for totals, units and categories: the pivot's measures.
ANSWER_AGGREGATES = (
    "sms_count:sum",
    "question_count:sum",
    "answered_count:sum",
    "in_time_count:sum",
    "late_count:sum",
    "overdue_count:sum",
    "in_time_rate:avg",
    "response_minutes:avg",
    "response_minutes_median:median",
    "response_working_minutes:avg",
    "response_working_minutes_median:median",
)
ANSWER_KEYS = (
    "received",
    "questions",
    "answered",
    "in_time",
    "late",
    "overdue",
    "in_time_rate",
    "response_avg",
    "response_median",
    "response_working_avg",
    "response_working_median",
)


def period_start(period_type, day):
    """First day of the ``period_type`` period holding ``day``."""
    if period_type == "year":
        return date(day.year, 1, 1)
    if period_type == "quarter":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return date(day.year, day.month, 1)


def period_end(period_type, first_day):
    """Last day of the period starting on ``first_day``."""
    return first_day + relativedelta(months=PERIOD_MONTHS[period_type], days=-1)


def previous_period_start(period_type, first_day):
    return period_start(period_type, first_day - timedelta(days=1))


def nice_ceiling(value):
    """Smallest 1, 2 or 5 x 10^n not below ``value``: the top of a scale."""
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if step * magnitude >= value:
                return step * magnitude
        magnitude *= 10


class SmsCenterReport(models.Model):
    """The SMS Center's report to the Regent for one period, with its
    figures frozen when generated."""

    _name = "sms_center.report"
    _description = "SMS Center Periodic Report"
    _inherit = ["mail.thread"]
    _order = "date_from desc, period_type"

    name = fields.Char(compute="_compute_name")
    period_type = fields.Selection(
        PERIOD_TYPES,
        string="Period",
        required=True,
        default="month",
        tracking=True,
    )
    date_from = fields.Date(
        string="From",
        required=True,
        default=lambda self: self._default_date_from(),
        tracking=True,
        help="First day of the period, in the regency's time zone.",
    )
    date_to = fields.Date(
        string="To", compute="_compute_date_to", store=True, readonly=True
    )
    state = fields.Selection(
        [("draft", "Draft"), ("sent", "Sent")],
        required=True,
        default="draft",
        readonly=True,
        tracking=True,
        copy=False,
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        readonly=True,
        default=lambda self: self.env.company,
    )
    recipient_ids = fields.Many2many(
        "res.partner",
        "sms_center_report_partner_rel",
        "report_id",
        "partner_id",
        string="Recipients",
        default=lambda self: self._default_recipients(),
        help="Contacts who receive the report by e-mail, e.g. the Regent's office "
        "and the Regional Secretary. Default: the recipients of the settings.",
    )
    generated_at = fields.Datetime(string="Generated at", readonly=True, copy=False)
    sent_at = fields.Datetime(
        string="Sent at", readonly=True, copy=False, tracking=True
    )
    scheduled_at = fields.Datetime(
        string="Handled by the schedule",
        readonly=True,
        copy=False,
        help="When the scheduled action generated (and, with recipients, sent) "
        "this report. It handles each period once.",
    )
    snapshot = fields.Json(readonly=True, copy=False)
    # Headline figures of the snapshot, stored for the list view.
    received_count = fields.Integer(string="SMS received", readonly=True, copy=False)
    question_count = fields.Integer(string="Questions", readonly=True, copy=False)
    answered_count = fields.Integer(string="Answered", readonly=True, copy=False)
    in_time_rate = fields.Float(
        string="Answered in time (%)", readonly=True, copy=False, aggregator="avg"
    )
    preview = fields.Html(compute="_compute_preview", sanitize=False)

    _sql_constraints = [
        (
            "period_unique",
            "unique(period_type, date_from)",
            "There is already a report for this period: open it instead.",
        ),
    ]

    def init(self):
        # A sent report cannot change nor disappear, even through SQL: it is
        # the record of what the Regent received.
        self.env.cr.execute(
            SQL(
                """CREATE OR REPLACE FUNCTION sms_center_report_frozen()
               RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN
                 IF OLD.state = 'sent' AND (
                      TG_OP = 'DELETE'
                      OR NEW.state IS DISTINCT FROM OLD.state
                      OR NEW.snapshot IS DISTINCT FROM OLD.snapshot
                      OR NEW.period_type IS DISTINCT FROM OLD.period_type
                      OR NEW.date_from IS DISTINCT FROM OLD.date_from
                      OR NEW.sent_at IS DISTINCT FROM OLD.sent_at)
                 THEN
                   RAISE EXCEPTION 'sms_center: a sent report cannot be altered'
                     USING ERRCODE = 'integrity_constraint_violation';
                 END IF;
                 IF TG_OP = 'DELETE' THEN
                   RETURN OLD;
                 END IF;
                 RETURN NEW;
               END $$;
               DROP TRIGGER IF EXISTS sms_center_report_frozen
                 ON sms_center_report;
               CREATE TRIGGER sms_center_report_frozen
                 BEFORE UPDATE OR DELETE ON sms_center_report
                 FOR EACH ROW EXECUTE FUNCTION sms_center_report_frozen();"""
            )
        )

    # ------------------------------------------------------------------
    # Defaults and computes
    # ------------------------------------------------------------------

    @api.model
    def _default_date_from(self):
        """First day of the previous period (a month by default)."""
        period_type = self.env.context.get("default_period_type") or "month"
        today = to_local(fields.Datetime.now(), regency_tz(self.env)).date()
        return previous_period_start(period_type, period_start(period_type, today))

    @api.model
    def _default_recipients(self):
        return self.env["res.partner"].browse(self._settings()["partner_ids"]).exists()

    @api.depends("period_type", "date_from")
    def _compute_date_to(self):
        for report in self:
            report.date_to = (
                period_end(report.period_type, report.date_from)
                if report.period_type and report.date_from
                else False
            )

    @api.depends("period_type", "date_from")
    @api.depends_context("lang")
    def _compute_name(self):
        for report in self:
            report.name = report._period_label()

    def _period_label(self, lang=None):
        self.ensure_one()
        env = self.with_context(lang=lang).env if lang else self.env
        if not (self.period_type and self.date_from):
            return env._("New report")
        if self.period_type == "year":
            return env._("SMS Center report %(year)s", year=self.date_from.year)
        if self.period_type == "quarter":
            return env._(
                "SMS Center report Q%(quarter)s %(year)s",
                quarter=(self.date_from.month - 1) // 3 + 1,
                year=self.date_from.year,
            )
        return env._(
            "SMS Center report %(month)s",
            month=format_date(env, self.date_from, date_format="MMMM y"),
        )

    @api.depends("snapshot")
    def _compute_preview(self):
        for report in self:
            report.preview = (
                self.env["ir.qweb"]._render(
                    "sms_center.report_sms_center_report_body",
                    {"doc": report, "snap": report.snapshot},
                )
                if report.snapshot
                else False
            )

    @api.constrains("period_type", "date_from")
    def _check_period(self):
        for report in self:
            if report.date_from != period_start(report.period_type, report.date_from):
                raise ValidationError(
                    self.env._(
                        "A report period starts on the first day of a month, a "
                        "quarter (January, April, July, October) or a year."
                    )
                )

    @api.onchange("period_type", "date_from")
    def _onchange_period(self):
        if self.period_type and self.date_from:
            self.date_from = period_start(self.period_type, self.date_from)

    # ------------------------------------------------------------------
    # Integrity: a sent report never changes
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            period_type = vals.get("period_type") or "month"
            date_from = fields.Date.to_date(vals.get("date_from"))
            if date_from and self.search_count(
                [("period_type", "=", period_type), ("date_from", "=", date_from)],
                limit=1,
            ):
                raise ValidationError(
                    self.env._(
                        "There is already a report for this period: open it "
                        "instead (Reporting > Reports to the Regent)."
                    )
                )
        return super().create(vals_list)

    def write(self, vals):
        # The chatter may still set its main attachment on a sent report.
        frozen = set(vals) - {"message_main_attachment_id"}
        if (
            frozen
            and not self.env.context.get("sms_center_report_sending")
            and self.filtered(lambda r: r.state == "sent")
        ):
            raise UserError(
                self.env._(
                    "A sent report is a record of what the Regent received: it "
                    "cannot be changed. Create a report for another period "
                    "instead."
                )
            )
        if {"period_type", "date_from"} & set(vals) and "snapshot" not in vals:
            # Figures of another period: the draft must be generated again.
            vals = dict(
                vals,
                snapshot=False,
                generated_at=False,
                received_count=0,
                question_count=0,
                answered_count=0,
                in_time_rate=0.0,
            )
        return super().write(vals)

    def unlink(self):
        if self.filtered(lambda r: r.state == "sent"):
            raise UserError(self.env._("A sent report cannot be deleted."))
        return super().unlink()

    # ------------------------------------------------------------------
    # Settings
    # ------------------------------------------------------------------

    @api.model
    def _settings(self):
        """The scheduled report's settings (SMS Center settings)."""
        Settings = self.env["sms_center.settings"]
        period_type = Settings._sms_center_setting("report_period")
        return {
            "period_type": period_type if period_type in PERIOD_MONTHS else "month",
            "day": min(max(Settings._sms_center_setting("report_day"), 1), 28),
            "time": parse_hhmm(
                Settings._sms_center_setting("report_time"), DEFAULT_REPORT_TIME
            ),
            "partner_ids": Settings._sms_center_setting("report_partner_ids").ids,
            "signatory_name": Settings._sms_center_setting("report_signatory_name")
            or "",
            "signatory_title": Settings._sms_center_setting("report_signatory_title")
            or "",
        }

    # ------------------------------------------------------------------
    # Figures
    # ------------------------------------------------------------------

    def _utc_bounds(self, date_from, date_to):
        """``[start, end)`` in UTC naive of local days ``date_from`` to
        ``date_to`` included."""
        tz = regency_tz(self.env)
        start = tz.localize(datetime.combine(date_from, time.min))
        end = tz.localize(datetime.combine(date_to + timedelta(days=1), time.min))
        return to_utc_naive(start), to_utc_naive(end)

    @api.model
    def _period_domain(self, fname, date_from, date_to):
        return [(fname, ">=", date_from), (fname, "<=", date_to)]

    @api.model
    def _names(self, records):
        """``{id: {lang: name}}``: names in every installed language, frozen
        with the snapshot so that a renamed unit does not alter a sent
        report, and an English print still reads English."""
        langs = [code for code, _name in self.env["res.lang"].get_installed()]
        names = {record.id: {} for record in records}
        for lang in langs:
            for record in records.with_context(lang=lang):
                names[record.id][lang] = record.display_name
        return names

    @api.model
    def _answer_figures(self, row):
        """Snapshot dict of one row of ``ANSWER_AGGREGATES`` values."""
        figures = dict(zip(ANSWER_KEYS, row, strict=True))
        for key in ("received", "questions", "answered", "in_time", "late", "overdue"):
            figures[key] = figures[key] or 0
        for key in ANSWER_KEYS[6:]:
            value = figures[key]
            figures[key] = None if value is None or value is False else float(value)
        figures["unanswered"] = figures["questions"] - figures["answered"]
        return figures

    @api.model
    def _totals(self, date_from, date_to):
        # sudo: the report covers every unit; only the secretariat reads it.
        Inbound = self.env["sms_center.inbound.analysis"].sudo()
        domain = self._period_domain("received_date", date_from, date_to)
        totals = self._answer_figures(
            Inbound._read_group(domain, [], list(ANSWER_AGGREGATES))[0]
        )
        by_state = dict(Inbound._read_group(domain, ["state"], ["sms_count:sum"]))
        by_moderation = dict(
            Inbound._read_group(domain, ["moderation_state"], ["sms_count:sum"])
        )
        totals.update(
            routed=by_state.get("routed", 0) + by_state.get("appended", 0),
            unknown=by_state.get("unknown", 0),
            rejected=by_state.get("rejected", 0),
            requests=by_state.get("status", 0) + by_state.get("info", 0),
            spam=by_moderation.get("spam", 0) + by_moderation.get("not_substantive", 0),
        )
        totals.update(self._sender_figures(date_from, date_to))
        return totals

    @api.model
    def _sender_figures(self, date_from, date_to):
        """Citizens who wrote in the period (distinct numbers) and those who
        wrote more than once, counted by the sender key: the keyed hash of
        the number, which pseudonymisation leaves as it is (UU 27/2022), so
        that a report regenerated later gives the same figures."""
        self.env["sms_center.message"].flush_model(["sender_key", "received_date"])
        self.env.cr.execute(
            SQL(
                """SELECT count(*), count(*) FILTER (WHERE s.sms > 1)
                     FROM (SELECT count(*) AS sms FROM sms_center_message
                            WHERE received_date BETWEEN %s AND %s
                              AND sender_key IS NOT NULL
                            GROUP BY sender_key) AS s""",
                date_from,
                date_to,
            )
        )
        senders, repeat_senders = self.env.cr.fetchone()
        return {"senders": senders, "repeat_senders": repeat_senders}

    @api.model
    def _compute_snapshot(self, period_type, date_from, date_to):
        """Every figure of the report for local days ``date_from`` to
        ``date_to``, as a JSON-serialisable dict."""
        # sudo: the report covers every unit; only the secretariat reads it.
        Inbound = self.env["sms_center.inbound.analysis"].sudo()
        Outgoing = self.env["sms_center.outgoing.analysis"].sudo()
        now = fields.Datetime.now()
        domain = self._period_domain("received_date", date_from, date_to)
        previous_from = previous_period_start(period_type, date_from)
        previous_to = period_end(period_type, previous_from)

        units = Inbound._read_group(
            domain + [("team_id", "!=", False)],
            ["team_id"],
            list(ANSWER_AGGREGATES),
        )
        categories = Inbound._read_group(
            domain + [("is_question", "=", True)],
            ["category_id"],
            list(ANSWER_AGGREGATES),
        )
        team_names = self._names(
            self.env["helpdesk.ticket.team"].union(*(u[0] for u in units))
        )
        category_records = self.env["helpdesk.ticket.category"].union(
            *(c[0] for c in categories)
        )
        category_names = self._names(category_records)
        unit_rows = sorted(
            (
                dict(
                    self._answer_figures(values),
                    id=team.id,
                    name=team_names[team.id],
                )
                for team, *values in units
            ),
            key=lambda row: (-row["received"], row["name"].get("en_US", "")),
        )
        category_rows = sorted(
            (
                dict(
                    self._answer_figures(values),
                    id=category.id or False,
                    name=category_names.get(category.id) or {},
                )
                for category, *values in categories
            ),
            key=lambda row: (not row["id"], -row["questions"]),
        )

        daily = dict(
            Inbound._read_group(domain, ["received_date:day"], ["sms_count:sum"])
        )
        days = []
        day = date_from
        while day <= date_to:
            days.append([day.isoformat(), daily.get(day, 0) or 0])
            day += timedelta(days=1)

        return {
            "version": SNAPSHOT_VERSION,
            "period_type": period_type,
            "date_from": date_from.isoformat(),
            "date_to": date_to.isoformat(),
            "previous_from": previous_from.isoformat(),
            "previous_to": previous_to.isoformat(),
            "generated_at": fields.Datetime.to_string(now),
            "timezone": regency_tz(self.env).zone,
            "totals": self._totals(date_from, date_to),
            "previous": self._totals(previous_from, previous_to),
            "units": unit_rows,
            "categories": category_rows,
            "longest_open": self._longest_open(date_to, now),
            "gateways": self._gateway_figures(date_from, date_to, now),
            "outgoing": self._outgoing_figures(Outgoing, date_from, date_to),
            "daily": days,
        }

    @api.model
    def _longest_open(self, date_to, now):
        """The questions received up to the end of the period and still
        waiting for an answer when the report is generated, oldest first
        (the analysis' open and overdue questions, read from the tickets
        through their index of open tickets)."""
        # sudo: the report covers every unit; only the secretariat reads it.
        tickets = (
            self.env["helpdesk.ticket"]
            .sudo()
            .search(
                [
                    ("sms_awaiting_answer", "=", True),
                    ("sms_answered", "=", False),
                    ("sms_message_id", "!=", False),
                    ("sms_not_substantive", "=", False),
                    ("sms_received_date", "<=", date_to),
                ],
                order="sms_received_at, id",
                limit=LONGEST_OPEN_LIMIT,
            )
        )
        team_names = self._names(tickets.team_id)
        return [
            {
                "ticket_id": ticket.id,
                "reference": ticket.number or "",
                "unit": team_names.get(ticket.team_id.id) or {},
                "keyword": ticket.sms_keyword_id.name or "",
                "sender": ticket.sms_sender_masked or "",
                "received_at": fields.Datetime.to_string(ticket.sms_received_at),
                "age_minutes": max(
                    0, round((now - ticket.sms_received_at).total_seconds() / 60)
                ),
                "overdue": bool(ticket.sms_deadline and ticket.sms_deadline <= now),
            }
            for ticket in tickets
        ]

    @api.model
    def _outgoing_figures(self, Outgoing, date_from, date_to):
        domain = self._period_domain("sent_date", date_from, date_to)
        aggregates = [
            "sms_count:sum",
            "parts:sum",
            "delivered_count:sum",
            "failed_count:sum",
        ]
        kinds = dict(
            Outgoing._fields["kind"]._description_selection(
                self.env["sms_center.outgoing.analysis"].with_context(lang="en_US").env
            )
        )
        rows = []
        for kind, sms_count, parts, delivered, failed in Outgoing._read_group(
            domain, ["kind"], aggregates
        ):
            rows.append(
                {
                    "kind": kind,
                    "kind_label_en": kinds.get(kind, kind),
                    "sms": sms_count or 0,
                    "parts": parts or 0,
                    "delivered": delivered or 0,
                    "failed": failed or 0,
                }
            )
        return sorted(rows, key=lambda row: -row["sms"])

    @api.model
    def _gateway_figures(self, date_from, date_to, now):
        """Per gateway: availability over the period (from its outage log),
        SMS received through it, and the delivery of what it sent."""
        # sudo: the report covers every gateway; only the secretariat reads it.
        Gateway = self.env["sms_center.gateway"].sudo().with_context(active_test=False)
        Inbound = self.env["sms_center.inbound.analysis"].sudo()
        Outgoing = self.env["sms_center.outgoing.analysis"].sudo()
        inbound = dict(
            Inbound._read_group(
                self._period_domain("received_date", date_from, date_to)
                + [("gateway_id", "!=", False)],
                ["gateway_id"],
                ["sms_count:sum"],
            )
        )
        outgoing = {
            gateway: (sms, delivered, failed)
            for gateway, sms, delivered, failed in Outgoing._read_group(
                self._period_domain("sent_date", date_from, date_to)
                + [("gateway_id", "!=", False)],
                ["gateway_id"],
                ["sms_count:sum", "delivered_count:sum", "failed_count:sum"],
            )
        }
        start, end = self._utc_bounds(date_from, date_to)
        end = min(end, now)
        gateways = (
            Gateway.search([("active", "=", True), ("create_date", "<", end)])
            | Gateway.union(*inbound)
            | Gateway.union(*outgoing)
        )
        downtime = (
            self.env["sms_center.gateway.outage"]
            .sudo()
            ._downtime_seconds(gateways.ids, start, end)
        )
        rows = []
        for gateway in gateways.sorted(lambda g: (g.sequence, g.id)):
            window_start = max(start, gateway.create_date)
            window = (end - window_start).total_seconds()
            down = downtime.get(gateway.id, 0.0)
            sms, delivered, failed = outgoing.get(gateway, (0, 0, 0))
            rows.append(
                {
                    "id": gateway.id,
                    "name": gateway.name,
                    "availability": (
                        round(100.0 * max(0.0, window - down) / window, 2)
                        if window > 0
                        else None
                    ),
                    "downtime_minutes": round(down / 60),
                    "received": inbound.get(gateway, 0) or 0,
                    "sent": sms or 0,
                    "delivered": delivered or 0,
                    "failed": failed or 0,
                    "delivery_rate": (
                        round(100.0 * (delivered or 0) / sms, 2) if sms else None
                    ),
                }
            )
        return rows

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_generate(self):
        """Compute the figures now and store them (draft reports only)."""
        for report in self:
            if report.state != "draft":
                raise UserError(
                    self.env._("Only a draft report can be generated again.")
                )
            snapshot = self._compute_snapshot(
                report.period_type, report.date_from, report.date_to
            )
            totals = snapshot["totals"]
            report.write(
                {
                    "snapshot": snapshot,
                    "generated_at": fields.Datetime.to_datetime(
                        snapshot["generated_at"]
                    ),
                    "received_count": totals["received"],
                    "question_count": totals["questions"],
                    "answered_count": totals["answered"],
                    "in_time_rate": totals["in_time_rate"] or 0.0,
                }
            )
        return True

    def action_send(self):
        """Send a draft report now (the "Send now" button)."""
        self.ensure_one()
        self._lock_for_sending()
        if self.state != "draft":
            raise UserError(self.env._("This report was sent already."))
        if not self.recipient_ids:
            raise UserError(
                self.env._("Choose the recipients of the report before sending it.")
            )
        if not self.snapshot:
            self.action_generate()
        self._send()
        return True

    def _lock_for_sending(self):
        """Lock the report row, so that the button and the cron never send
        it both; fail clearly when the other one holds or changed it."""
        self.flush_recordset()
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    "SELECT id FROM sms_center_report WHERE id = %s "
                    "FOR NO KEY UPDATE NOWAIT",
                    [self.id],
                    log_exceptions=False,
                )
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY as exc:
            raise UserError(
                self.env._(
                    "This report is being sent or was just changed by someone "
                    "else. Reload the page."
                )
            ) from exc

    def _send(self):
        """E-mail the report with its PDF to its recipients; the mail is
        posted in the report's chatter."""
        self.ensure_one()
        template = self.env.ref("sms_center.mail_template_sms_center_report")
        # The signature block is frozen with the figures: a later change of
        # the signatory in the settings does not alter a sent report.
        settings = self._settings()
        self.with_context(sms_center_report_sending=True).write(
            {
                "snapshot": dict(
                    self.snapshot,
                    signatory={
                        "name": settings["signatory_name"],
                        "title": settings["signatory_title"],
                    },
                )
            }
        )
        self.message_post_with_source(
            template,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        self.with_context(sms_center_report_sending=True).write(
            {"state": "sent", "sent_at": fields.Datetime.now()}
        )

    # ------------------------------------------------------------------
    # Scheduled generation and sending
    # ------------------------------------------------------------------

    @api.model
    def _scheduled_period(self, now):
        """``(period_type, first day)`` of the report due at ``now`` (UTC
        naive), or None before the configured day and time."""
        settings = self._settings()
        tz = regency_tz(self.env)
        local_now = to_local(now, tz)
        period_type = settings["period_type"]
        current = period_start(period_type, local_now.date())
        due = tz.localize(
            datetime.combine(
                current + timedelta(days=settings["day"] - 1), settings["time"]
            )
        )
        if local_now < due:
            return None
        return period_type, previous_period_start(period_type, current)

    @api.model
    def _claim_scheduled(self, period_type, date_from):
        """The report row of the period, locked for this run, or empty when
        it was handled already or is being handled by a concurrent run."""
        cr = self.env.cr
        now = fields.Datetime.now()
        self.flush_model()
        try:
            with cr.savepoint(flush=False):
                cr.execute(
                    """INSERT INTO sms_center_report
                           (period_type, date_from, date_to, state, company_id,
                            create_uid, create_date, write_uid, write_date)
                       VALUES (%s, %s, %s, 'draft', %s, %s, %s, %s, %s)
                       ON CONFLICT (period_type, date_from) DO NOTHING
                       RETURNING id""",
                    [
                        period_type,
                        date_from,
                        period_end(period_type, date_from),
                        self.env.company.id,
                        self.env.uid,
                        now,
                        self.env.uid,
                        now,
                    ],
                    log_exceptions=False,
                )
                row = cr.fetchone()
                if row:
                    report = self.browse(row[0])
                    report.recipient_ids = report._default_recipients()
                    return report
                # A report of the period exists: take it if nobody sent it
                # and the schedule has not handled it yet.
                cr.execute(
                    """SELECT id FROM sms_center_report
                        WHERE period_type = %s AND date_from = %s
                          AND state = 'draft' AND scheduled_at IS NULL
                          FOR NO KEY UPDATE SKIP LOCKED""",
                    [period_type, date_from],
                    log_exceptions=False,
                )
                row = cr.fetchone()
        except (psycopg2.errors.SerializationFailure, psycopg2.errors.LockNotAvailable):
            # A concurrent run created or changed the row and committed after
            # this transaction began: it is that run's to send.
            _logger.info(
                "SMS Center report %s %s handled by a concurrent run",
                period_type,
                date_from,
            )
            return self.browse()
        return self.browse(row[0]) if row else self.browse()

    @api.model
    def _cron_send_scheduled(self):
        """Generate the report of the previous period on the configured day
        and time and e-mail it to the configured recipients, once."""
        due = self._scheduled_period(fields.Datetime.now())
        if not due:
            return self.browse()
        # The e-mail and its PDF are in the report's default language
        # (Indonesian), whoever the scheduler's user is.
        report = self.with_context(lang=self._default_lang())._claim_scheduled(*due)
        if not report:
            return report
        report.action_generate()
        report.scheduled_at = fields.Datetime.now()
        if report.recipient_ids:
            report._send()
        else:
            report.message_post(
                body=self.env._(
                    "Generated by the schedule but not sent: no recipients are set "
                    "in the SMS Center settings. Choose them here and click Send now."
                ),
                subtype_xmlid="mail.mt_note",
            )
        _logger.info("SMS Center report %s handled by the schedule", report.id)
        return report

    # ------------------------------------------------------------------
    # Rendering helpers (QWeb)
    # ------------------------------------------------------------------

    @api.model
    def _default_lang(self):
        """Indonesian where installed, else English."""
        installed = dict(self.env["res.lang"].get_installed())
        return "id_ID" if "id_ID" in installed else "en_US"

    def _print_lang(self):
        """The PDF is Indonesian, or English for users working in English."""
        lang = self.env.context.get("lang") or self.env.user.lang or ""
        installed = dict(self.env["res.lang"].get_installed())
        if lang.startswith("en") and "en_US" in installed:
            return "en_US"
        return self._default_lang()

    def _label(self, names):
        """Name in the current language from a ``{lang: name}`` dict."""
        if not names:
            return ""
        lang = self.env.lang or "en_US"
        return names.get(lang) or names.get("en_US") or next(iter(names.values()))

    def _fmt_number(self, value, digits=0):
        if value is None or value is False:
            return "–"
        return formatLang(self.env, value, digits=digits)

    def _fmt_percent(self, value, digits=1):
        if value is None or value is False:
            return "–"
        return f"{self._fmt_number(value, digits)} %"

    def _fmt_minutes(self, value):
        if value is None or value is False:
            return "–"
        return self.env["helpdesk.ticket"]._sms_center_format_duration(
            timedelta(minutes=round(value))
        )

    def _fmt_datetime(self, value):
        """A UTC moment of the snapshot, in the regency's time zone."""
        moment = fields.Datetime.to_datetime(value)
        return to_local(moment, regency_tz(self.env)).strftime("%d/%m/%Y %H:%M")

    def _fmt_date(self, value, date_format="d MMMM y"):
        return format_date(
            self.env, fields.Date.to_date(value), date_format=date_format
        )

    def _fmt_range(self, date_from, date_to):
        return f"{self._fmt_date(date_from)} – {self._fmt_date(date_to)}"

    def _fmt_count_share(self, count, share):
        return f"{self._fmt_number(count)} ({self._fmt_percent(share)})"

    def _fmt_pair(self, average, median):
        return f"{self._fmt_minutes(average)} / {self._fmt_minutes(median)}"

    def _signatory(self):
        """``{name, title}`` of the signature block: frozen in the snapshot
        when the report was sent, else from the settings (a draft)."""
        self.ensure_one()
        frozen = (self.snapshot or {}).get("signatory")
        if frozen is not None:
            return frozen
        settings = self._settings()
        return {
            "name": settings["signatory_name"],
            "title": settings["signatory_title"],
        }

    def _signature_date(self):
        """Local date of sending (or of generation, for a draft)."""
        moment = self.sent_at or self.generated_at or fields.Datetime.now()
        return self._fmt_date(to_local(moment, regency_tz(self.env)).date())

    def _trend_rows(self):
        """``[(label, current, previous, difference, arrow, good)]``."""
        self.ensure_one()
        totals = self.snapshot["totals"]
        previous = self.snapshot["previous"]
        labels = {
            "received": self.env._("SMS received"),
            "questions": self.env._("Questions"),
            "answered": self.env._("Questions answered"),
            "in_time_rate": self.env._("Answered within the deadline"),
            "response_avg": self.env._("Average time to first answer"),
            "unknown": self.env._("Unknown keyword"),
        }
        rows = []
        for key in TREND_KEYS:
            current, before = totals.get(key), previous.get(key)
            if current is None or before is None:
                diff, arrow, good = None, "", None
            else:
                diff = current - before
                arrow = "↑" if diff > 0 else "↓" if diff < 0 else "="
                good = (
                    None
                    if not diff or key in NEUTRAL_TREND
                    else (diff < 0) == (key in LOWER_IS_BETTER)
                )
            if key == "in_time_rate":
                fmt = self._fmt_percent
                fmt_diff = (
                    f"{'+' if diff > 0 else ''}{self._fmt_number(diff, 1)} pp"
                    if diff is not None
                    else "–"
                )
            elif key == "response_avg":
                fmt = self._fmt_minutes
                fmt_diff = (
                    ("+" if diff > 0 else "-" if diff < 0 else "")
                    + self._fmt_minutes(abs(diff))
                    if diff is not None
                    else "–"
                )
            else:
                fmt = self._fmt_number
                fmt_diff = (
                    f"{'+' if diff > 0 else ''}{self._fmt_number(diff)}"
                    if diff is not None
                    else "–"
                )
            rows.append((labels[key], fmt(current), fmt(before), fmt_diff, arrow, good))
        return rows

    def _outgoing_label(self, kind):
        kinds = dict(
            self.env["sms_center.outgoing.analysis"]
            ._fields["kind"]
            ._description_selection(self.env)
        )
        return kinds.get(kind, kind)

    def _chart(self, width=680, height=150):
        """Geometry of the SMS-per-day bar chart drawn as inline SVG."""
        self.ensure_one()
        days = self.snapshot["daily"]
        top = nice_ceiling(max([count for _day, count in days] + [1]))
        slot = width / max(len(days), 1)
        bars = []
        for index, (day, count) in enumerate(days):
            bar_height = height * count / top
            bars.append(
                {
                    "x": round(index * slot + slot * 0.15, 2),
                    "y": round(height - bar_height, 2),
                    "width": round(max(slot * 0.7, 0.5), 2),
                    "height": round(bar_height, 2),
                    "day": day,
                    "count": count,
                }
            )
        labels = [
            {"x": round(index * slot + slot / 2, 2), "text": self._fmt_date(day, "d/M")}
            for index, (day, _count) in enumerate(days)
            if index % max(1, round(len(days) / 8)) == 0
        ]
        return {
            "width": width,
            "height": height,
            "top": top,
            "bars": bars,
            "labels": labels,
        }
