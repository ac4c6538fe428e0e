from textwrap import shorten

from odoo import api, fields, models

from ..lib import masking


class SmsCenterPublicationWording(models.TransientModel):
    """The secretariat sets the published wording of a question and its
    answers (e.g. to remove a name); the citizen's and the officer's texts
    stay as they were (Pasal 11 huruf e, R12)."""

    _name = "sms_center.publication.wording"
    _description = "Published wording of an SMS question"

    ticket_id = fields.Many2one("helpdesk.ticket", required=True, readonly=True)
    question_original = fields.Text(
        string="Citizen's text", compute="_compute_question_original"
    )
    question_wording = fields.Text(
        string="Published wording of the question",
        help="Empty: the website shows the citizen's text. Personal data is "
        "masked automatically in both.",
    )
    line_ids = fields.One2many(
        "sms_center.publication.wording.line", "wizard_id", string="Answers"
    )
    public_preview = fields.Text(
        string="Question as published", compute="_compute_public_preview"
    )

    @api.model
    def default_get(self, fields_list):
        res = super().default_get(fields_list)
        ticket = self.env["helpdesk.ticket"].browse(res.get("ticket_id")).exists()
        if ticket:
            res.update(self._values_from_ticket(ticket))
        return res

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            ticket = self.env["helpdesk.ticket"].browse(vals.get("ticket_id"))
            ticket._sms_check_secretariat()
            for key, value in self._values_from_ticket(ticket).items():
                vals.setdefault(key, value)
        return super().create(vals_list)

    @api.model
    def _values_from_ticket(self, ticket):
        ticket._sms_check_secretariat()
        replies = ticket.sms_reply_ids.sorted(lambda r: (r.create_date, r.id))
        return {
            "question_wording": ticket.sms_question_wording,
            "line_ids": [
                (0, 0, {"reply_id": reply.id, "wording": reply.published_wording})
                for reply in replies
            ],
        }

    @api.depends("ticket_id")
    def _compute_question_original(self):
        for wizard in self:
            messages = wizard.ticket_id.sms_message_ids.sorted(
                lambda m: (m.received_at, m.id)
            )
            wizard.question_original = "\n".join(
                body for body in ((m.body or "").strip() for m in messages) if body
            )

    @api.depends("question_wording", "question_original")
    def _compute_public_preview(self):
        for wizard in self:
            wizard.public_preview = masking.mask_personal_data(
                wizard.question_wording or wizard.question_original or ""
            )

    def action_apply(self):
        self.ensure_one()
        ticket = self.ticket_id
        ticket._sms_check_secretariat()
        wording = (self.question_wording or "").strip() or False
        if wording != (ticket.sms_question_wording or False):
            # sudo: publication fields are the secretariat's, checked above.
            ticket.sudo().write({"sms_question_wording": wording})
        now = fields.Datetime.now()
        for line in self.line_ids:
            reply = line.reply_id
            wording = (line.wording or "").strip() or False
            if reply.ticket_id != ticket or wording == (
                reply.published_wording or False
            ):
                continue
            # sudo: answers are read-only records for users; only their
            # published wording changes, next to the answer sent.
            reply.sudo().write(
                {
                    "published_wording": wording,
                    "published_wording_uid": self.env.uid,
                    "published_wording_date": now,
                }
            )
            ticket.message_post(
                body=self.env._(
                    'Published wording of the answer "%(answer)s" set by '
                    "%(user)s: %(wording)s",
                    answer=shorten(reply.body or "", 60, placeholder="…"),
                    user=self.env.user.name,
                    wording=wording
                    or self.env._("(none: the answer sent is published)"),
                ),
                subtype_xmlid="mail.mt_note",
            )
        return {"type": "ir.actions.act_window_close"}
