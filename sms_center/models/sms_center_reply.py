from odoo import api, fields, models
from odoo.exceptions import UserError

from ..lib import gsm, masking, phone, pseudonym


class SmsCenterReply(models.Model):
    """An officer's answer to a citizen, sent by SMS (R6, R7)."""

    _name = "sms_center.reply"
    _description = "SMS Answer"
    _inherit = ["sms_center.sms.status.mixin", "sms_center.number.mask.mixin"]
    _order = "id desc"

    ticket_id = fields.Many2one(
        "helpdesk.ticket", required=True, readonly=True, index=True, ondelete="cascade"
    )
    keyword_id = fields.Many2one(
        related="ticket_id.sms_keyword_id", store=True, index=True
    )
    author_id = fields.Many2one(
        "res.users",
        string="Answered by",
        readonly=True,
        default=lambda self: self.env.user,
    )
    body = fields.Text(string="Answer", required=True, readonly=True)
    number = fields.Char(readonly=True, groups="sms_center.group_secretariat")
    sender_id = fields.Char(string="Sender ID", readonly=True)
    encoding = fields.Selection(
        [("gsm7", "GSM-7"), ("ucs2", "Unicode (UCS-2)")], readonly=True
    )
    parts = fields.Integer(string="SMS parts", readonly=True)
    mail_message_id = fields.Many2one(
        "mail.message", readonly=True, ondelete="set null"
    )
    send_count = fields.Integer(string="Times sent", readonly=True, default=0)
    # --- publication (R12): the answer as the website shows it ---
    published_wording = fields.Text(
        string="Published wording",
        readonly=True,
        copy=False,
        help="Shown on the website instead of the answer sent, which stays "
        "unchanged. Personal data is masked in both.",
    )
    published_wording_uid = fields.Many2one(
        "res.users", string="Published wording by", readonly=True, copy=False
    )
    published_wording_date = fields.Datetime(
        string="Published wording on", readonly=True, copy=False
    )
    public_body = fields.Text(
        string="Published answer",
        compute="_compute_public_body",
        store=True,
        help="The answer as the website shows it, with personal data masked.",
    )

    @api.depends("body", "published_wording")
    def _compute_public_body(self):
        for reply in self:
            reply.public_body = (
                masking.mask_personal_data(reply.published_wording or reply.body or "")
                or False
            )

    @api.model
    def _sms_center_masked_fields(self):
        return ["number"]

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            length = gsm.measure(vals.get("body") or "")
            vals.setdefault("encoding", length.encoding)
            vals.setdefault("parts", length.parts)
        return super().create(vals_list)

    def _send(self):
        """Queue the answer as an SMS posted in the ticket's chatter."""
        for reply in self:
            # sudo: the citizen's number is hidden from officers (R5).
            number = reply.sudo().number
            sms = self.env["sms.sms"]._sms_center_post(
                reply.ticket_id, reply.body, number, sender_id=reply.sender_id
            )
            # sudo: answers are read-only records for officers; only the
            # sending machinery updates them.
            reply.sudo().write(
                {
                    "mail_message_id": sms.mail_message_id.id,
                    "send_count": reply.send_count + 1,
                }
            )
            # sudo: answers are read-only for officers (see above).
            reply.sudo()._sms_status_track(sms)
            reply._sms_center_wait_without_gateway(sms)

    def _sms_center_wait_without_gateway(self, sms):
        """No active gateway sends to the citizen's number: show the answer
        as waiting for a gateway (and tell the administrators) as it is sent,
        not as "being sent" until the queue worker's next run."""
        Gateway = self.env["sms_center.gateway"]
        gateways = Gateway._outbound_gateways()
        number = phone.to_e164(sms.number)
        if not number or Gateway._route_outbound(number, gateways):
            return
        # sudo: the queue is system-only; the SMS was created just now in this
        # transaction, so no worker holds it.
        sms.sudo()._sms_center_route(gateways)

    def action_resend(self):
        """Send a failed answer again (R7)."""
        for reply in self:
            if reply.sms_state != "failed":
                raise UserError(self.env._("Only failed answers can be sent again."))
            reply.ticket_id.check_access("write")
            # sudo: the number is hidden from officers (R5).
            if pseudonym.is_pseudonym(reply.sudo().number):
                raise UserError(
                    self.env._(
                        "The citizen's number was pseudonymised (personal data "
                        "protection): this answer cannot be sent again."
                    )
                )
        self._send()
        return True
