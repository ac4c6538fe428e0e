from odoo import api, fields, models
from odoo.exceptions import UserError


class HelpdeskTicket(models.Model):
    """A citizen's SMS in an officer's inbox (R3, R5, R6)."""

    _inherit = "helpdesk.ticket"

    sms_keyword_id = fields.Many2one(
        "sms_center.keyword",
        string="Keyword",
        readonly=True,
        index="btree_not_null",
        ondelete="restrict",
        tracking=True,
    )
    sms_message_ids = fields.One2many(
        "sms_center.message", "ticket_id", string="Citizen's SMS", readonly=True
    )
    sms_reply_ids = fields.One2many(
        "sms_center.reply", "ticket_id", string="Answers", readonly=True
    )
    sms_sender_masked = fields.Char(string="Citizen", readonly=True)
    sms_received_at = fields.Datetime(string="Received", readonly=True, index=True)
    sms_answered = fields.Boolean(
        string="Answered", readonly=True, index=True, copy=False
    )
    sms_first_answer_at = fields.Datetime(
        string="First answer", readonly=True, copy=False
    )
    sms_answer_count = fields.Integer(
        compute="_compute_sms_answer_count", string="Answers sent"
    )
    sms_last_reply_state = fields.Selection(
        related="sms_reply_ids.sms_state", string="Last answer status"
    )
    sms_publication_excluded = fields.Boolean(
        string="Not for publication",
        compute="_compute_sms_publication_excluded",
        store=True,
        help="A message of this ticket was marked spam, not substantive or "
        "excluded from publication by the secretariat.",
    )

    def init(self):
        res = super().init()
        # Follow-up SMS look for the open ticket of the same citizen.
        self.env.cr.execute(
            """CREATE INDEX IF NOT EXISTS helpdesk_ticket_sms_partner_idx
               ON helpdesk_ticket (partner_id, sms_received_at)
               WHERE sms_keyword_id IS NOT NULL"""
        )
        return res

    @api.depends("sms_reply_ids")
    def _compute_sms_answer_count(self):
        counts = dict(
            self.env["sms_center.reply"]._read_group(
                [("ticket_id", "in", self.ids)], ["ticket_id"], ["__count"]
            )
        )
        for ticket in self:
            ticket.sms_answer_count = counts.get(ticket, 0)

    @api.depends("sms_message_ids.moderation_state")
    def _compute_sms_publication_excluded(self):
        for ticket in self:
            ticket.sms_publication_excluded = any(
                state != "ok"
                for state in ticket.sms_message_ids.mapped("moderation_state")
            )

    def write(self, vals):
        if "description" in vals and self.filtered("sms_keyword_id"):
            raise UserError(
                self.env._(
                    "The description of an SMS ticket is the citizen's own text and "
                    "cannot be changed (Pasal 11e). Use internal notes instead."
                )
            )
        return super().write(vals)

    def action_open_sms_reply(self):
        self.ensure_one()
        if not self.sms_keyword_id:
            raise UserError(self.env._("This ticket did not come from an SMS."))
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Reply by SMS"),
            "res_model": "sms_center.reply.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_ticket_id": self.id},
        }

    def _sms_center_citizen_number(self):
        """E.164 number to answer, from the first SMS of the ticket."""
        self.ensure_one()
        # sudo: officers answer without seeing the citizen's number (R5).
        messages = self.sudo().sms_message_ids.sorted("received_at")
        return messages[:1].sender_e164 or False

    def _sms_center_mark_answered(self):
        """First answer: record when, move to the Answered stage."""
        stage = self.env.ref("sms_center.helpdesk_ticket_stage_answered")
        now = fields.Datetime.now()
        for ticket in self:
            vals = {}
            if not ticket.sms_answered:
                vals.update(sms_answered=True, sms_first_answer_at=now)
            if ticket.stage_id != stage and not ticket.stage_id.closed:
                vals["stage_id"] = stage.id
            if vals:
                ticket.write(vals)
