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
    close_tickets = fields.Boolean(
        string="Close their tickets",
        default=True,
        help="Nobody answers spam: the open tickets whose every SMS is spam go "
        "to the Rejected stage and leave the officers' inboxes and reminders. "
        "Restoring an SMS does not reopen its ticket; move it to another stage "
        "to reopen it.",
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
        if self.moderation_state == "spam" and self.close_tickets:
            self.message_ids._close_spam_tickets()
        return {"type": "ir.actions.act_window_close"}
