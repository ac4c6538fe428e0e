from odoo import api, fields, models
from odoo.exceptions import UserError


class SmsCenterKeywordTransfer(models.TransientModel):
    """Hand a keyword and its open messages to a successor (R1)."""

    _name = "sms_center.keyword.transfer"
    _description = "Transfer Keyword to Successor"

    keyword_id = fields.Many2one("sms_center.keyword", required=True)
    from_officer_id = fields.Many2one(
        "sms_center.officer",
        string="Former officer",
        required=True,
        domain="[('id', 'in', current_officer_ids)]",
    )
    current_officer_ids = fields.Many2many(related="keyword_id.officer_ids")
    to_officer_id = fields.Many2one(
        "sms_center.officer",
        string="Successor",
        required=True,
        domain="[('id', '!=', from_officer_id)]",
    )
    note = fields.Char(help="Reason, e.g. the decree of the organisation change.")

    @api.onchange("keyword_id")
    def _onchange_keyword_id(self):
        if len(self.keyword_id.officer_ids) == 1:
            self.from_officer_id = self.keyword_id.officer_ids

    def action_transfer(self):
        self.ensure_one()
        if self.from_officer_id == self.to_officer_id:
            raise UserError(self.env._("The successor must be another officer."))
        self.keyword_id._transfer(self.from_officer_id, self.to_officer_id, self.note)
        return {"type": "ir.actions.act_window_close"}
