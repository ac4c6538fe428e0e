import logging
import secrets
from datetime import timedelta

import psycopg2

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools.sql import create_index

from ..lib import masking, pseudonym, ticket_reference
from ..tools.deadline import (
    DEFAULT_DEADLINE_HOURS,
    DUE_SOON,
    plan_working_hours,
    regency_tz,
    to_local,
    working_minutes,
)

_logger = logging.getLogger(__name__)

# Fields only the secretariat (or the system) may write (R12).
PUBLICATION_FIELDS = frozenset(
    {
        "sms_publication_state",
        "sms_published_at",
        "sms_publish_after",
        "sms_question_wording",
        "sms_question_wording_uid",
        "sms_question_wording_date",
    }
)
PUBLICATION_BATCH = 500
SLUG_LENGTH = 60


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
    sms_reference = fields.Char(
        string="SMS code",
        readonly=True,
        copy=False,
        help="Short code the citizen received with the receipt (e.g. D482) and "
        "sends after CEK to ask the status. Unique; not guessable from other "
        "citizens' codes.",
    )
    # Search by code as a citizen dictates it ("#d 482"): see _search_...
    sms_reference_typed = fields.Char(
        string="SMS code as typed",
        compute="_compute_sms_reference_typed",
        search="_search_sms_reference_typed",
    )
    sms_number_pseudonymised = fields.Boolean(
        string="Number pseudonymised",
        compute="_compute_sms_number_pseudonymised",
        help="The citizen's number was replaced by its pseudonym (retention "
        "period or the citizen's request): no answer can be sent any more.",
    )
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
    # Delivery of the latest answer, next to "answered" (R7): the deadline
    # counts the officer's answer, the citizen counts on its delivery.
    sms_answer_status = fields.Selection(
        [
            ("waiting", "Waiting for a gateway"),
            ("pending", "Being sent"),
            ("sent", "Sent"),
            ("delivered", "Delivered"),
            ("failed", "Not delivered"),
        ],
        string="Answer delivery",
        compute="_compute_sms_answer_status",
        store=True,
        help="Status of the latest answer's SMS: waiting for a gateway, being "
        "sent, sent (accepted by the gateway), delivered to the phone, or not "
        "delivered (resend it).",
    )
    sms_answer_failure_reason = fields.Char(
        string="Why the answer failed",
        compute="_compute_sms_answer_status",
        store=True,
    )
    sms_needs_action = fields.Boolean(
        string="Needs action",
        compute="_compute_sms_needs_action",
        store=True,
        index=True,
        help="Waiting for an answer, or its latest answer was not delivered.",
    )
    sms_simulated = fields.Boolean(
        string="Simulated",
        readonly=True,
        help="Created from the SMS simulator (training): never published.",
    )
    sms_publication_excluded = fields.Boolean(
        string="Excluded from publication",
        compute="_compute_sms_publication_excluded",
        store=True,
        help="A message of this ticket was marked spam, not substantive or "
        "excluded from publication by the secretariat.",
    )
    # --- answer deadline and compliance (R9, Pasal 13) ---

    sms_deadline = fields.Datetime(
        string="Answer deadline",
        compute="_compute_sms_deadline",
        store=True,
        copy=False,
        help="Reception time plus the answer deadline of the settings (3 hours "
        "by default), in clock hours or office working hours.",
    )
    sms_deadline_calendar_id = fields.Many2one(
        "resource.calendar",
        string="Deadline counted in",
        compute="_compute_sms_deadline",
        store=True,
        copy=False,
        help="Working calendar the deadline was counted in; empty: clock hours.",
    )
    sms_awaiting_answer = fields.Boolean(
        string="Awaiting answer",
        compute="_compute_sms_awaiting_answer",
        store=True,
        help="SMS ticket not answered yet, not closed and not archived.",
    )
    sms_escalated_at = fields.Datetime(
        string="Escalated",
        readonly=True,
        copy=False,
        help="When the overdue ticket was escalated to the secretariat.",
    )
    sms_response_minutes = fields.Integer(
        string="Response time (minutes)",
        compute="_compute_sms_response",
        store=True,
        aggregator="avg",
        help="Clock minutes from reception to the first answer (0 until answered).",
    )
    sms_response_working_minutes = fields.Integer(
        string="Response time (working minutes)",
        compute="_compute_sms_response",
        store=True,
        aggregator="avg",
        help="Working minutes of the deadline calendar from reception to the first "
        "answer; only when the deadline counts office working hours.",
    )
    sms_answered_in_time = fields.Boolean(
        string="Answered in time",
        compute="_compute_sms_response",
        store=True,
        help="The first answer was sent before the deadline.",
    )
    sms_compliance = fields.Selection(
        [
            ("open", "Open"),
            ("overdue", "Overdue"),
            ("in_time", "Answered in time"),
            ("late", "Answered late"),
            ("closed", "Closed unanswered"),
        ],
        string="Deadline compliance",
        compute="_compute_sms_compliance",
        store=True,
        help="Overdue: escalated after passing the deadline unanswered.",
    )
    # --- reporting (R13): the SMS that opened the ticket, its local day and
    # moderation, on the ticket itself so that the Inbound SMS analysis
    # reads one table per row instead of joining two large ones ---
    sms_message_id = fields.Many2one(
        "sms_center.message",
        string="Opening SMS",
        compute="_compute_sms_message_id",
        store=True,
        index="btree_not_null",
    )
    sms_received_date = fields.Date(
        string="Received on",
        compute="_compute_sms_received_date",
        store=True,
        # Indexed, with what the analysis reads, by the Inbound SMS analysis.
        help="Day of reception in the regency's time zone.",
    )
    sms_not_substantive = fields.Boolean(
        string="Spam or not substantive",
        compute="_compute_sms_not_substantive",
        store=True,
        help="The secretariat marked the SMS that opened the ticket as spam or not "
        "substantive: it is not counted among the questions to answer.",
    )
    # Live state for the inbox, relative to now: never stored.
    sms_deadline_state = fields.Selection(
        [
            ("on_time", "On time"),
            ("due_soon", "Due soon"),
            ("overdue", "Overdue"),
            ("done", "Done"),
        ],
        string="Deadline state",
        compute="_compute_sms_time_left",
    )
    sms_time_left = fields.Char(string="Time left", compute="_compute_sms_time_left")
    sms_overdue = fields.Boolean(
        string="Overdue",
        compute="_compute_sms_time_left",
        search="_search_sms_overdue",
    )

    # --- publication on the website (R12, Pasal 9 huruf b, 12 ayat (9)) ---
    sms_publication_state = fields.Selection(
        [
            ("pending", "Not answered yet"),
            ("scheduled", "Scheduled"),
            ("to_approve", "To publish"),
            ("published", "Published"),
            ("unpublished", "Unpublished"),
            ("excluded", "Excluded from publication"),
        ],
        string="Publication",
        readonly=True,
        copy=False,
        index=True,
        tracking=True,
        help="Scheduled: published automatically at the time shown. To publish: "
        "waits for the secretariat's approval. Unpublished: withdrawn by the "
        "secretariat. Excluded: an SMS of the ticket was marked spam, not "
        "substantive or excluded from publication.",
    )
    sms_published_at = fields.Datetime(string="Published on", readonly=True, copy=False)
    sms_publish_after = fields.Datetime(
        string="To be published at", readonly=True, copy=False
    )
    sms_question_wording = fields.Text(
        string="Published wording of the question",
        readonly=True,
        copy=False,
        tracking=True,
        help="Shown on the website instead of the citizen's text, which stays "
        "unchanged (Pasal 11 huruf e). Personal data is masked in both.",
    )
    sms_question_wording_uid = fields.Many2one(
        "res.users", string="Question wording by", readonly=True, copy=False
    )
    sms_question_wording_date = fields.Datetime(
        string="Question wording on", readonly=True, copy=False
    )
    sms_public_question = fields.Text(
        string="Published question",
        compute="_compute_sms_public_question",
        store=True,
        help="The question as the website shows it: the published wording or "
        "the citizen's text after the keyword, with personal data masked.",
    )
    sms_public_slug = fields.Char(
        string="Web address name", compute="_compute_sms_public_question", store=True
    )
    sms_public_url = fields.Char(
        string="Page on the website", compute="_compute_sms_public_url"
    )
    # Accent-folded text of the published question and answers: the source
    # of the full-text search column (see init()).
    sms_public_document = fields.Text(
        string="Published text for the search",
        compute="_compute_sms_public_document",
        store=True,
        prefetch=False,
    )

    def init(self):
        res = super().init()
        cr = self.env.cr
        # Follow-up SMS look for the open ticket of the same citizen.
        cr.execute(
            """CREATE INDEX IF NOT EXISTS helpdesk_ticket_sms_partner_idx
               ON helpdesk_ticket (partner_id, sms_received_at)
               WHERE sms_keyword_id IS NOT NULL"""
        )
        # Escalation cron: only open tickets never escalated, by deadline.
        cr.execute(
            """CREATE INDEX IF NOT EXISTS helpdesk_ticket_sms_escalation_idx
               ON helpdesk_ticket (sms_deadline)
               WHERE sms_awaiting_answer AND sms_escalated_at IS NULL"""
        )
        # Daily reminder and "Overdue" filter: the backlog, not the history.
        cr.execute(
            """CREATE INDEX IF NOT EXISTS helpdesk_ticket_sms_awaiting_idx
               ON helpdesk_ticket (sms_keyword_id, sms_deadline)
               WHERE sms_awaiting_answer"""
        )
        # Citizens' SMS codes: unique, looked up by CEK.
        cr.execute(
            """CREATE UNIQUE INDEX IF NOT EXISTS helpdesk_ticket_sms_reference_uniq
               ON helpdesk_ticket (sms_reference) WHERE sms_reference IS NOT NULL"""
        )
        # Counter behind the codes (see lib/ticket_reference.py). Not an
        # ir.sequence: its next number can be edited in the interface, and
        # a counter going back would give codes again.
        cr.execute("CREATE SEQUENCE IF NOT EXISTS sms_center_ticket_reference_seq")
        self._sms_publication_init()
        return res

    @api.model_create_multi
    def create(self, vals_list):
        missing = [
            vals
            for vals in vals_list
            if vals.get("sms_keyword_id") and not vals.get("sms_reference")
        ]
        references = self._sms_center_new_references(len(missing))
        for vals, reference in zip(missing, references, strict=True):
            vals["sms_reference"] = reference
        for vals in vals_list:
            if vals.get("sms_keyword_id"):
                vals.setdefault("sms_publication_state", "pending")
        return super().create(vals_list)

    @api.model
    def _sms_center_reference_key(self):
        """The database's secret key of the SMS codes (created once)."""
        # sudo: the key is a system parameter nobody else may read.
        ICP = self.env["ir.config_parameter"].sudo()
        key = ICP.get_param("sms_center.reference_key")
        if not key:
            key = secrets.token_hex(32)
            ICP.set_param("sms_center.reference_key", key)
        return key

    @api.model
    def _sms_center_new_reference(self):
        """A new SMS code (see :meth:`_sms_center_new_references`)."""
        return self._sms_center_new_references(1)[0]

    @api.model
    def _sms_center_new_references(self, count):
        """``count`` new SMS codes: the next counter values through the keyed
        permutation, hence unique without any lock or retry, in two queries
        whatever ``count`` (the router creates tickets in batches). They are
        checked all the same, should the key or the counter ever be reset by
        hand."""
        if count <= 0:
            return []
        key = self._sms_center_reference_key()
        cr = self.env.cr
        references = []
        for _attempt in range(100):
            cr.execute(
                """SELECT nextval('sms_center_ticket_reference_seq')
                     FROM generate_series(1, %s)""",
                [count - len(references)],
            )
            candidates = [
                ticket_reference.reference_for(key, row[0]) for row in cr.fetchall()
            ]
            cr.execute(
                "SELECT sms_reference FROM helpdesk_ticket WHERE sms_reference IN %s",
                [tuple(candidates)],
            )
            taken = {row[0] for row in cr.fetchall()}
            references += [
                reference
                for reference in candidates
                if reference not in taken and reference not in references
            ]
            if len(references) >= count:
                return references[:count]
        raise UserError(
            self.env._(
                "No free SMS code found: the key or counter of the SMS codes was "
                "changed by hand."
            )
        )

    @api.model
    def _sms_center_init_references(self):
        """Install and upgrade: create the key, give a code to SMS tickets
        created before codes existed (plain SQL: no tracking, any volume)."""
        self._sms_center_reference_key()
        self.flush_model(["sms_reference", "sms_keyword_id"])
        cr = self.env.cr
        cr.execute(
            """SELECT id FROM helpdesk_ticket
                WHERE sms_keyword_id IS NOT NULL AND sms_reference IS NULL
                ORDER BY id"""
        )
        ids = [row[0] for row in cr.fetchall()]
        for ticket_id in ids:
            cr.execute(
                "UPDATE helpdesk_ticket SET sms_reference = %s WHERE id = %s",
                [self._sms_center_new_reference(), ticket_id],
            )
        if ids:
            _logger.info("SMS codes given to %s existing SMS tickets", len(ids))
            self.invalidate_model(["sms_reference"])

    @api.depends("sms_reference")
    def _compute_sms_reference_typed(self):
        for ticket in self:
            ticket.sms_reference_typed = ticket.sms_reference

    def _search_sms_reference_typed(self, operator, value):
        if operator not in ("=", "ilike") or not isinstance(value, str):
            raise UserError(self.env._("Search SMS codes with a text only."))
        reference = ticket_reference.normalize(value)
        if reference:
            return [("sms_reference", "=", reference)]
        return [("sms_reference", "ilike", value.replace("#", "").strip())]

    @api.depends("sms_reply_ids")
    def _compute_sms_answer_count(self):
        counts = dict(
            self.env["sms_center.reply"]._read_group(
                [("ticket_id", "in", self.ids)], ["ticket_id"], ["__count"]
            )
        )
        for ticket in self:
            ticket.sms_answer_count = counts.get(ticket, 0)

    @api.depends("sms_message_ids.state")
    def _compute_sms_message_id(self):
        for ticket in self:
            routed = ticket.sms_message_ids.filtered(lambda m: m.state == "routed")
            ticket.sms_message_id = routed.sorted("id")[:1]

    @api.depends("sms_received_at")
    def _compute_sms_received_date(self):
        tz = regency_tz(self.env)
        for ticket in self:
            ticket.sms_received_date = (
                to_local(ticket.sms_received_at, tz).date()
                if ticket.sms_received_at
                else False
            )

    @api.depends("sms_message_id.moderation_state")
    def _compute_sms_not_substantive(self):
        for ticket in self:
            ticket.sms_not_substantive = ticket.sms_message_id.moderation_state in (
                "spam",
                "not_substantive",
            )

    @api.depends(
        "sms_reply_ids.sms_state",
        "sms_reply_ids.sms_delivered",
        "sms_reply_ids.sms_failure_reason",
    )
    def _compute_sms_answer_status(self):
        for ticket in self:
            # sudo: the status of the answers is shown to whoever reads the
            # ticket; answers are ordered newest first.
            latest = ticket.sudo().sms_reply_ids[:1]
            status = latest.sms_state or False
            if status == "sent" and latest.sms_delivered:
                status = "delivered"
            ticket.sms_answer_status = status
            ticket.sms_answer_failure_reason = (
                latest.sms_failure_reason if status == "failed" else False
            )

    @api.depends("sms_awaiting_answer", "sms_answer_status", "stage_id", "active")
    def _compute_sms_needs_action(self):
        answered_stage = self.env.ref(
            "sms_center.helpdesk_ticket_stage_answered", raise_if_not_found=False
        )
        for ticket in self:
            failed = (
                ticket.sms_answer_status == "failed"
                and ticket.active
                # Closed on purpose by the secretariat: nothing to do.
                and (not ticket.stage_id.closed or ticket.stage_id == answered_stage)
            )
            ticket.sms_needs_action = bool(ticket.sms_awaiting_answer or failed)

    @api.depends("sms_message_ids.moderation_state")
    def _compute_sms_publication_excluded(self):
        for ticket in self:
            ticket.sms_publication_excluded = any(
                state != "ok"
                for state in ticket.sms_message_ids.mapped("moderation_state")
            )

    def write(self, vals):
        sms_tickets = self.filtered("sms_keyword_id")
        if "description" in vals and sms_tickets:
            raise UserError(
                self.env._(
                    "The description of an SMS ticket is the citizen's own text and "
                    "cannot be changed (Pasal 11e). Use internal notes instead."
                )
            )
        if PUBLICATION_FIELDS.intersection(vals):
            # Officers may write their tickets, but publication is the
            # secretariat's decision (R12).
            if not self.env.su:
                self._sms_check_secretariat()
            if "sms_question_wording" in vals:
                vals = dict(
                    vals,
                    sms_question_wording=vals["sms_question_wording"] or False,
                    sms_question_wording_uid=self.env.uid,
                    sms_question_wording_date=fields.Datetime.now(),
                )
        if sms_tickets and not self.env.su:
            sms_tickets._sms_center_check_write(vals)
        return super().write(vals)

    def _track_template(self, tracking):
        res = super()._track_template(tracking)
        # Citizens hear from the center by SMS only: no helpdesk stage e-mail
        # to an SMS ticket's contact (who has a number, not an address).
        if self[:1].sms_keyword_id:
            res.pop("stage_id", None)
        return res

    def _sms_center_check_write(self, vals):
        """What users may not do to an SMS ticket (the system may)."""
        if "name" in vals and not self.env.user.has_group("sms_center.group_admin"):
            raise UserError(
                self.env._(
                    "The title of an SMS ticket is taken from the citizen's SMS "
                    "and cannot be changed. Use internal notes instead."
                )
            )
        if not vals.get("stage_id"):
            return
        stage = self.env["helpdesk.ticket.stage"].browse(vals["stage_id"])
        answered_stage = self.env.ref("sms_center.helpdesk_ticket_stage_answered")
        for ticket in self:
            # sudo: answers are counted whoever moves the ticket.
            answers = ticket.sudo().sms_reply_ids
            if stage == answered_stage and not answers:
                raise UserError(
                    self.env._(
                        "%(ticket)s has no answer yet: use Reply by SMS. The "
                        "ticket moves to Answered by itself once the answer is "
                        "sent.",
                        ticket=ticket.number,
                    )
                )
            if (
                stage.closed
                and not answers
                and not self.env.user.has_group("sms_center.group_secretariat")
            ):
                raise UserError(
                    self.env._(
                        "%(ticket)s has no answer yet. Only the secretariat closes "
                        "an SMS without answering it (for example spam).",
                        ticket=ticket.number,
                    )
                )

    def action_open_sms_reply(self):
        self.ensure_one()
        if not self.sms_keyword_id:
            raise UserError(self.env._("This ticket did not come from an SMS."))
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Reply by SMS"),
            "res_model": "sms_center.reply.wizard",
            "view_mode": "form",
            "views": [
                (
                    self.env.ref("sms_center.view_sms_center_reply_wizard_form").id,
                    "form",
                )
            ],
            "target": "new",
            "context": {"default_ticket_id": self.id},
        }

    def action_resend_sms_answer(self):
        """Resend the latest answer, which was not delivered (one tap, R7)."""
        self.ensure_one()
        # sudo: answers are read-only records; access to the ticket is
        # checked by action_resend.
        latest = self.sudo().sms_reply_ids[:1]
        if not latest or latest.sms_state != "failed":
            raise UserError(self.env._("The latest answer was not a failed one."))
        latest.with_env(self.env).action_resend()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._(
                    "The answer is sent again to %(citizen)s.",
                    citizen=self.sms_sender_masked,
                ),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    @api.model
    def _sms_center_next_domain(self):
        """Tickets needing the current user's action, for "next question"."""
        domain = [("sms_keyword_id", "!=", False), ("sms_needs_action", "=", True)]
        mine = [("sms_keyword_id.officer_ids.user_id", "=", self.env.uid)]
        if self.search_count(domain + mine, limit=1):
            domain += mine
        return domain

    def _sms_center_next_ticket(self):
        """The next question needing an answer: the most urgent deadline first."""
        return self.search(
            self._sms_center_next_domain() + [("id", "not in", self.ids)],
            order="sms_deadline, sms_received_at, id",
            limit=1,
        )

    def _sms_center_form_action(self):
        """This ticket in the SMS inbox form (breadcrumb: the inbox)."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "sms_center.action_sms_inbox"
        )
        action.update(
            res_id=self.id,
            view_mode="form",
            views=[(self.env.ref("sms_center.view_ticket_sms_form").id, "form")],
            target="current",
        )
        return action

    def action_open_next_sms(self):
        """Open the next question needing an answer (after this one)."""
        ticket = self._sms_center_next_ticket()
        if not ticket:
            return {
                "type": "ir.actions.client",
                "tag": "display_notification",
                "params": {
                    "type": "success",
                    "message": self.env._("No other SMS needs an answer. Well done!"),
                    "next": {"type": "ir.actions.act_window_close"},
                },
            }
        return ticket._sms_center_form_action()

    def _phone_get_country(self):
        # sudo: officers cannot read citizens' contacts (R5); formatting the
        # number of an SMS answer only needs the contact's country.
        return super(HelpdeskTicket, self.sudo())._phone_get_country()

    def _sms_center_citizen_number(self):
        """E.164 number to answer, from the first SMS of the ticket; False
        when there is none or it was pseudonymised."""
        self.ensure_one()
        # sudo: officers answer without seeing the citizen's number (R5).
        messages = self.sudo().sms_message_ids.sorted("received_at")
        number = messages[:1].sender_e164 or False
        return False if pseudonym.is_pseudonym(number) else number

    @api.depends("sms_message_ids.pseudonymised_at")
    def _compute_sms_number_pseudonymised(self):
        for ticket in self:
            # sudo: officers may not read every SMS of their tickets.
            ticket.sms_number_pseudonymised = any(
                ticket.sudo().sms_message_ids.mapped("pseudonymised_at")
            )

    def action_sms_center_reveal_number(self):
        """Show the citizen's number to a secretariat member, and log it."""
        self.ensure_one()
        if not self.env.user.has_group("sms_center.group_secretariat"):
            raise AccessError(
                self.env._("Only the secretariat can see citizens' numbers in full.")
            )
        self.check_access("read")
        # sudo: the number is read to be shown by the logged action.
        messages = self.sudo().sms_message_ids.sorted("received_at")
        return self.env["sms_center.number.reveal"]._reveal(
            self, [messages[:1].sender_e164 or messages[:1].sender]
        )

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
        self._sms_publication_refresh()
        # The first answer settles the overdue escalation activities.
        activity_type = self.env.ref(
            "sms_center.mail_activity_type_sms_overdue", raise_if_not_found=False
        )
        if activity_type:
            # sudo: the escalation activities belong to the secretariat; the
            # officer's answer settles them on their behalf.
            activities = self.sudo().activity_ids.filtered(
                lambda a: a.activity_type_id == activity_type
            )
            if activities:
                activities.action_feedback(
                    feedback=self.env._(
                        "Answered by %(user)s.", user=self.env.user.name
                    )
                )

    # ------------------------------------------------------------------
    # Settings
    # ------------------------------------------------------------------

    @api.model
    def _sms_center_deadline_settings(self):
        """``(hours, calendar)``: calendar is None in clock-hours mode and an
        empty recordset when the ticket's company calendar applies."""
        Settings = self.env["sms_center.settings"]
        hours = Settings._sms_center_setting("deadline_hours")
        if hours <= 0:
            hours = DEFAULT_DEADLINE_HOURS
        if Settings._sms_center_setting("deadline_mode") != "calendar":
            return hours, None
        # sudo: the calendar is configuration any ticket creator relies on.
        return hours, Settings._sms_center_setting("deadline_calendar_id").sudo()

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------

    @api.depends("sms_received_at")
    def _compute_sms_deadline(self):
        received = self.filtered("sms_received_at")
        (self - received).update(
            {"sms_deadline": False, "sms_deadline_calendar_id": False}
        )
        if not received:
            return
        hours, calendar = self._sms_center_deadline_settings()
        tz = regency_tz(self.env)
        for ticket in received:
            used = False
            deadline = None
            if calendar is not None:
                # sudo: tickets are created by gateways and officers alike.
                used = calendar or ticket.company_id.sudo().resource_calendar_id
                if used:
                    deadline = plan_working_hours(
                        used, ticket.sms_received_at, hours, tz
                    )
                if not deadline:
                    _logger.warning(
                        "Calendar %s has no working time: deadline of ticket %s "
                        "counted in clock hours",
                        used.display_name if used else None,
                        ticket.id,
                    )
                    used = False
            if not deadline:
                deadline = ticket.sms_received_at + timedelta(hours=hours)
            ticket.sms_deadline = deadline
            ticket.sms_deadline_calendar_id = used

    @api.depends("sms_keyword_id", "sms_answered", "stage_id", "active")
    def _compute_sms_awaiting_answer(self):
        # Changing the "closed" flag of a stage does not re-evaluate its
        # tickets (that would rewrite the whole history); they follow at
        # their next stage change.
        for ticket in self:
            ticket.sms_awaiting_answer = bool(
                ticket.sms_keyword_id
                and ticket.active
                and not ticket.sms_answered
                and not ticket.stage_id.closed
            )

    @api.depends(
        "sms_first_answer_at",
        "sms_received_at",
        "sms_deadline",
        "sms_deadline_calendar_id",
    )
    def _compute_sms_response(self):
        tz = regency_tz(self.env)
        for ticket in self:
            answered_at = ticket.sms_first_answer_at
            received_at = ticket.sms_received_at
            if not (answered_at and received_at):
                ticket.sms_response_minutes = 0
                ticket.sms_response_working_minutes = 0
                ticket.sms_answered_in_time = False
                continue
            ticket.sms_response_minutes = max(
                0, round((answered_at - received_at).total_seconds() / 60)
            )
            # sudo: calendars are configuration officers cannot read.
            calendar = ticket.sms_deadline_calendar_id.sudo()
            ticket.sms_response_working_minutes = (
                working_minutes(calendar, received_at, answered_at, tz)
                if calendar
                else 0
            )
            ticket.sms_answered_in_time = bool(
                ticket.sms_deadline and answered_at <= ticket.sms_deadline
            )

    @api.depends(
        "sms_deadline",
        "sms_answered",
        "sms_answered_in_time",
        "sms_awaiting_answer",
        "sms_escalated_at",
    )
    def _compute_sms_compliance(self):
        for ticket in self:
            if not ticket.sms_deadline:
                ticket.sms_compliance = False
            elif ticket.sms_answered:
                ticket.sms_compliance = (
                    "in_time" if ticket.sms_answered_in_time else "late"
                )
            elif not ticket.sms_awaiting_answer:
                ticket.sms_compliance = "closed"
            elif ticket.sms_escalated_at:
                ticket.sms_compliance = "overdue"
            else:
                ticket.sms_compliance = "open"

    @api.depends("sms_deadline", "sms_awaiting_answer")
    def _compute_sms_time_left(self):
        now = fields.Datetime.now()
        for ticket in self:
            if not ticket.sms_deadline:
                state, text = False, False
            elif not ticket.sms_awaiting_answer:
                state, text = "done", False
            elif ticket.sms_deadline <= now:
                state = "overdue"
                text = self.env._(
                    "%(duration)s late",
                    duration=self._sms_center_format_duration(
                        now - ticket.sms_deadline
                    ),
                )
            else:
                left = ticket.sms_deadline - now
                state = "due_soon" if left < DUE_SOON else "on_time"
                text = self.env._(
                    "%(duration)s left",
                    duration=self._sms_center_format_duration(left),
                )
            ticket.sms_deadline_state = state
            ticket.sms_time_left = text
            ticket.sms_overdue = state == "overdue"

    def _search_sms_overdue(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(
                self.env._("Search overdue tickets with = True or = False only.")
            )
        overdue = [
            ("sms_awaiting_answer", "=", True),
            ("sms_deadline", "<=", fields.Datetime.now()),
        ]
        if (operator == "=") == bool(value):
            return overdue
        return ["!", "&", *overdue]

    @api.model
    def _sms_center_format_duration(self, delta):
        """Short duration for the inbox: "2 d 3 h", "1 h 05 min", "35 min"."""
        minutes = max(0, int(delta.total_seconds() // 60))
        days, minutes = divmod(minutes, 24 * 60)
        hours, minutes = divmod(minutes, 60)
        if days:
            return self.env._("%(days)s d %(hours)s h", days=days, hours=hours)
        if hours:
            padded = f"{minutes:02d}"
            return self.env._(
                "%(hours)s h %(minutes)s min", hours=hours, minutes=padded
            )
        return self.env._("%(minutes)s min", minutes=minutes)

    # ------------------------------------------------------------------
    # Answer flow
    # ------------------------------------------------------------------

    def _sms_center_recompute_deadlines(self):
        """Recompute the deadline of open, not yet escalated SMS tickets with
        the current settings (after changing hours, mode or holidays)."""
        tickets = self.filtered(
            lambda t: t.sms_awaiting_answer and not t.sms_escalated_at
        )
        for fname in ("sms_deadline", "sms_deadline_calendar_id"):
            self.env.add_to_compute(self._fields[fname], tickets)
        tickets.flush_recordset()
        return tickets

    # ------------------------------------------------------------------
    # Publication on the website (R12)
    # ------------------------------------------------------------------

    def _sms_publication_init(self):
        cr = self.env.cr
        # Full-text search of the public pages: PostgreSQL keeps a tsvector
        # of the accent-folded published question and answers, with the
        # 'simple' configuration (PostgreSQL has no Indonesian stemmer;
        # whole words match). Accents are folded in Python (lib/masking.py)
        # for the text and the search alike: no extension needed.
        cr.execute(
            """SELECT 1 FROM information_schema.columns
                WHERE table_name = 'helpdesk_ticket'
                  AND column_name = 'sms_public_tsv'"""
        )
        if not cr.fetchone():
            cr.execute(
                """ALTER TABLE helpdesk_ticket ADD COLUMN sms_public_tsv tsvector
                   GENERATED ALWAYS AS (to_tsvector('simple'::regconfig,
                       COALESCE(sms_public_document, ''))) STORED"""
            )
        # The public list, its filters and feeds read published rows only, in
        # the order of these indexes: a page costs the same with a million
        # published SMS as with a hundred.
        published = "sms_publication_state = 'published' AND active"
        for name, method, columns in [
            (
                "helpdesk_ticket_sms_public_idx",
                "btree",
                ["sms_received_at DESC", "id DESC"],
            ),
            (
                "helpdesk_ticket_sms_public_team_idx",
                "btree",
                ["team_id", "sms_received_at DESC", "id DESC"],
            ),
            (
                "helpdesk_ticket_sms_public_category_idx",
                "btree",
                ["category_id", "sms_received_at DESC", "id DESC"],
            ),
            (
                "helpdesk_ticket_sms_public_feed_idx",
                "btree",
                ["sms_published_at DESC", "id DESC"],
            ),
            (
                "helpdesk_ticket_sms_public_team_feed_idx",
                "btree",
                ["team_id", "sms_published_at DESC", "id DESC"],
            ),
            ("helpdesk_ticket_sms_public_tsv_idx", "gin", ["sms_public_tsv"]),
        ]:
            create_index(
                cr, name, "helpdesk_ticket", columns, method=method, where=published
            )
        # The delayed publication cron: scheduled rows by due time.
        create_index(
            cr,
            "helpdesk_ticket_sms_publish_due_idx",
            "helpdesk_ticket",
            ["sms_publish_after"],
            where="sms_publication_state = 'scheduled'",
        )

    @api.model
    def _sms_publication_init_states(self):
        """Give SMS tickets that predate publication their state (run at
        every install and update of the module; only rows without a state
        are touched): excluded ones stay off, unanswered ones wait, answered
        ones follow the policy, published as of their first answer."""
        mode, _delay = self._sms_publication_policy()
        self.flush_model()
        self.env.cr.execute(
            """UPDATE helpdesk_ticket
                  SET sms_publication_state = CASE
                          WHEN sms_publication_excluded THEN 'excluded'
                          WHEN NOT COALESCE(sms_answered, FALSE) THEN 'pending'
                          WHEN %(mode)s = 'approval' THEN 'to_approve'
                          ELSE 'published' END,
                      sms_published_at = CASE
                          WHEN NOT COALESCE(sms_publication_excluded, FALSE)
                           AND COALESCE(sms_answered, FALSE)
                           AND %(mode)s = 'auto'
                          THEN COALESCE(sms_first_answer_at, write_date) END
                WHERE sms_keyword_id IS NOT NULL
                  AND sms_publication_state IS NULL""",
            {"mode": mode},
        )
        if self.env.cr.rowcount:
            _logger.info(
                "Publication state set on %s SMS tickets", self.env.cr.rowcount
            )
            self.invalidate_model(["sms_publication_state", "sms_published_at"])

    @api.depends("sms_keyword_id", "sms_message_ids.body", "sms_question_wording")
    def _compute_sms_public_question(self):
        slugify = self.env["ir.http"]._slugify
        for ticket in self:
            if not ticket.sms_keyword_id:
                ticket.sms_public_question = False
                ticket.sms_public_slug = False
                continue
            text = ticket.sms_question_wording
            if not text:
                messages = ticket.sms_message_ids.sorted(
                    lambda m: (m.received_at, m.id)
                )
                text = "\n".join(
                    body for body in ((m.body or "").strip() for m in messages) if body
                )
            public = masking.mask_personal_data(text or "")
            ticket.sms_public_question = public or False
            slug = slugify(" ".join(public.split()[:12]))
            if len(slug) > SLUG_LENGTH:
                # Whole words only: "jalan-desa-rusak", not "jalan-desa-ru".
                slug = slug[: SLUG_LENGTH + 1].rsplit("-", 1)[0]
            ticket.sms_public_slug = slug[:SLUG_LENGTH] or False

    @api.depends("sms_publication_state", "sms_public_slug")
    def _compute_sms_public_url(self):
        Reader = self.env["sms_center.publication"]
        for ticket in self:
            ticket.sms_public_url = (
                Reader._path(ticket.id, ticket.sms_public_slug)
                if ticket.sms_publication_state == "published" and ticket.id
                else False
            )

    @api.depends("sms_public_question", "sms_reply_ids.public_body")
    def _compute_sms_public_document(self):
        for ticket in self:
            if not ticket.sms_keyword_id:
                ticket.sms_public_document = False
                continue
            parts = [ticket.sms_public_question or ""]
            parts += ticket.sms_reply_ids.mapped("public_body")
            ticket.sms_public_document = (
                masking.fold("\n".join(part for part in parts if part)) or False
            )

    @api.model
    def _sms_publication_policy(self):
        """``(mode, delay in minutes)``: mode ``auto`` publishes answered SMS
        after the delay, ``approval`` waits for the secretariat."""
        Settings = self.env["sms_center.settings"]
        mode = Settings._sms_center_setting("publication_mode")
        delay = Settings._sms_center_setting("publication_delay_minutes")
        return ("approval" if mode == "approval" else "auto"), max(delay, 0)

    def _sms_check_secretariat(self):
        if not self.env.user.has_group("sms_center.group_secretariat"):
            raise AccessError(
                self.env._("Only the secretariat can publish or unpublish SMS.")
            )

    def _sms_publication_refresh(self):
        """Align the publication state of SMS tickets with the facts (answered,
        excluded by moderation) and the policy. Decisions already taken
        (scheduled, waiting for approval, published, unpublished) stay."""
        # sudo: publication follows the center's policy, whoever answered or
        # moderated the SMS.
        tickets = self.sudo().filtered("sms_keyword_id")
        if not tickets:
            return
        mode, delay = self._sms_publication_policy()
        now = fields.Datetime.now()
        to_publish = self.browse().sudo()
        for ticket in tickets:
            state = ticket.sms_publication_state
            if ticket.sms_publication_excluded:
                vals = {
                    "sms_publication_state": "excluded",
                    "sms_published_at": False,
                    "sms_publish_after": False,
                }
            elif not ticket.sms_answered:
                vals = {"sms_publication_state": "pending"}
            elif state in (False, "pending", "excluded"):
                due = (ticket.sms_first_answer_at or now) + timedelta(minutes=delay)
                if mode == "approval":
                    vals = {"sms_publication_state": "to_approve"}
                elif due <= now:
                    to_publish |= ticket
                    continue
                else:
                    vals = {
                        "sms_publication_state": "scheduled",
                        "sms_publish_after": due,
                    }
            else:
                continue
            if any(ticket[fname] != value for fname, value in vals.items()):
                ticket.write(vals)
        to_publish._sms_publish()
        due_dates = tickets.filtered(
            lambda t: t.sms_publication_state == "scheduled"
        ).mapped("sms_publish_after")
        if due_dates:
            cron = self.env.ref(
                "sms_center.ir_cron_sms_publication", raise_if_not_found=False
            )
            if cron:
                # sudo: waking a cron is not a user's right.
                cron.sudo()._trigger(at=min(due_dates))

    def _sms_publish(self):
        if self:
            # sudo: see _sms_publication_refresh.
            self.sudo().write(
                {
                    "sms_publication_state": "published",
                    "sms_published_at": fields.Datetime.now(),
                    "sms_publish_after": False,
                }
            )

    @api.model
    def _cron_sms_publish_scheduled(self, batch_size=PUBLICATION_BATCH):
        """Publish the SMS whose publication delay has passed (in approval
        mode, they join the secretariat's queue instead)."""
        now = fields.Datetime.now()
        self.flush_model(["sms_publication_state", "sms_publish_after"])
        cr = self.env.cr
        try:
            with cr.savepoint(flush=False):
                cr.execute(
                    """SELECT id FROM helpdesk_ticket
                        WHERE sms_publication_state = 'scheduled'
                          AND sms_publish_after <= %s
                        ORDER BY sms_publish_after, id
                        LIMIT %s
                          FOR NO KEY UPDATE SKIP LOCKED""",
                    [now, batch_size],
                    log_exceptions=False,
                )
                ids = [row[0] for row in cr.fetchall()]
        except psycopg2.errors.SerializationFailure:
            # A concurrent run published them; the next run takes the rest.
            _logger.info("Scheduled SMS being published by a concurrent run")
            return self.browse()
        # sudo: the cron publishes tickets of every unit.
        tickets = self.sudo().browse(ids)
        mode, _delay = self._sms_publication_policy()
        if mode == "approval":
            tickets.write(
                {"sms_publication_state": "to_approve", "sms_publish_after": False}
            )
        else:
            tickets._sms_publish()
        remaining = self.sudo().search_count(
            [
                ("sms_publication_state", "=", "scheduled"),
                ("sms_publish_after", "<=", now),
            ]
        )
        self.env["ir.cron"]._notify_progress(done=len(tickets), remaining=remaining)
        return tickets

    # --- secretariat actions ---

    def action_sms_publish(self):
        """Publish now (approve in the queue, or publish again)."""
        self._sms_check_secretariat()
        blocked = self.filtered(
            lambda t: not t.sms_keyword_id
            or not t.sms_answered
            or t.sms_publication_excluded
        )
        if blocked:
            raise UserError(
                self.env._(
                    "Only answered SMS that are not excluded from publication can be "
                    "published: %(tickets)s",
                    tickets=", ".join(blocked.mapped("display_name")),
                )
            )
        todo = self.filtered(lambda t: t.sms_publication_state != "published")
        todo._sms_publish()
        for ticket in todo:
            ticket.message_post(
                body=self.env._(
                    "Published on the website by %(user)s.", user=self.env.user.name
                ),
                subtype_xmlid="mail.mt_note",
            )
        return True

    def action_sms_unpublish(self):
        """Withdraw from the website at once (or before it was published)."""
        self._sms_check_secretariat()
        todo = self.filtered(
            lambda t: t.sms_publication_state
            in ("published", "scheduled", "to_approve")
        )
        # sudo: the secretariat's decision, checked above.
        todo.sudo().write(
            {
                "sms_publication_state": "unpublished",
                "sms_published_at": False,
                "sms_publish_after": False,
            }
        )
        for ticket in todo:
            ticket.message_post(
                body=self.env._(
                    "Unpublished from the website by %(user)s.",
                    user=self.env.user.name,
                ),
                subtype_xmlid="mail.mt_note",
            )
        return True

    def action_sms_exclude_publication(self):
        """Exclude with a reason: the moderation of the ticket's SMS (R11)."""
        self._sms_check_secretariat()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Exclude from publication"),
            "res_model": "sms_center.message.moderate",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_message_ids": self.sms_message_ids.ids,
                "default_moderation_state": "excluded",
            },
        }

    def action_sms_edit_wording(self):
        """Published wording of the question and the answers."""
        self.ensure_one()
        self._sms_check_secretariat()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Published wording"),
            "res_model": "sms_center.publication.wording",
            "view_mode": "form",
            "target": "new",
            "context": {"default_ticket_id": self.id},
        }
