from odoo import api, fields, models
from odoo.exceptions import AccessError


class SmsCenterSettings(models.TransientModel):
    """Settings of the SMS Center, kept in system parameters.

    A form of its own instead of a section of Odoo's settings page: that page
    is reserved to users with the Settings right, while the SMS Center's
    administrators (R1) configure the center without it. Each field names its
    system parameter with ``config_parameter``, as in ``res.config.settings``;
    an empty value removes the parameter, so that the default applies.
    """

    _name = "sms_center.settings"
    _description = "SMS Center Settings"

    sms_center_auto_reply_daily_limit = fields.Integer(
        string="Automatic replies per number per day",
        config_parameter="sms_center.auto_reply_daily_limit",
        default=3,
    )
    sms_center_append_window_minutes = fields.Integer(
        string="Append follow-up SMS within (minutes)",
        config_parameter="sms_center.append_window_minutes",
        default=60,
        help="A further SMS from the same number with the same keyword joins the "
        "still unanswered ticket received within this many minutes. 0: every SMS "
        "opens a new ticket.",
    )
    sms_center_center_numbers = fields.Char(
        string="Center's own numbers",
        config_parameter="sms_center.center_numbers",
        help="Comma-separated numbers of the center, besides the gateways' "
        "numbers. No automatic reply is ever sent to them.",
    )
    sms_center_public_keywords_url = fields.Char(
        string="Public keyword list address",
        config_parameter="sms_center.public_keywords_url",
        help="Web address sent to citizens when the keyword list does not fit in "
        "one SMS. Empty: this website's /sms/keywords page.",
    )
    sms_center_citizen_lang = fields.Char(
        string="Language of SMS to citizens",
        config_parameter="sms_center.citizen_lang",
        default="id_ID",
    )
    sms_center_timezone = fields.Char(
        string="Regency time zone",
        config_parameter="sms_center.timezone",
        default="Asia/Jakarta",
    )

    # --- Answer deadline, reminders and escalation (R8, R9) ---
    sms_center_deadline_hours = fields.Float(
        string="Answer deadline (hours)",
        config_parameter="sms_center.deadline_hours",
        default=3.0,
        help="Time officers have to answer an SMS (Pasal 13: 3 hours).",
    )
    sms_center_deadline_mode = fields.Selection(
        [("clock", "Clock hours"), ("calendar", "Office working hours")],
        string="Deadline counts",
        config_parameter="sms_center.deadline_mode",
        default="clock",
    )
    sms_center_deadline_calendar_id = fields.Many2one(
        "resource.calendar",
        string="Office working hours",
        config_parameter="sms_center.deadline_calendar_id",
        help="Calendar whose working hours count towards the deadline, read in "
        "the regency's time zone; its public holidays (global time off) do not "
        "count. Empty: the company's working hours.",
    )
    sms_center_daily_reminder_time = fields.Selection(
        "_sms_center_half_hours",
        string="Daily reminder at",
        config_parameter="sms_center.daily_reminder_time",
        default="16:00",
    )
    sms_center_quiet_hours = fields.Boolean(
        string="Quiet hours",
        config_parameter="sms_center.quiet_hours",
        help="No reminder SMS in these hours: the hourly reminders are deferred "
        "to the first one after them.",
    )
    sms_center_quiet_hours_start = fields.Selection(
        "_sms_center_half_hours",
        string="Quiet from",
        config_parameter="sms_center.quiet_hours_start",
        default="21:00",
    )
    sms_center_quiet_hours_end = fields.Selection(
        "_sms_center_half_hours",
        string="Quiet until",
        config_parameter="sms_center.quiet_hours_end",
        default="06:00",
    )
    sms_center_escalation_user_id = fields.Many2one(
        "res.users",
        string="Escalation responsible",
        config_parameter="sms_center.escalation_user_id",
        domain=lambda self: [
            ("groups_id", "in", self.env.ref("sms_center.group_secretariat").id),
            ("share", "=", False),
        ],
        help="Gets an activity for each overdue SMS. Empty: every member of the "
        "secretariat gets one. The whole secretariat is notified in any case.",
    )
    sms_center_escalate_to_superior = fields.Boolean(
        string="SMS to the officer's superior",
        config_parameter="sms_center.escalate_to_superior",
        help="Overdue SMS are also reported by SMS to the superior of the "
        "officer, at the superior's notification number.",
    )

    @api.model
    def _sms_center_half_hours(self):
        return [
            (f"{hour:02d}:{minute:02d}", f"{hour:02d}:{minute:02d}")
            for hour in range(24)
            for minute in (0, 30)
        ]

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
    def _valid_field_parameter(self, field, name):
        return name == "config_parameter" or super()._valid_field_parameter(field, name)

    def _config_fields(self):
        return [
            f for f in self._fields.values() if getattr(f, "config_parameter", None)
        ]

    @api.model
    def default_get(self, fields_list):
        res = super().default_get(fields_list)
        # sudo: SMS Center administrators read these keys without the
        # Settings right; only the center's own keys are touched.
        ICP = self.env["ir.config_parameter"].sudo()
        for field in self._config_fields():
            if field.name not in fields_list:
                continue
            value = ICP.get_param(field.config_parameter)
            if value in (None, False, ""):
                continue
            try:
                if field.type == "integer":
                    value = int(value)
                elif field.type == "float":
                    value = float(value)
                elif field.type == "boolean":
                    value = value not in ("False", "0")
                elif field.type == "many2one":
                    # sudo: the settings may point to records the form user cannot read.
                    record = self.env[field.comodel_name].sudo().browse(int(value))
                    value = record.exists().id or False
            except ValueError:
                continue
            res[field.name] = value
        return res

    def execute(self):
        """Save the settings (the form's Save button)."""
        self.ensure_one()
        if not self.env.user.has_group("sms_center.group_admin"):
            raise AccessError(
                self.env._("Only SMS Center administrators change its settings.")
            )
        # sudo: see default_get.
        ICP = self.env["ir.config_parameter"].sudo()
        for field in self._config_fields():
            value = self[field.name]
            if field.type == "many2one":
                value = value.id
            if field.type == "boolean":
                value = "True" if value else False
            elif value in (False, None, ""):
                value = False
            else:
                value = str(value)
            ICP.set_param(field.config_parameter, value)
        # Loop protection caches the center's numbers.
        self.env.registry.clear_cache()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._("SMS Center settings saved."),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
