from odoo import fields, models


class SmsCenterMessageModerate(models.TransientModel):
    """Mark SMS as spam, not substantive or excluded from publication (R11)."""

    _name = "sms_center.message.moderate"
    _description = "Moderate SMS"

    message_ids = fields.Many2many("sms_center.message", required=True)
    moderation_state = fields.Selection(
        [
            ("spam", "Spam"),
            ("not_substantive", "Not substantive"),
            ("excluded", "Excluded from publication"),
        ],
        string="Mark as",
        required=True,
        default="excluded",
    )
    reason = fields.Text(
        required=True,
        help="E.g. offensive, SARA, contains personal data, advertisement.",
    )

    def action_apply(self):
        self.ensure_one()
        self.message_ids._check_secretariat()
        self.message_ids.write(
            {
                "moderation_state": self.moderation_state,
                "moderation_reason": self.reason,
            }
        )
        return {"type": "ir.actions.act_window_close"}
