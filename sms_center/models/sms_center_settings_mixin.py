import logging
import secrets

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError

from odoo.addons.base.models.res_partner import _tz_get

_logger = logging.getLogger(__name__)

HEALTH_TOKEN_PARAM = "sms_center.health_token"
HEALTH_PATH = "/sms_center/health"

# Value a boolean setting is stored as, both ways: stored explicitly, so that
# a boolean whose default is True can be switched off.
BOOLEAN_STORED = {True: "True", False: "False"}


class SmsCenterSettingsMixin(models.AbstractModel):
    """The SMS Center's settings, declared once.

    Two forms show them: the SMS Center's own settings (``sms_center.settings``)
    for its administrators, who do not have Odoo's Settings right (R1), and
    the "SMS Center" block of Odoo's Settings (``res.config.settings``) for
    system administrators. Both read and write the same system parameters
    through the methods below, so a change in either shows in the other.

    Each field names its system parameter with ``sms_center_param``. Odoo's
    own ``config_parameter`` is not used because it saves an integer 0 as
    "unset" (the default comes back) and cannot store False for a boolean
    whose default is True. Here: numbers are stored as typed (0 stays 0),
    booleans as "True"/"False", an empty text, selection or record removes
    the parameter so that the default applies.

    Code reads a setting with ``env["sms_center.settings"]._sms_center_setting(
    "append_window_minutes")``: typed, default applied, never an exception
    for a malformed stored value.
    """

    _name = "sms_center.settings.mixin"
    _description = "SMS Center settings (fields shared by the settings forms)"

    # --- Inbound SMS and automatic replies (R3, R4) ---
    sms_center_auto_reply_daily_limit = fields.Integer(
        string="Automatic replies per number per day",
        sms_center_param="sms_center.auto_reply_daily_limit",
        default=3,
        help="At most this many automatic replies go to one number per day "
        "(loop protection). 0: no automatic reply at all.",
    )
    sms_center_append_window_minutes = fields.Integer(
        string="Append follow-up SMS within (minutes)",
        sms_center_param="sms_center.append_window_minutes",
        default=60,
        help="A further SMS from the same number with the same keyword joins the "
        "still unanswered ticket received within this many minutes. 0: every SMS "
        "opens a new ticket.",
    )
    sms_center_center_numbers = fields.Char(
        string="Center's own numbers",
        sms_center_param="sms_center.center_numbers",
        help="Comma-separated numbers of the center, besides the gateways' "
        "numbers. No automatic reply is ever sent to them.",
    )
    sms_center_public_keywords_url = fields.Char(
        string="Public keyword list address",
        sms_center_param="sms_center.public_keywords_url",
        help="Web address sent to citizens when the keyword list does not fit in "
        "one SMS. Empty: this website's /sms/keywords page.",
    )
    sms_center_citizen_lang = fields.Selection(
        "_sms_center_lang_selection",
        string="Language of SMS to citizens",
        sms_center_param="sms_center.citizen_lang",
        default="id_ID",
        help="Language of the automatic replies to citizens, and of new officer "
        "accounts.",
    )
    sms_center_timezone = fields.Selection(
        _tz_get,
        string="Regency time zone",
        sms_center_param="sms_center.timezone",
        default="Asia/Jakarta",
        help="Time zone of deadlines, reminders, daily limits and modem clocks.",
    )

    # --- The citizen's side by SMS (R17) ---
    sms_center_receipt_enabled = fields.Boolean(
        string="Receipt for each new SMS",
        sms_center_param="sms_center.receipt_enabled",
        # Unset (an upgraded database) is off: receipts would add an SMS, and
        # its cost, to every ticket unannounced. New databases store "True"
        # (data/sms_center_citizen_sms_data.xml).
        default=False,
        help="When an SMS becomes a ticket, the citizen gets one SMS with the "
        "unit, a short code and when the answer is due. Follow-up SMS added to "
        "an open ticket get none.",
    )
    sms_center_status_words = fields.Char(
        string="Other words for CEK",
        sms_center_param="sms_center.status_words",
        help="Words that work like CEK (status of the sender's SMS), separated "
        "by commas, e.g. STATUS. They cannot be keywords or aliases.",
    )
    sms_center_info_words = fields.Char(
        string="Other words for INFO",
        sms_center_param="sms_center.info_words",
        default="BANTUAN",
        help="Words that work like INFO (how to use the service), separated by "
        "commas. They cannot be keywords or aliases. Empty: BANTUAN.",
    )

    # --- Answer deadline, reminders and escalation (R8, R9) ---
    sms_center_deadline_hours = fields.Float(
        string="Answer deadline (hours)",
        sms_center_param="sms_center.deadline_hours",
        default=3.0,
        help="Time officers have to answer an SMS (Pasal 13: 3 hours).",
    )
    sms_center_deadline_mode = fields.Selection(
        [("clock", "Clock hours"), ("calendar", "Office working hours")],
        string="Deadline counts",
        sms_center_param="sms_center.deadline_mode",
        default="clock",
    )
    sms_center_deadline_calendar_id = fields.Many2one(
        "resource.calendar",
        string="Office working hours",
        sms_center_param="sms_center.deadline_calendar_id",
        help="Calendar whose working hours count towards the deadline, read in "
        "the regency's time zone; its public holidays (global time off) do not "
        "count. Empty: the company's working hours.",
    )
    sms_center_daily_reminder_time = fields.Selection(
        "_sms_center_half_hours",
        string="Daily reminder at",
        sms_center_param="sms_center.daily_reminder_time",
        default="16:00",
    )
    sms_center_quiet_hours = fields.Boolean(
        string="Quiet hours",
        sms_center_param="sms_center.quiet_hours",
        help="No reminder SMS in these hours: the hourly reminders are deferred "
        "to the first one after them.",
    )
    sms_center_quiet_hours_start = fields.Selection(
        "_sms_center_half_hours",
        string="Quiet from",
        sms_center_param="sms_center.quiet_hours_start",
        default="21:00",
    )
    sms_center_quiet_hours_end = fields.Selection(
        "_sms_center_half_hours",
        string="Quiet until",
        sms_center_param="sms_center.quiet_hours_end",
        default="06:00",
    )
    sms_center_escalation_user_id = fields.Many2one(
        "res.users",
        string="Escalation responsible",
        sms_center_param="sms_center.escalation_user_id",
        domain=lambda self: [
            ("groups_id", "in", self.env.ref("sms_center.group_secretariat").id),
            ("share", "=", False),
        ],
        help="Gets an activity for each overdue SMS. Empty: every member of the "
        "secretariat gets one. The whole secretariat is notified in any case.",
    )
    sms_center_escalate_to_superior = fields.Boolean(
        string="SMS to the officer's superior",
        sms_center_param="sms_center.escalate_to_superior",
        help="Overdue SMS are also reported by SMS to the superior of the "
        "officer, at the superior's notification number.",
    )

    # --- Publication on the website, "SMS Masyarakat" (R12) ---
    sms_center_publication_mode = fields.Selection(
        [
            ("auto", "Automatically when answered"),
            ("approval", "After the secretariat approves"),
        ],
        string="Publication of answered SMS",
        sms_center_param="sms_center.publication_mode",
        default="auto",
        help="Automatically: answered SMS appear on the website after the "
        "publication delay. After approval: they wait in the secretariat's "
        '"To publish" list.',
    )
    sms_center_publication_delay_minutes = fields.Integer(
        string="Publication delay (minutes)",
        sms_center_param="sms_center.publication_delay_minutes",
        default=0,
        help="Time between the first answer and automatic publication, to "
        "withdraw a wrong answer. 0: published at once.",
    )

    # --- Monitoring endpoint (R14, R19) ---
    # Shown, never saved by the forms (readonly): only "Regenerate" changes it.
    sms_center_health_token = fields.Char(
        string="Monitoring token",
        sms_center_param=HEALTH_TOKEN_PARAM,
        readonly=True,
        help="Secret that monitoring tools send to the health endpoint "
        "(Authorization: Bearer header, or token parameter).",
    )
    sms_center_health_url = fields.Char(
        string="Monitoring address",
        default=lambda self: self._sms_center_health_url(),
        readonly=True,
        help="Health endpoint for Zabbix, Nagios or Prometheus; add "
        "?format=prometheus for Prometheus.",
    )
    sms_center_health_wait_minutes = fields.Integer(
        string="Alert when an SMS waits longer than (minutes)",
        sms_center_param="sms_center.health_wait_minutes",
        default=30,
        help="The endpoint reports an alert when the oldest queued outgoing SMS, "
        "or the oldest inbound SMS not yet routed, has waited longer than this. "
        "0: never.",
    )
    sms_center_health_overdue_tickets = fields.Integer(
        string="Alert from this many overdue SMS",
        sms_center_param="sms_center.health_overdue_tickets",
        default=20,
        help="The endpoint reports an alert when at least this many SMS tickets "
        "are past their answer deadline unanswered. 0: never.",
    )
    sms_center_health_cron_late_minutes = fields.Integer(
        string="Alert when a scheduled action is late by (minutes)",
        sms_center_param="sms_center.health_cron_late_minutes",
        default=30,
        help="The endpoint reports an alert when an active SMS Center scheduled "
        "action should have run longer ago than this (the cron workers are "
        "stopped or overloaded). 0: never.",
    )

    # --- Periodic report to the Regent (R13) ---
    sms_center_report_period = fields.Selection(
        [("month", "Monthly"), ("quarter", "Quarterly"), ("year", "Yearly")],
        string="Scheduled report",
        sms_center_param="sms_center.report_period",
        default="month",
        help="Period of the report that is generated and e-mailed by itself.",
    )
    sms_center_report_day = fields.Integer(
        string="Report sent on day",
        sms_center_param="sms_center.report_day",
        default=1,
        help="Day of the month after the period (1 to 28) on which the report of "
        "the period is generated and e-mailed.",
    )
    sms_center_report_time = fields.Selection(
        "_sms_center_half_hours",
        string="Report sent at",
        sms_center_param="sms_center.report_time",
        default="07:00",
    )
    sms_center_report_partner_ids = fields.Many2many(
        "res.partner",
        string="Report recipients",
        sms_center_param="sms_center.report_partner_ids",
        help="Contacts who receive the report by e-mail, e.g. the Regent's office "
        "and the Regional Secretary. None: the report is generated as a draft "
        "for the secretariat to send.",
    )
    sms_center_report_signatory_name = fields.Char(
        string="Report signed by",
        sms_center_param="sms_center.report_signatory_name",
        help="Name in the signature block of the report. Empty: a blank line to "
        "sign by hand.",
    )
    sms_center_report_signatory_title = fields.Char(
        string="Position of the signatory",
        sms_center_param="sms_center.report_signatory_title",
        help="Empty: Head of the SMS Center.",
    )

    # --- Citizens' personal data (UU 27/2022) ---
    sms_center_retention_months = fields.Integer(
        string="Keep citizens' numbers (months)",
        sms_center_param="sms_center.retention_months",
        default=24,
        help="Months a citizen's number is kept after the ticket is closed (or "
        "after an SMS without a ticket arrived); then it is replaced by its "
        "pseudonym. The SMS text is never changed. 0: keep the numbers.",
    )

    # ------------------------------------------------------------------
    # Selections and checks
    # ------------------------------------------------------------------

    @api.model
    def _sms_center_half_hours(self):
        return [
            (f"{hour:02d}:{minute:02d}", f"{hour:02d}:{minute:02d}")
            for hour in range(24)
            for minute in (0, 30)
        ]

    @api.model
    def _sms_center_lang_selection(self):
        return self.env["res.lang"].get_installed()

    @api.constrains(
        "sms_center_auto_reply_daily_limit",
        "sms_center_append_window_minutes",
        "sms_center_publication_delay_minutes",
        "sms_center_health_wait_minutes",
        "sms_center_health_overdue_tickets",
        "sms_center_health_cron_late_minutes",
        "sms_center_retention_months",
    )
    def _check_sms_center_not_negative(self):
        for settings in self:
            for name in (
                "sms_center_auto_reply_daily_limit",
                "sms_center_append_window_minutes",
                "sms_center_publication_delay_minutes",
                "sms_center_health_wait_minutes",
                "sms_center_health_overdue_tickets",
                "sms_center_health_cron_late_minutes",
                "sms_center_retention_months",
            ):
                if settings[name] < 0:
                    raise ValidationError(
                        self.env._(
                            "%(setting)s cannot be negative.",
                            setting=self._fields[name].get_description(self.env)[
                                "string"
                            ],
                        )
                    )

    @api.constrains("sms_center_status_words", "sms_center_info_words")
    def _check_sms_center_reserved_words(self):
        for settings in self:
            self.env["sms_center.keyword"]._check_reserved_word_settings(
                settings.sms_center_status_words, settings.sms_center_info_words
            )

    @api.constrains("sms_center_report_day")
    def _check_sms_center_report_day(self):
        for settings in self:
            if not 1 <= settings.sms_center_report_day <= 28:
                raise ValidationError(
                    self.env._(
                        "The report is sent on a day from 1 to 28 of the month (a "
                        "day every month has)."
                    )
                )

    @api.constrains(
        "sms_center_deadline_hours",
        "sms_center_daily_reminder_time",
        "sms_center_quiet_hours",
        "sms_center_quiet_hours_start",
        "sms_center_quiet_hours_end",
    )
    def _check_sms_center_deadline_reminders(self):
        for settings in self:
            self.env["sms_center.reminder"]._check_settings(
                settings.sms_center_deadline_hours,
                settings.sms_center_daily_reminder_time,
                settings.sms_center_quiet_hours
                and (
                    settings.sms_center_quiet_hours_start,
                    settings.sms_center_quiet_hours_end,
                ),
            )

    @api.model
    def _sms_center_health_url(self):
        # sudo: system parameters are readable by the system only.
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        return f"{base.rstrip('/')}{HEALTH_PATH}"

    # ------------------------------------------------------------------
    # Monitoring token
    # ------------------------------------------------------------------

    @api.model
    def _sms_center_ensure_health_token(self):
        """Give the monitoring endpoint a random token if it has none
        (module installation and update)."""
        # sudo: system parameters are writable by the system only.
        ICP = self.env["ir.config_parameter"].sudo()
        if not ICP.get_param(HEALTH_TOKEN_PARAM):
            ICP.set_param(HEALTH_TOKEN_PARAM, secrets.token_urlsafe(32))

    def action_sms_center_regenerate_health_token(self):
        """Replace the monitoring token (the old one stops working at once)."""
        user = self.env.user
        if not (
            user.has_group("sms_center.group_admin")
            or user.has_group("base.group_system")
        ):
            raise AccessError(
                self.env._("Only SMS Center administrators change its settings.")
            )
        # sudo: system parameters are writable by the system only; the user's
        # right was checked just above.
        self.env["ir.config_parameter"].sudo().set_param(
            HEALTH_TOKEN_PARAM, secrets.token_urlsafe(32)
        )
        _logger.info("SMS Center monitoring token regenerated by user #%s", user.id)
        return {"type": "ir.actions.client", "tag": "reload"}

    # ------------------------------------------------------------------
    # Reading and writing the system parameters
    # ------------------------------------------------------------------

    @api.model
    def _valid_field_parameter(self, field, name):
        return name == "sms_center_param" or super()._valid_field_parameter(field, name)

    @api.model
    def _sms_center_param_fields(self):
        return [
            field
            for field in self._fields.values()
            if getattr(field, "sms_center_param", None)
        ]

    @api.model
    def _sms_center_default(self, field):
        if field.default:
            return field.default(self)
        return field.convert_to_record(field.convert_to_cache(False, self), self)

    @api.model
    def _sms_center_parse(self, field, raw):
        """Typed value of the stored text ``raw``; the default when ``raw``
        is unset or malformed (a hand-edited system parameter)."""
        if raw in (None, False, ""):
            return self._sms_center_default(field)
        try:
            if field.type == "integer":
                return int(raw)
            if field.type == "float":
                return float(raw)
            if field.type == "boolean":
                return raw.strip().lower() not in ("false", "0", "")
            if field.type == "many2one":
                # exists() reads ids only, whatever the caller's rights.
                return self.env[field.comodel_name].browse(int(raw)).exists()
            if field.type == "many2many":
                ids = [int(part) for part in raw.split(",") if part.strip()]
                return self.env[field.comodel_name].browse(ids).exists()
        except ValueError:
            return self._sms_center_default(field)
        return raw

    @api.model
    def _sms_center_format(self, field, value):
        """Text to store for ``value``, or False to remove the parameter."""
        if field.type in ("integer", "float"):
            return str(value or 0)
        if field.type == "boolean":
            return BOOLEAN_STORED[bool(value)]
        if field.type == "many2one":
            return str(value.id) if value else False
        if field.type == "many2many":
            return ",".join(str(record_id) for record_id in value.ids) or False
        if isinstance(value, str):
            value = value.strip()
        return value or False

    @api.model
    def _sms_center_setting(self, name):
        """The setting ``name`` (a field name without ``sms_center_``)."""
        field = self._fields[f"sms_center_{name}"]
        # sudo: system parameters are readable by the system only; the
        # center's own settings are not secret to its code paths.
        raw = self.env["ir.config_parameter"].sudo().get_param(field.sms_center_param)
        return self._sms_center_parse(field, raw)

    @api.model
    def _sms_center_read_values(self):
        """``{field name: value}`` of every setting, for a form."""
        # sudo: see _sms_center_setting.
        ICP = self.env["ir.config_parameter"].sudo()
        values = {}
        for field in self._sms_center_param_fields():
            value = self._sms_center_parse(field, ICP.get_param(field.sms_center_param))
            if field.type == "many2one":
                value = value.id
            elif field.type == "many2many":
                value = [fields.Command.set(value.ids)]
            values[field.name] = value
        return values

    def _sms_center_write_values(self):
        """Store the settings of this form record."""
        self.ensure_one()
        # sudo: callers check the user's right to change the settings.
        # A changed parameter clears the caches (loop protection caches the
        # center's numbers): ir.config_parameter does it on every write.
        ICP = self.env["ir.config_parameter"].sudo()
        for field in self._sms_center_param_fields():
            if field.readonly:
                continue  # shown only (the monitoring token has its own button)
            ICP.set_param(
                field.sms_center_param, self._sms_center_format(field, self[field.name])
            )
