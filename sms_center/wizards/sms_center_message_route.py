from odoo import fields, models


class SmsCenterMessageRoute(models.TransientModel):
    """The secretariat routes an SMS with an unknown keyword by hand (R4)."""

    _name = "sms_center.message.route"
    _description = "Route SMS to a Keyword"

    message_ids = fields.Many2many("sms_center.message", required=True)
    keyword_id = fields.Many2one("sms_center.keyword", required=True)

    def action_route(self):
        self.ensure_one()
        self.message_ids._route_manually(self.keyword_id)
        return {"type": "ir.actions.act_window_close"}
