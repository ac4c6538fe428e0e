from odoo import fields, models
from odoo.exceptions import UserError

from ..lib import phone


class SmsCenterGatewayTest(models.TransientModel):
    """Send one test SMS through a chosen gateway (R15)."""

    _name = "sms_center.gateway.test"
    _description = "Send Test SMS"

    gateway_id = fields.Many2one("sms_center.gateway", required=True, readonly=True)
    number = fields.Char(required=True, help="e.g. 0812-3456-7890")
    body = fields.Text(
        required=True,
        default=lambda self: self.env._("SMS Center test message. Thank you."),
    )

    def action_send(self):
        self.ensure_one()
        number = phone.to_e164(self.number)
        if not number:
            raise UserError(
                self.env._(
                    "%(number)s is not a valid phone number.", number=self.number
                )
            )
        self.env["sms.sms"]._sms_center_post(
            self.gateway_id,
            self.body,
            number,
            sender_id=self.gateway_id.default_sender_id,
            gateway=self.gateway_id,
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._(
                    "Test SMS queued for %(number)s; its status appears in the "
                    "gateway's chatter.",
                    number=number,
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
