from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    sms_center_citizen = fields.Boolean(
        string="SMS citizen",
        readonly=True,
        help="Contact created by the SMS Center for a citizen's number.",
    )
