from odoo import api, fields, models


class ResConfigSettings(models.TransientModel):
    """The "SMS Center" block of Odoo's Settings (system administrators).

    Same fields and same system parameters as the SMS Center's own settings
    page (``sms_center.settings.mixin``), read and written by the mixin, not
    by Odoo's ``config_parameter`` handling (see the mixin for why).
    """

    _name = "res.config.settings"
    _inherit = ["res.config.settings", "sms_center.settings.mixin"]

    # A relation table of our own: another addon's res.config.settings ->
    # res.partner field would otherwise take the same default name.
    sms_center_report_partner_ids = fields.Many2many(
        relation="res_config_settings_sms_center_report_partner_rel"
    )

    @api.model
    def get_values(self):
        res = super().get_values()
        res.update(self._sms_center_read_values())
        return res

    def set_values(self):
        res = super().set_values()
        # execute() has checked the Settings right before calling this.
        self._sms_center_write_values()
        return res
