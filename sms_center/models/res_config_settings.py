from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

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

    def set_values(self):
        res = super().set_values()
        # Loop protection caches the center's numbers.
        self.env.registry.clear_cache()
        return res
