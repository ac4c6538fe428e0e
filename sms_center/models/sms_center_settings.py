from odoo import api, models
from odoo.exceptions import AccessError


class SmsCenterSettings(models.TransientModel):
    """The SMS Center's own settings page.

    Odoo's Settings are reserved to users with the Settings right, while the
    SMS Center's administrators (R1) configure the center without it: this
    form shows the same settings (``sms_center.settings.mixin``) to them, as a
    settings page of its own.
    """

    _name = "sms_center.settings"
    _inherit = ["sms_center.settings.mixin"]
    _description = "SMS Center Settings"

    @api.model
    def default_get(self, fields_list):
        res = super().default_get(fields_list)
        res.update(
            {
                name: value
                for name, value in self._sms_center_read_values().items()
                if name in fields_list
            }
        )
        return res

    def execute(self):
        """Save the settings (the settings page's Save button)."""
        self.ensure_one()
        if not self.env.user.has_group("sms_center.group_admin"):
            raise AccessError(
                self.env._("Only SMS Center administrators change its settings.")
            )
        self._sms_center_write_values()
        # As Odoo's Settings do: reload, so that the page shows what is stored.
        return {"type": "ir.actions.client", "tag": "reload"}

    def cancel(self):
        """Discard: reopen the settings as stored."""
        return self.env["ir.actions.act_window"]._for_xml_id(
            "sms_center.action_sms_center_settings"
        )
