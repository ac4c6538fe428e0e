import csv
import io

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, formataddr

from ..lib import phone, pseudonym
from ..tools.deadline import regency_tz, to_local

DATA_PROTECTION_GROUP = "sms_center.group_data_protection"
CSV_COLUMNS = ("kind", "reference", "date", "number", "keyword", "text", "status")


class SmsCenterDataRequest(models.Model):
    """A citizen's request about the personal data the center holds for their
    number (UU 27/2022, data subject rights): see and export it, or have the
    number pseudonymised ahead of the retention period. Handled by the data
    protection officers; each request keeps its own history."""

    _name = "sms_center.data.request"
    _description = "Personal data request"
    _inherit = ["mail.thread"]
    _order = "id desc"

    name = fields.Char(
        string="Reference", required=True, readonly=True, copy=False, default="/"
    )
    number = fields.Char(
        string="Mobile number",
        required=True,
        help="The number the request is about, in any usual form (0812..., "
        "+62812...). It is stored in E.164 form, and replaced by its pseudonym "
        "once the number is pseudonymised.",
    )
    number_masked = fields.Char(string="Number", readonly=True)
    number_key = fields.Char(string="Number pseudonym", readonly=True, index=True)
    request_type = fields.Selection(
        [
            ("access", "See and export the data"),
            ("pseudonymisation", "Pseudonymise the number"),
        ],
        string="Request type",
        required=True,
        default="access",
        tracking=True,
    )
    requester_name = fields.Char(
        string="Requested by",
        required=True,
        tracking=True,
        help="The citizen, or who asks on their behalf.",
    )
    requester_verification = fields.Char(
        string="Identity checked by",
        tracking=True,
        help="How it was checked that the requester holds the number, e.g. an SMS "
        "from the number, the SIM card shown at the counter.",
    )
    request_date = fields.Date(
        string="Request date",
        required=True,
        default=fields.Date.context_today,
        tracking=True,
    )
    reason = fields.Text(
        tracking=True,
        help="Why the number is pseudonymised before the end of the retention "
        "period; required to pseudonymise.",
    )
    state = fields.Selection(
        [("open", "Open"), ("done", "Done"), ("cancelled", "Cancelled")],
        required=True,
        default="open",
        readonly=True,
        tracking=True,
    )
    closed_at = fields.Datetime(string="Closed", readonly=True, copy=False)
    pseudonymised_at = fields.Datetime(
        string="Pseudonymised", readonly=True, copy=False
    )
    pseudonymised_by_id = fields.Many2one(
        "res.users", string="Pseudonymised by", readonly=True, copy=False
    )
    # What the center holds for the number, now.
    sms_message_ids = fields.Many2many(
        "sms_center.message", string="SMS received", compute="_compute_held"
    )
    sms_reply_ids = fields.Many2many(
        "sms_center.reply", string="Answers sent", compute="_compute_held"
    )
    sms_ticket_ids = fields.Many2many(
        "helpdesk.ticket", string="Tickets", compute="_compute_held"
    )
    sms_partner_ids = fields.Many2many(
        "res.partner", string="Contacts", compute="_compute_held"
    )
    sms_message_count = fields.Integer(string="SMS", compute="_compute_held")
    sms_reply_count = fields.Integer(string="Answers", compute="_compute_held")
    sms_ticket_count = fields.Integer(string="Ticket count", compute="_compute_held")

    @api.depends("number_key")
    def _compute_held(self):
        for request in self:
            records = request._held_records()
            request.sms_message_ids = records["messages"]
            request.sms_reply_ids = records["replies"]
            request.sms_ticket_ids = records["tickets"]
            request.sms_partner_ids = records["partners"]
            request.sms_message_count = len(records["messages"])
            request.sms_reply_count = len(records["replies"])
            request.sms_ticket_count = len(records["tickets"])

    @api.depends("name", "number_masked")
    def _compute_display_name(self):
        for request in self:
            request.display_name = " ".join(
                filter(None, [request.name, request.number_masked])
            )

    # ------------------------------------------------------------------
    # Number
    # ------------------------------------------------------------------

    @api.model
    def _number_values(self, number):
        e164 = phone.to_e164(number)
        if not e164:
            raise ValidationError(
                self.env._(
                    "%(number)s is not a valid mobile number. Use a form such as "
                    "081234567890 or +6281234567890.",
                    number=number,
                )
            )
        return {
            "number": e164,
            "number_masked": phone.mask(e164),
            "number_key": self.env["sms_center.personal.data"]._pseudonym(e164),
        }

    @api.model_create_multi
    def create(self, vals_list):
        self._check_data_protection()
        for vals in vals_list:
            vals.update(self._number_values(vals.get("number")))
            if vals.get("name", "/") == "/":
                vals["name"] = (
                    # sudo: the sequence is configuration.
                    self.env["ir.sequence"]
                    .sudo()
                    .next_by_code("sms_center.data.request")
                    or "/"
                )
        return super().create(vals_list)

    def write(self, vals):
        if "number" in vals:
            if self.filtered(lambda r: r.state != "open" or r.pseudonymised_at):
                raise UserError(
                    self.env._("The number of a closed request cannot be changed.")
                )
            vals = dict(vals, **self._number_values(vals["number"]))
        return super().write(vals)

    def _held_records(self):
        """What the center holds for the request's number (sudo recordsets)."""
        self.ensure_one()
        if not self.number_key:
            return {
                "messages": self.env["sms_center.message"],
                "replies": self.env["sms_center.reply"],
                "tickets": self.env["helpdesk.ticket"],
                "partners": self.env["res.partner"],
            }
        number = self.number if not pseudonym.is_pseudonym(self.number) else None
        return self.env["sms_center.personal.data"]._records_of_number(
            number or self.number_key, key=self.number_key
        )

    # ------------------------------------------------------------------
    # Rights
    # ------------------------------------------------------------------

    @api.model
    def _check_data_protection(self):
        if not self.env.su and not self.env.user.has_group(DATA_PROTECTION_GROUP):
            raise AccessError(
                self.env._(
                    "Only data protection officers handle citizens' personal data "
                    "requests."
                )
            )

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_export_csv(self):
        self.ensure_one()
        self._check_data_protection()
        return {
            "type": "ir.actions.act_url",
            "url": f"/sms_center/data_request/{self.id}/csv",
            "target": "self",
        }

    def action_print_pdf(self):
        self.ensure_one()
        self._check_data_protection()
        self._log_export(self.env._("printed statement (PDF)"))
        return self.env.ref("sms_center.action_report_data_request").report_action(self)

    def action_done(self):
        self._check_data_protection()
        self.filtered(lambda r: r.state == "open").write(
            {"state": "done", "closed_at": fields.Datetime.now()}
        )

    def action_cancel(self):
        self._check_data_protection()
        if self.filtered("pseudonymised_at"):
            raise UserError(
                self.env._("A request whose number was pseudonymised stays done.")
            )
        self.write({"state": "cancelled", "closed_at": fields.Datetime.now()})

    def action_reopen(self):
        self._check_data_protection()
        self.filtered(
            lambda r: r.state == "cancelled" and not r.pseudonymised_at
        ).write({"state": "open", "closed_at": False})

    def action_pseudonymise(self):
        """Pseudonymise everything held for the number now (on request)."""
        self.ensure_one()
        self._check_data_protection()
        if self.state != "open":
            raise UserError(self.env._("Only an open request can be carried out."))
        if not (self.reason or "").strip():
            raise UserError(
                self.env._(
                    "Write the reason for the pseudonymisation before carrying it out."
                )
            )
        number = self.number
        PersonalData = self.env["sms_center.personal.data"]
        records, counts = PersonalData._pseudonymise_number(number)
        now = fields.Datetime.now()
        # The organisation's language: the secretariat reads these notes.
        note_env = self.with_context(lang=self.env.company.partner_id.lang).env
        note = note_env._(
            "The citizen's number was pseudonymised at the citizen's request "
            "(%(request)s). The SMS text is unchanged; no answer can be sent any "
            "more.",
            request=self.name,
        )
        # sudo: the note goes on every unit's tickets, as the data protection
        # officer (the author stays the current user).
        self._post_note(
            [
                *records["tickets"].sudo(),
                *records["messages"].sudo().filtered(lambda m: not m.ticket_id),
            ],
            note,
        )
        self.write(
            {
                "state": "done",
                "closed_at": now,
                "pseudonymised_at": now,
                "pseudonymised_by_id": self.env.user.id,
            }
        )
        # Every request about this number keeps only the pseudonym from now on.
        self.env.flush_all()
        PersonalData._execute(
            SQL(
                """UPDATE sms_center_data_request SET number = number_key
                    WHERE number_key = %s AND number IS DISTINCT FROM number_key""",
                self.number_key,
            )
        )
        self.invalidate_recordset(["number"])
        self._post_note(
            self,
            self.env._(
                "Number pseudonymised: %(messages)s SMS, %(tickets)s tickets, "
                "%(replies)s answers, %(partners)s contacts, %(logs)s other "
                "traces (queue, notifications, modem, gateway texts).",
                **counts,
            ),
        )
        return True

    def _post_note(self, records, body):
        """Note ``body`` on each of ``records`` (mail threads of any model),
        by the current user, who may have no e-mail address."""
        author = self.env.user.partner_id
        email_from = author.email_formatted or formataddr(
            (author.name, self.env.company.email or "noreply@sms-center.invalid")
        )
        for record in records:
            record.message_post(
                body=body,
                subtype_xmlid="mail.mt_note",
                author_id=author.id,
                email_from=email_from,
            )

    # ------------------------------------------------------------------
    # Export (CSV and PDF share the rows)
    # ------------------------------------------------------------------

    def _export_lang(self):
        return self.env["sms_center.message"]._get_citizen_lang()

    def _export_sections(self):
        """``[(title, rows)]``: what is held for the number, in the citizen's
        language, rows being dicts of :data:`CSV_COLUMNS`."""
        self.ensure_one()
        lang = self._export_lang()
        env = self.with_context(lang=lang).env
        held = self._held_records()
        tz = regency_tz(env)

        def when(value):
            return to_local(value, tz).strftime("%Y-%m-%d %H:%M") if value else ""

        def labels(model, fname):
            return dict(env[model]._fields[fname]._description_selection(env))

        def shown(number):
            if number and not pseudonym.is_pseudonym(number):
                return number
            return env._("%(masked)s (pseudonymised)", masked=self.number_masked)

        message_states = labels("sms_center.message", "state")
        sms_states = labels("sms_center.reply", "sms_state")
        contacts = [
            {
                "kind": env._("Contact"),
                "reference": partner.name,
                "date": when(partner.create_date),
                "number": shown(partner.mobile or partner.phone),
                "keyword": "",
                "text": "",
                "status": "",
            }
            for partner in held["partners"]
        ]
        messages = [
            {
                "kind": env._("SMS received"),
                "reference": env._("SMS #%(id)s", id=message.id),
                "date": when(message.received_at),
                "number": shown(message.sender),
                "keyword": message.keyword_id.name or message.keyword_text or "",
                "text": message.text or "",
                "status": message_states.get(message.state, ""),
            }
            for message in held["messages"]
        ]
        auto_replies = [
            {
                "kind": env._("Automatic reply"),
                "reference": env._("SMS #%(id)s", id=message.id),
                "date": when(message.auto_reply_at),
                "number": shown(message.sender_e164),
                "keyword": "",
                "text": message.auto_reply_body,
                "status": sms_states.get(message.sms_state, ""),
            }
            for message in held["messages"]
            if message.auto_reply_body
        ]
        tickets = [
            {
                "kind": env._("Ticket"),
                "reference": ticket.number or str(ticket.id),
                "date": when(ticket.sms_received_at or ticket.create_date),
                "number": "",
                "keyword": ticket.sms_keyword_id.name or "",
                "text": ticket.name or "",
                "status": ticket.with_env(env).stage_id.name or "",
            }
            for ticket in held["tickets"]
        ]
        replies = [
            {
                "kind": env._("Answer"),
                "reference": reply.ticket_id.number or str(reply.ticket_id.id),
                "date": when(reply.create_date),
                "number": shown(reply.number),
                "keyword": reply.keyword_id.name or "",
                "text": reply.body or "",
                "status": sms_states.get(reply.sms_state, ""),
            }
            for reply in held["replies"]
        ]
        return [
            (env._("Contact"), contacts),
            (env._("SMS received"), messages),
            (env._("Automatic replies"), auto_replies),
            (env._("Tickets"), tickets),
            (env._("Answers sent"), replies),
        ]

    def _export_csv(self):
        """The CSV file (text) of what is held, logged in the history."""
        self.ensure_one()
        self._check_data_protection()
        env = self.with_context(lang=self._export_lang()).env
        headers = {
            "kind": env._("Kind of data"),
            "reference": env._("Reference"),
            "date": env._("Date"),
            "number": env._("Number"),
            "keyword": env._("Keyword"),
            "text": env._("Text"),
            "status": env._("Status"),
        }
        out = io.StringIO()
        # A byte order mark: spreadsheet programs then read UTF-8 correctly.
        out.write("\ufeff")
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
        writer.writerow(headers)
        for _title, rows in self._export_sections():
            writer.writerows(rows)
        self._log_export(self.env._("CSV file"))
        return out.getvalue()

    def _export_filename(self, extension):
        self.ensure_one()
        return f"{self.name.replace('/', '-')}.{extension}"

    def _log_export(self, what):
        self._post_note(
            self,
            self.env._(
                "Data exported (%(what)s) by %(user)s.",
                what=what,
                user=self.env.user.name,
            ),
        )

    # ------------------------------------------------------------------
    # Retention
    # ------------------------------------------------------------------

    @api.model
    def _pseudonymise_old(self, cutoff):
        """Requests closed before ``cutoff`` keep only the pseudonym."""
        return self.env["sms_center.personal.data"]._execute(
            SQL(
                """UPDATE sms_center_data_request SET number = number_key
                    WHERE state IN ('done', 'cancelled') AND closed_at < %s
                      AND number_key IS NOT NULL
                      AND number IS DISTINCT FROM number_key""",
                cutoff,
            )
        )
