from odoo import api, fields, models
from odoo.exceptions import UserError

from ..lib import gsm


class SmsCenterReplyWizard(models.TransientModel):
    """Composer for an answer by SMS, with length and part count (R6)."""

    _name = "sms_center.reply.wizard"
    _description = "Reply by SMS"

    ticket_id = fields.Many2one("helpdesk.ticket", required=True, readonly=True)
    keyword_id = fields.Many2one(related="ticket_id.sms_keyword_id")
    citizen = fields.Char(related="ticket_id.sms_sender_masked")
    question = fields.Html(related="ticket_id.description")
    body = fields.Text(string="Answer", required=True)
    sender_id = fields.Char(string="Sender ID", compute="_compute_sender_id")
    encoding = fields.Selection(
        [("gsm7", "GSM-7"), ("ucs2", "Unicode (UCS-2)")], compute="_compute_length"
    )
    char_count = fields.Integer(string="Characters", compute="_compute_length")
    part_count = fields.Integer(string="SMS parts", compute="_compute_length")
    length_info = fields.Char(compute="_compute_length")

    @api.depends("ticket_id")
    def _compute_sender_id(self):
        for wizard in self:
            keyword = wizard.ticket_id.sms_keyword_id
            wizard.sender_id = keyword._get_sender_id() if keyword else False

    @api.depends("body")
    def _compute_length(self):
        for wizard in self:
            length = gsm.measure(wizard.body or "")
            wizard.encoding = length.encoding
            wizard.char_count = length.units
            wizard.part_count = length.parts
            wizard.length_info = self.env._(
                "%(chars)s characters, %(parts)s SMS "
                "(%(encoding)s, %(per_part)s per SMS)",
                chars=length.units,
                parts=length.parts,
                encoding="GSM-7" if length.encoding == "gsm7" else "Unicode",
                per_part=length.per_part,
            )

    def action_send(self):
        self.ensure_one()
        ticket = self.ticket_id
        ticket.check_access("write")
        body = (self.body or "").strip()
        if not body:
            raise UserError(self.env._("Write an answer before sending."))
        number = ticket._sms_center_citizen_number()
        if not number:
            raise UserError(self.env._("This ticket has no citizen number to answer."))
        # sudo: the answer record stores the citizen's number, which the
        # officer may not read (R5); access to the ticket was checked above.
        reply = (
            self.env["sms_center.reply"]
            .sudo()
            .create(
                {
                    "ticket_id": ticket.id,
                    "author_id": self.env.user.id,
                    "body": body,
                    "number": number,
                    "sender_id": self.sender_id,
                }
            )
        )
        reply.with_user(self.env.user)._send()
        ticket._sms_center_mark_answered()
        return {"type": "ir.actions.act_window_close"}
