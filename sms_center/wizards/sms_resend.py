from odoo import api, models

from ..models.sms_center_number_mask_mixin import masked_display


class SmsResend(models.TransientModel):
    """Odoo's "Sending failures" dialog lists the numbers of failed SMS: shown
    masked like everywhere else (R5, UU 27/2022); resent to the number each
    SMS went to."""

    _inherit = "sms.resend"

    @api.model
    def default_get(self, fields_list):
        res = super().default_get(fields_list)
        for command in res.get("recipient_ids") or []:
            values = command[2] if len(command) == 3 else None
            if isinstance(values, dict) and values.get("sms_number"):
                values["sms_number"] = masked_display(values["sms_number"])
        return res

    def action_resend(self):
        # sudo: the notifications' numbers are hidden from the users resending.
        for recipient in self.sudo().recipient_ids:
            stored = recipient.notification_id.sms_number
            if stored and recipient.sms_number == masked_display(stored):
                recipient.sms_number = stored
        return super().action_resend()
