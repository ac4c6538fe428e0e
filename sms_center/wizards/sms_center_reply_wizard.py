from odoo import api, fields, models
from odoo.exceptions import UserError

from ..lib import gsm


class SmsCenterReplyWizard(models.TransientModel):
    """Composer for an answer by SMS, with length and part count (R6).

    Two steps in one dialog: writing (the answer box first, focused, with a
    live counter) and, once sent, a confirmation with the way to the next
    question that needs an answer.
    """

    _name = "sms_center.reply.wizard"
    _description = "Reply by SMS"

    state = fields.Selection(
        [("draft", "Writing"), ("sent", "Sent")], default="draft", required=True
    )
    ticket_id = fields.Many2one("helpdesk.ticket", required=True, readonly=True)
    keyword_id = fields.Many2one(related="ticket_id.sms_keyword_id")
    citizen = fields.Char(related="ticket_id.sms_sender_masked")
    question = fields.Html(related="ticket_id.description")
    question_text = fields.Text(
        string="Citizen's SMS", compute="_compute_question_text"
    )
    body = fields.Text(string="Answer", required=True)
    sender_id = fields.Char(string="Sender ID", compute="_compute_sender_id")
    gateway_warning = fields.Char(compute="_compute_gateway_warning")
    encoding = fields.Selection(
        [("gsm7", "GSM-7"), ("ucs2", "Unicode (UCS-2)")], compute="_compute_length"
    )
    char_count = fields.Integer(string="Characters", compute="_compute_length")
    part_count = fields.Integer(string="SMS parts", compute="_compute_length")
    length_info = fields.Char(compute="_compute_length")
    # --- after sending ---
    reply_id = fields.Many2one("sms_center.reply", string="Answer sent", readonly=True)
    reply_status = fields.Selection(
        related="ticket_id.sms_answer_status", string="Delivery"
    )
    sent_info = fields.Char(compute="_compute_sent_info")
    next_count = fields.Integer(
        string="Other SMS needing an answer", compute="_compute_next_count"
    )

    @api.depends("ticket_id")
    def _compute_sender_id(self):
        for wizard in self:
            keyword = wizard.ticket_id.sms_keyword_id
            wizard.sender_id = keyword._get_sender_id() if keyword else False

    @api.depends("ticket_id")
    def _compute_question_text(self):
        for wizard in self:
            messages = wizard.ticket_id.sms_message_ids.sorted(
                lambda m: (m.received_at, m.id)
            )
            wizard.question_text = "\n\n".join(m.text or "" for m in messages) or False

    @api.depends("ticket_id")
    def _compute_gateway_warning(self):
        Gateway = self.env["sms_center.gateway"]
        for wizard in self:
            number = wizard.ticket_id and wizard.ticket_id._sms_center_citizen_number()
            wizard.gateway_warning = (
                self.env._(
                    "No active SMS gateway can send to this number now. The answer "
                    "will wait for a gateway and go out as soon as one is "
                    "available; the administrators are told."
                )
                if number and not Gateway._route_outbound(number)
                else False
            )

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

    @api.depends("reply_id", "ticket_id")
    def _compute_sent_info(self):
        for wizard in self:
            reply = wizard.reply_id
            wizard.sent_info = reply and self.env._(
                "Your answer (%(parts)s SMS) to %(citizen)s is in the ticket's "
                "history; its delivery status shows on the ticket and in the inbox.",
                parts=reply.parts,
                citizen=wizard.citizen,
            )

    @api.depends("ticket_id", "state")
    def _compute_next_count(self):
        Ticket = self.env["helpdesk.ticket"]
        for wizard in self:
            wizard.next_count = (
                Ticket.search_count(
                    Ticket._sms_center_next_domain()
                    + [("id", "!=", wizard.ticket_id.id)]
                )
                if wizard.state == "sent"
                else 0
            )

    def action_send(self):
        self.ensure_one()
        ticket = self.ticket_id
        ticket.check_access("write")
        body = (self.body or "").strip()
        if not body:
            raise UserError(self.env._("Write an answer before sending."))
        if self.state != "draft":
            raise UserError(self.env._("This answer was sent already."))
        number = ticket._sms_center_citizen_number()
        if not number and ticket.sms_number_pseudonymised:
            raise UserError(
                self.env._(
                    "The citizen's number was pseudonymised (personal data "
                    "protection): no answer can be sent any more."
                )
            )
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
        self.write({"state": "sent", "reply_id": reply.id})
        # The same dialog shows the confirmation and the way to the next SMS.
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Answer sent"),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
        }

    def action_next(self):
        """Open the next question needing an answer."""
        self.ensure_one()
        return self.ticket_id.action_open_next_sms()
