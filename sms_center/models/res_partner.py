from odoo import api, fields, models

from ..lib import phone


class ResPartner(models.Model):
    _name = "res.partner"
    _inherit = ["res.partner", "sms_center.number.mask.mixin"]

    sms_center_citizen = fields.Boolean(
        string="SMS citizen",
        readonly=True,
        help="Contact created by the SMS Center for a citizen's number.",
    )
    sms_center_number_key = fields.Char(
        string="Number pseudonym",
        readonly=True,
        index="btree_not_null",
        groups="sms_center.group_secretariat",
        help="Keyed hash (HMAC) that replaced the citizen's number when it was "
        "pseudonymised.",
    )
    sms_center_pseudonymised_at = fields.Datetime(
        string="Number pseudonymised",
        readonly=True,
        copy=False,
        help="When the citizen's number was removed from this contact (retention "
        "period or the citizen's request).",
    )

    def init(self):
        res = super().init()
        # Retention: the citizens' contacts that still hold a number.
        self.env.cr.execute(
            """CREATE INDEX IF NOT EXISTS res_partner_sms_center_citizen_idx
               ON res_partner (id)
               WHERE sms_center_citizen AND sms_center_pseudonymised_at IS NULL"""
        )
        return res

    # ------------------------------------------------------------------
    # Masked numbers (sms_center.number.mask.mixin)
    # ------------------------------------------------------------------

    @api.model
    def _sms_center_masked_fields(self):
        return ["phone", "mobile", "phone_sanitized"]

    def _sms_center_masked_records(self):
        # Only citizens' numbers are masked; colleagues' and suppliers'
        # contacts are business data.
        # sudo: the flag decides what to mask, whoever reads.
        return self.sudo().filtered("sms_center_citizen").with_env(self.env)

    def _sms_center_reveal_values(self):
        self.ensure_one()
        # sudo: the numbers are read to be shown by the logged action.
        partner = self.sudo()
        return [n for n in (partner.mobile, partner.phone) if n]

    def write(self, vals):
        # A citizen's number shown masked (0812****432) that comes back from
        # a form is no new number: keep the stored one.
        if self.env.su or not {"phone", "mobile"} & set(vals):
            return super().write(vals)
        for fname in ("phone", "mobile"):
            value = vals.get(fname)
            if value and "*" in value:
                citizens = self._sms_center_masked_records()
                if citizens and all(
                    phone.mask(phone.to_e164(p.sudo()[fname]) or p.sudo()[fname])
                    == value
                    for p in citizens
                ):
                    vals = {k: v for k, v in vals.items() if k != fname}
        return super().write(vals)
