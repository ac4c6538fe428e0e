from odoo import api, models


class MailNotification(models.Model):
    """SMS notifications hold the number each SMS went to; Odoo lets every
    employee read them: shown masked (sms_center.number.mask.mixin)."""

    _name = "mail.notification"
    _inherit = ["mail.notification", "sms_center.number.mask.mixin"]

    @api.model
    def _sms_center_masked_fields(self):
        return ["sms_number"]
