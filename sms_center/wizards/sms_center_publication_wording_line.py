from odoo import fields, models


class SmsCenterPublicationWordingLine(models.TransientModel):
    """One answer in the published wording wizard."""

    _name = "sms_center.publication.wording.line"
    _description = "Published wording of an SMS answer"

    wizard_id = fields.Many2one(
        "sms_center.publication.wording", required=True, ondelete="cascade"
    )
    reply_id = fields.Many2one("sms_center.reply", string="Answer", required=True)
    original = fields.Text(string="Answer sent", related="reply_id.body")
    date = fields.Datetime(related="reply_id.create_date", string="Sent on")
    wording = fields.Text(
        string="Published wording",
        help="Empty: the website shows the answer sent.",
    )
