import logging
import xmlrpc.client
from datetime import datetime, time, timedelta

import psycopg2
import pytz

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import plaintext2html

from ..lib import citizen_text, gsm, keyword_parser, phone, ticket_reference
from ..tools.deadline import regency_tz, to_local
from ..tools.mail import author_email_from
from ..tools.pseudonym import ensure_pseudonym_sql, pseudonyms

_logger = logging.getLogger(__name__)

# Longest concatenated SMS: 255 parts of 153 GSM-7 characters.
MAX_TEXT_LENGTH = 40000
MAX_SENDER_LENGTH = 64
# Fields that record what the citizen sent: nobody may change them (Pasal 11e).
IMMUTABLE_FIELDS = (
    "sender",
    "sender_e164",
    "sender_key",
    "text",
    "received_at",
    "recipient",
    "gateway_id",
    "gateway_message_id",
    "pseudonymised_at",
)
# Senders that may be a person's number: pseudonymised after the retention
# period. Short codes and alphanumeric sender IDs belong to operators and
# services and are kept.
PERSONAL_SENDER_KINDS = (phone.KIND_NUMBER, phone.KIND_INVALID)


class SmsCenterMessage(models.Model):
    """One inbound SMS exactly as a citizen sent it (R3, R4, R11)."""

    _name = "sms_center.message"
    _description = "Inbound SMS"
    _inherit = [
        "mail.thread",
        "sms_center.sms.status.mixin",
        "sms_center.number.mask.mixin",
    ]
    _order = "received_at desc, id desc"
    _rec_name = "display_name"

    # --- what arrived (immutable) ---
    sender = fields.Char(
        string="Sender as received",
        required=True,
        readonly=True,
        groups="sms_center.group_secretariat",
        help="Sender exactly as the gateway gave it.",
    )
    sender_e164 = fields.Char(
        string="Sender number",
        readonly=True,
        index="btree_not_null",
        groups="sms_center.group_secretariat",
    )
    sender_masked = fields.Char(string="Sender", readonly=True)
    sender_key = fields.Char(
        string="Sender key",
        readonly=True,
        index="btree_not_null",
        groups="sms_center.group_secretariat",
        help="Keyed hash (HMAC) of the sender's number: the same for every SMS "
        "of a number, before and after the number is pseudonymised. Count "
        "distinct senders with it.",
    )
    pseudonymised_at = fields.Datetime(
        string="Number pseudonymised",
        readonly=True,
        copy=False,
        help="When the sender's number was replaced by its pseudonym (retention "
        "period or a citizen's request). The text is never changed.",
    )
    sender_kind = fields.Selection(
        [
            (phone.KIND_NUMBER, "Phone number"),
            (phone.KIND_SHORT_CODE, "Short code"),
            (phone.KIND_ALPHANUMERIC, "Alphanumeric"),
            (phone.KIND_INVALID, "Invalid"),
        ],
        readonly=True,
    )
    text = fields.Text(readonly=True, help="The SMS text exactly as received.")
    recipient = fields.Char(
        readonly=True, help="The center's number the SMS was sent to, if known."
    )
    received_at = fields.Datetime(required=True, readonly=True, index=True)
    received_date = fields.Date(
        string="Received on",
        compute="_compute_received_date",
        store=True,
        index=True,
        help="Day of reception in the regency's time zone (reports count by it).",
    )
    gateway_id = fields.Many2one(
        "sms_center.gateway", readonly=True, ondelete="restrict", index="btree_not_null"
    )
    gateway_message_id = fields.Char(
        string="Gateway message ID",
        readonly=True,
        help="Identifier given by the gateway; repeats are ignored.",
    )
    # --- what the center made of it ---
    keyword_text = fields.Char(string="First word", readonly=True)
    keyword_id = fields.Many2one(
        "sms_center.keyword", readonly=True, index="btree_not_null", ondelete="restrict"
    )
    team_id = fields.Many2one(related="keyword_id.team_id", string="Unit")
    body = fields.Text(
        string="Message", readonly=True, help="The text after the keyword."
    )
    state = fields.Selection(
        [
            # Stored, not routed yet: the webhooks will store first and route
            # in a scheduled action (issue 11); the monitoring endpoint counts
            # these and the age of the oldest.
            ("to_route", "To route"),
            ("routed", "In inbox"),
            ("appended", "Added to open ticket"),
            ("unknown", "Unknown keyword"),
            ("status", "Status request (CEK)"),
            ("info", "Service information (INFO)"),
            ("rejected", "Cannot be answered"),
        ],
        readonly=True,
        index=True,
    )
    state_reason = fields.Char(string="Routing note", readonly=True)
    ticket_id = fields.Many2one(
        "helpdesk.ticket", readonly=True, index="btree_not_null", ondelete="set null"
    )
    partner_id = fields.Many2one(
        "res.partner", string="Contact", readonly=True, index="btree_not_null"
    )
    # Set on the ticket, where officers and the secretariat work (R10).
    category_id = fields.Many2one(related="ticket_id.category_id")
    simulated = fields.Boolean(
        readonly=True,
        help="Typed on the SMS simulator (training): not a citizen's SMS, never "
        "published.",
    )
    # --- automatic reply: unknown keyword, receipt, CEK, INFO (status via
    # the mixin) ---
    auto_reply_body = fields.Text(string="Automatic reply", readonly=True)
    auto_reply_kind = fields.Selection(
        [
            ("unknown_keyword", "Unknown keyword"),
            ("receipt", "Receipt"),
            ("status", "Status (CEK)"),
            ("info", "Service information (INFO)"),
        ],
        string="Automatic reply kind",
        readonly=True,
    )
    auto_reply_at = fields.Datetime(string="Automatic reply at", readonly=True)
    auto_reply_skipped = fields.Char(string="No automatic reply because", readonly=True)
    # --- moderation by the secretariat (R11) ---
    moderation_state = fields.Selection(
        [
            ("ok", "Substantive"),
            ("spam", "Spam"),
            ("not_substantive", "Not substantive"),
            ("excluded", "Excluded from publication"),
        ],
        default="ok",
        required=True,
        tracking=True,
        index=True,
    )
    moderation_reason = fields.Text(tracking=True)

    _sql_constraints = [
        (
            "moderation_reason_required",
            "CHECK(moderation_state = 'ok' OR moderation_reason IS NOT NULL)",
            "A reason is required to mark a message as spam, not substantive or "
            "excluded from publication.",
        ),
    ]

    def init(self):
        cr = self.env.cr
        # Idempotency of receive(): one record per (gateway, gateway id).
        cr.execute(
            """CREATE UNIQUE INDEX IF NOT EXISTS sms_center_message_gateway_uniq
               ON sms_center_message (COALESCE(gateway_id, 0), gateway_message_id)
               WHERE gateway_message_id IS NOT NULL"""
        )
        # Auto-reply rate limit per number and day.
        cr.execute(
            """CREATE INDEX IF NOT EXISTS sms_center_message_auto_reply_idx
               ON sms_center_message (sender_e164, auto_reply_at)
               WHERE auto_reply_at IS NOT NULL"""
        )
        # Monitoring endpoint: SMS waiting to be routed, oldest first, without
        # reading the history of routed SMS.
        cr.execute(
            """CREATE INDEX IF NOT EXISTS sms_center_message_to_route_idx
               ON sms_center_message (received_at)
               WHERE state = 'to_route'"""
        )
        # Retention work: messages whose number is still stored.
        cr.execute(
            """CREATE INDEX IF NOT EXISTS sms_center_message_not_pseudonymised_idx
               ON sms_center_message (ticket_id, received_at)
               WHERE pseudonymised_at IS NULL"""
        )
        # The citizen's words cannot change, even through SQL (Pasal 11e).
        # The one change allowed (UU 27/2022, storage limitation): the
        # number, once, into its own keyed pseudonym, which only this
        # database can compute (tools/pseudonym.py); the text never.
        ensure_pseudonym_sql(cr)
        cr.execute(
            """CREATE OR REPLACE FUNCTION sms_center_message_immutable()
               RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN
                 IF NEW.text IS DISTINCT FROM OLD.text
                    OR NEW.received_at IS DISTINCT FROM OLD.received_at
                    OR NEW.recipient IS DISTINCT FROM OLD.recipient
                    OR NEW.gateway_message_id IS DISTINCT FROM OLD.gateway_message_id
                    OR (NEW.sender IS DISTINCT FROM OLD.sender
                        AND (OLD.sender LIKE 'psn:%'
                             OR NEW.sender IS DISTINCT FROM sms_center_pseudonym(
                                  COALESCE(OLD.sender_e164, OLD.sender))))
                    OR (NEW.sender_e164 IS DISTINCT FROM OLD.sender_e164
                        AND (OLD.sender_e164 LIKE 'psn:%'
                             OR NEW.sender_e164 IS DISTINCT FROM
                                sms_center_pseudonym(OLD.sender_e164)))
                    OR (NEW.sender_key IS DISTINCT FROM OLD.sender_key
                        AND (OLD.sender_key IS NOT NULL
                             OR OLD.sender_e164 LIKE 'psn:%'
                             OR NEW.sender_key IS DISTINCT FROM
                                sms_center_pseudonym(OLD.sender_e164)))
                    OR (OLD.pseudonymised_at IS NOT NULL
                        AND NEW.pseudonymised_at IS DISTINCT FROM OLD.pseudonymised_at)
                 THEN
                   RAISE EXCEPTION 'sms_center: an inbound SMS cannot be altered'
                     USING ERRCODE = 'integrity_constraint_violation';
                 END IF;
                 RETURN NEW;
               END $$;
               DROP TRIGGER IF EXISTS sms_center_message_immutable
                 ON sms_center_message;
               CREATE TRIGGER sms_center_message_immutable
                 BEFORE UPDATE ON sms_center_message
                 FOR EACH ROW EXECUTE FUNCTION sms_center_message_immutable();"""
        )
        # SMS stored before sender keys existed get theirs.
        cr.execute(
            """UPDATE sms_center_message
                  SET sender_key = sms_center_pseudonym(sender_e164)
                WHERE sender_key IS NULL AND sender_e164 IS NOT NULL
                  AND sender_e164 NOT LIKE 'psn:%'"""
        )

    @api.depends("received_at")
    def _compute_received_date(self):
        tz = regency_tz(self.env)
        for message in self:
            message.received_date = (
                to_local(message.received_at, tz).date()
                if message.received_at
                else False
            )

    @api.depends("keyword_text", "sender_masked", "received_at")
    def _compute_display_name(self):
        for message in self:
            message.display_name = " ".join(
                filter(None, [message.keyword_text, message.sender_masked])
            ) or self.env._("SMS #%(id)s", id=message.id)

    # ------------------------------------------------------------------
    # Masked number (sms_center.number.mask.mixin)
    # ------------------------------------------------------------------

    @api.model
    def _sms_center_masked_fields(self):
        return ["sender", "sender_e164"]

    def _sms_center_reveal_values(self):
        self.ensure_one()
        # sudo: the number is read to be shown by the logged action.
        message = self.sudo()
        return [message.sender_e164 or message.sender]

    # ------------------------------------------------------------------
    # Integrity
    # ------------------------------------------------------------------

    def write(self, vals):
        changed = [f for f in IMMUTABLE_FIELDS if f in vals]
        if changed:
            # sudo: compare with the stored values whoever writes (even officers).
            for message in self.sudo():
                for fname in changed:
                    if message[fname] != message._fields[fname].convert_to_record(
                        message._fields[fname].convert_to_cache(vals[fname], message),
                        message,
                    ):
                        raise UserError(
                            self.env._(
                                "The sender and text of a citizen's SMS cannot be "
                                "changed by anyone (Pasal 11e). Nothing was saved."
                            )
                        )
        res = super().write(vals)
        if "moderation_state" in vals:
            # Spam, not substantive or excluded: off the website at once;
            # restored: published again under the policy (R11, R12).
            # sudo: moderation is allowed to the secretariat, whose members
            # may not administer every unit's tickets.
            self.sudo().ticket_id._sms_publication_refresh()
        return res

    def unlink(self):
        if not self:
            return super().unlink()
        raise UserError(
            self.env._(
                "Inbound SMS are a public record and cannot be deleted. Mark them as "
                "spam or exclude them from publication instead."
            )
        )

    # ------------------------------------------------------------------
    # Public API: gateways call receive()
    # ------------------------------------------------------------------

    @api.model
    @api.returns("self", lambda message: message.id)
    def receive(
        self,
        sender,
        text,
        recipient=None,
        received_at=None,
        gateway=None,
        gateway_message_id=None,
    ):
        """Store one inbound SMS durably and route it; return the record.

        The integration API for gateways and scripts. Python callers get the
        record; over XML-RPC / JSON-RPC (``execute_kw``) the caller gets its
        id, an integer (Odoo's ``api.returns`` convention), because a record
        cannot be marshalled.

        Idempotent on ``(gateway, gateway_message_id)``: a repeated call
        returns the first record and creates nothing. ``gateway`` is a
        gateway record, id or code. ``sender`` may be in any Indonesian or
        international form; the text is stored exactly as received (NUL
        characters, which PostgreSQL cannot store, become U+2400); over
        XML-RPC, a text with characters XML cannot carry may come as UTF-8
        in a ``base64`` value. ``received_at``: a datetime or an ISO 8601
        string (UTC when it has no offset), default now. Raises
        ``ValidationError`` for a missing sender or a text longer than any
        concatenated SMS, ``AccessError`` for a user who is neither an SMS
        Center administrator nor in *Inbound SMS from scripts*.
        """
        if not (
            self.env.su
            or self.env.user.has_group("sms_center.group_admin")
            or self.env.user.has_group("sms_center.group_inbound_script")
        ):
            raise AccessError(
                self.env._(
                    "Only gateways, inbound SMS scripts and administrators can "
                    "inject inbound SMS."
                )
            )
        # sudo: routing creates tickets and contacts in any unit on the
        # gateway's behalf; access was checked just above.
        Message = self.sudo()
        gateway = Message._coerce_gateway(gateway)
        gateway_message_id = (
            (str(gateway_message_id).strip() or None)
            if (gateway_message_id not in (None, False))
            else None
        )
        if gateway_message_id:
            existing = Message._find_duplicate(gateway, gateway_message_id)
            if existing:
                gateway._note_script_contact()
                return existing.with_env(self.env)
        vals = Message._prepare_receive_vals(
            sender, text, recipient, received_at, gateway, gateway_message_id
        )
        try:
            with self.env.cr.savepoint():
                # No "created" log nor follower per SMS: thousands a day.
                message = Message.with_context(
                    mail_create_nolog=True, mail_create_nosubscribe=True
                ).create(vals)
        except psycopg2.IntegrityError:
            # A concurrent delivery of the same gateway message won the race.
            existing = Message._find_duplicate(gateway, gateway_message_id)
            if not existing:
                raise
            return existing.with_env(self.env)
        message._route()
        gateway._note_script_contact()
        return message.with_env(self.env)

    @api.model
    def _coerce_gateway(self, gateway):
        Gateway = self.env["sms_center.gateway"]
        if not gateway:
            return Gateway
        if isinstance(gateway, models.BaseModel):
            # sudo: gateways are resolved for routing, whoever injects the SMS.
            return gateway.sudo()
        if isinstance(gateway, int):
            return Gateway.browse(gateway).exists()
        return Gateway.search([("code", "=", str(gateway))], limit=1)

    @api.model
    def _find_duplicate(self, gateway, gateway_message_id):
        # Same expression as the unique index, so that it is used.
        self.flush_model(["gateway_id", "gateway_message_id"])
        self.env.cr.execute(
            """SELECT id FROM sms_center_message
                WHERE COALESCE(gateway_id, 0) = %s AND gateway_message_id = %s
                LIMIT 1""",
            [gateway.id or 0, gateway_message_id],
        )
        row = self.env.cr.fetchone()
        return self.browse(row[0]) if row else self.browse()

    @api.model
    def _prepare_receive_vals(
        self, sender, text, recipient, received_at, gateway, gateway_message_id
    ):
        sender = self._coerce_str(sender).strip()
        if not sender:
            raise ValidationError(self.env._("An inbound SMS needs a sender."))
        if len(sender) > MAX_SENDER_LENGTH:
            raise ValidationError(
                self.env._(
                    "The sender %(sender)s… is longer than %(max)s characters.",
                    sender=sender[:20],
                    max=MAX_SENDER_LENGTH,
                )
            )
        text = self._coerce_str(text).replace("\x00", "\u2400")
        if len(text) > MAX_TEXT_LENGTH:
            raise ValidationError(
                self.env._(
                    "The SMS text has %(length)s characters; at most %(max)s are "
                    "accepted (255 concatenated parts).",
                    length=len(text),
                    max=MAX_TEXT_LENGTH,
                )
            )
        classified = phone.classify(sender)
        keyword_word, body = keyword_parser.parse(text)
        simulated = {}
        if gateway.gateway_type == "simulator":
            simulated = {
                "simulated": True,
                "moderation_state": "excluded",
                "moderation_reason": self.env._(
                    "Typed on the SMS simulator (training): not a citizen's SMS."
                ),
            }
        return {
            **simulated,
            "sender": sender,
            "sender_e164": classified.e164,
            "sender_key": pseudonyms(self.env.cr, [classified.e164]).get(
                classified.e164, False
            ),
            "sender_kind": classified.kind,
            "sender_masked": phone.mask(classified.e164) if classified.e164 else sender,
            "text": text,
            "recipient": self._coerce_str(recipient).strip()[:MAX_SENDER_LENGTH]
            or False,
            "received_at": self._coerce_datetime(received_at),
            "gateway_id": gateway.id or False,
            "gateway_message_id": gateway_message_id,
            "keyword_text": keyword_word or False,
            "body": body,
        }

    @api.model
    def _coerce_str(self, value):
        if value is None or value is False:
            return ""
        if isinstance(value, xmlrpc.client.Binary):
            # XML-RPC callers send texts XML 1.0 cannot carry (control
            # characters) as base64 of their UTF-8 bytes.
            value = value.data
        if isinstance(value, bytes):
            return value.decode("utf-8", errors="replace")
        return str(value)

    @api.model
    def _coerce_datetime(self, value):
        """UTC naive datetime; aware values are converted, future ones clamped."""
        now = fields.Datetime.now()
        if not value:
            return now
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            except ValueError as exc:
                raise ValidationError(
                    self.env._("Unreadable reception time %(value)s.", value=value)
                ) from exc
        if isinstance(value, datetime) and value.tzinfo:
            value = value.astimezone(pytz.utc).replace(tzinfo=None)
        value = fields.Datetime.to_datetime(value)
        # A modem with a wrong clock must not push deadlines into the future.
        return min(value, now)

    # ------------------------------------------------------------------
    # Routing
    # ------------------------------------------------------------------

    def _route(self):
        """Turn stored messages into tickets or automatic replies.

        Reserved words (CEK, INFO and their aliases) come first: they are
        answered and create no ticket. Then keywords; otherwise the sender
        gets the unknown-keyword reply.
        """
        Keyword = self.env["sms_center.keyword"]
        reserved = Keyword._get_reserved_words()
        for message in self:
            word = message.keyword_text
            reserved_kind = reserved.get(word) if word else False
            keyword = Keyword._match(word) if word else Keyword
            if reserved_kind and keyword:
                # Only a keyword created before its word was reserved can
                # collide (both are refused since): it keeps working until
                # renamed, as reported at upgrade and on the keyword.
                reserved_kind = False
            elif reserved_kind:
                keyword = Keyword
            elif not keyword and self._status_word_with_reference(word, reserved):
                # "CEKD482": the code typed without a space.
                reserved_kind = "status"
            if message.sender_kind != phone.KIND_NUMBER:
                message.write(
                    {
                        "keyword_id": keyword.id,
                        "state": "rejected",
                        "state_reason": self.env._(
                            "The sender is not a phone number that can receive an "
                            "answer (%(kind)s).",
                            kind=dict(
                                self._fields["sender_kind"]._description_selection(
                                    self.env
                                )
                            ).get(message.sender_kind),
                        ),
                    }
                )
                continue
            if reserved_kind:
                message._answer_reserved_word(reserved_kind)
            elif keyword:
                message._route_to_keyword(keyword)
            else:
                message.write({"state": "unknown"})
                message._send_unknown_keyword_reply()

    def _route_to_keyword(self, keyword, manual=False):
        self.ensure_one()
        self._lock_number(self.sender_e164)
        partner = self._find_or_create_partner(self.sender_e164)
        vals = {"keyword_id": keyword.id, "partner_id": partner.id}
        ticket = not manual and self._find_ticket_to_append(keyword, partner)
        if ticket:
            vals.update(ticket_id=ticket.id, state="appended")
            self.write(vals)
            # The citizen never becomes a follower: citizens never log in, and
            # followers' contacts are read by every officer posting there.
            ticket.with_context(mail_create_nosubscribe=True).message_post(
                body=plaintext2html(self.text),
                author_id=partner.id,
                message_type="comment",
                subtype_xmlid="mail.mt_note",
            )
            return ticket
        ticket = self._create_ticket(keyword, partner)
        vals.update(ticket_id=ticket.id, state="routed")
        self.write(vals)
        # Routing a new ticket includes its receipt (never for appended SMS).
        self._send_receipt(ticket)
        return ticket

    def _create_ticket(self, keyword, partner):
        """The helpdesk ticket of this SMS in ``keyword``'s inbox."""
        self.ensure_one()
        return (
            self.env["helpdesk.ticket"]
            .with_context(
                mail_create_nolog=True,
                mail_auto_subscribe_no_notify=True,
            )
            .create(self._prepare_ticket_vals(keyword, partner))
        )

    def _prepare_ticket_vals(self, keyword, partner):
        self.ensure_one()
        officer = keyword._get_primary_officer()
        summary = " ".join((self.body or "").split())
        if len(summary) > 60:
            summary = summary[:59] + "…"
        return {
            "name": f"{keyword.name}: {summary}" if summary else keyword.name,
            "description": plaintext2html(self.text or ""),
            "team_id": keyword.team_id.id,
            "user_id": officer.user_id.id or False,
            "partner_id": partner.id,
            "partner_name": partner.name,
            "sms_sender_masked": self.sender_masked,
            "channel_id": self.env.ref("sms_center.helpdesk_ticket_channel_sms").id,
            "sms_keyword_id": keyword.id,
            "sms_received_at": self.received_at,
            "sms_simulated": self.simulated,
        }

    def _find_ticket_to_append(self, keyword, partner):
        """Open, unanswered ticket of the same number and keyword, if recent."""
        window = self.env["sms_center.settings"]._sms_center_setting(
            "append_window_minutes"
        )
        if window <= 0:
            return self.env["helpdesk.ticket"]
        return self.env["helpdesk.ticket"].search(
            [
                ("partner_id", "=", partner.id),
                ("sms_keyword_id", "=", keyword.id),
                ("sms_answered", "=", False),
                ("stage_id.closed", "=", False),
                ("sms_received_at", ">=", self.received_at - timedelta(minutes=window)),
            ],
            order="sms_received_at desc",
            limit=1,
        )

    @api.model
    def _lock_number(self, number):
        """Serialize work per sender number (contact creation, rate limits)."""
        self.env.cr.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s))", [f"sms_center:{number}"]
        )

    @api.model
    def _find_or_create_partner(self, e164):
        Partner = self.env["res.partner"].with_context(active_test=False)
        partner = Partner.search([("phone_sanitized", "=", e164)], order="id", limit=1)
        if partner:
            return partner
        return Partner.with_context(tracking_disable=True).create(
            {
                "name": self.env._("SMS %(number)s", number=phone.mask(e164)),
                "mobile": e164,
                "country_id": self.env.ref("base.id").id,
                "sms_center_citizen": True,
            }
        )

    # ------------------------------------------------------------------
    # Unknown keyword: automatic reply (R4)
    # ------------------------------------------------------------------

    def _send_unknown_keyword_reply(self):
        self.ensure_one()
        return self._send_auto_reply(
            "unknown_keyword", self._build_unknown_keyword_reply
        )

    def _send_auto_reply(self, kind, build_body):
        """Send the automatic reply of ``kind`` built by ``build_body()``.

        Every automatic reply (unknown keyword, receipt, CEK, INFO) goes
        through here: the same loop protection and daily limit per number,
        the same queue and gateways, its text and status stored on the SMS.
        Returns the queued ``sms.sms`` or False when nothing was sent (the
        reason is stored).
        """
        self.ensure_one()
        skipped = self._auto_reply_blocked_reason()
        body = not skipped and build_body()
        if not skipped and not body:
            skipped = self.env._("The SMS text to citizens for this answer is empty.")
        if skipped:
            self.write({"auto_reply_skipped": skipped})
            return False
        self.write(
            {
                "auto_reply_body": body,
                "auto_reply_at": fields.Datetime.now(),
                "auto_reply_kind": kind,
                "auto_reply_skipped": False,
            }
        )
        sms = self.env["sms.sms"]._sms_center_post(
            self, body, self.sender_e164, sender_id=self.gateway_id.default_sender_id
        )
        self._sms_status_track(sms)
        return sms

    def _auto_reply_blocked_reason(self):
        """Why no automatic reply may go to this sender (loop protection)."""
        self.ensure_one()
        if self.sender_kind != phone.KIND_NUMBER:
            return self.env._("The sender is not a phone number.")
        if self.sender_e164 in self.env["sms_center.gateway"]._get_center_numbers():
            return self.env._("The sender is one of the center's own numbers.")
        limit = self.env["sms_center.settings"]._sms_center_setting(
            "auto_reply_daily_limit"
        )
        self._lock_number(self.sender_e164)
        sent_today = self.search_count(
            [
                ("sender_e164", "=", self.sender_e164),
                ("auto_reply_at", ">=", self._regency_day_start()),
                ("id", "!=", self.id),
            ]
        )
        if sent_today >= limit:
            return self.env._(
                "Daily limit of %(limit)s automatic replies to this number reached.",
                limit=limit,
            )
        return False

    @api.model
    def _regency_day_start(self, now=None):
        """Start of the current day in the regency's time zone, as UTC naive."""
        tz = regency_tz(self.env)
        local_now = pytz.utc.localize(now or fields.Datetime.now()).astimezone(tz)
        local_start = tz.localize(datetime.combine(local_now.date(), time.min))
        return local_start.astimezone(pytz.utc).replace(tzinfo=None)

    def _build_unknown_keyword_reply(self):
        """Reply that fits one SMS: keyword list, or short form plus web address."""
        self.ensure_one()
        Keyword = self.env["sms_center.keyword"]
        lang = self._get_citizen_lang()
        env = self.with_context(lang=lang).env
        keywords = Keyword.with_context(lang=lang).search([])
        names = ", ".join(keywords.mapped("name"))
        suggestion = (
            Keyword._suggest(self.keyword_text) if self.keyword_text else Keyword
        )
        url = self._public_keywords_url()
        candidates = []
        if suggestion:
            hint = env._(
                "Unknown keyword %(word)s. Did you mean %(keyword)s? Send: %(keyword)s "
                "your message.",
                word=self.keyword_text,
                keyword=suggestion.name,
            )
            candidates += [
                f"{hint} " + env._("Keywords: %(list)s", list=names),
                f"{hint} " + env._("All keywords: %(url)s", url=url),
                hint,
            ]
        candidates += [
            env._(
                "Unknown keyword. Send: KEYWORD your message. Keywords: %(list)s",
                list=names,
            ),
            env._(
                "Unknown keyword. Send: KEYWORD your message. Keyword list: %(url)s",
                url=url,
            ),
            env._("Unknown keyword. Keyword list: %(url)s", url=url),
        ]
        for candidate in candidates:
            if gsm.fits_one_sms(candidate):
                return candidate
        return candidates[-1][: gsm.UCS2_SINGLE_LIMIT]

    @api.model
    def _public_keywords_url(self):
        """Address of the public keyword list (setting, else this website's)."""
        return self.env["sms_center.settings"]._sms_center_setting(
            "public_keywords_url"
        ) or (
            # sudo: system parameters are readable by the system only.
            self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
            + "/sms/keywords"
        )

    @api.model
    def _get_citizen_lang(self):
        lang = self.env["sms_center.settings"]._sms_center_setting("citizen_lang")
        installed = dict(self.env["res.lang"].get_installed())
        return lang if lang in installed else "en_US"

    # ------------------------------------------------------------------
    # The citizen's side (R17): receipt, CEK, INFO
    # ------------------------------------------------------------------

    def _citizen_texts(self):
        """The SMS text model in the citizen language (its ``env._`` too)."""
        return self.env["sms_center.citizen.template"].with_context(
            lang=self._get_citizen_lang()
        )

    @api.model
    def _receipt_enabled(self):
        return self.env["sms_center.settings"]._sms_center_setting("receipt_enabled")

    def _send_receipt(self, ticket):
        """The receipt of a new ticket: unit, reference, answer deadline."""
        self.ensure_one()
        if not self._receipt_enabled():
            return False
        return self._send_auto_reply("receipt", lambda: self._build_receipt(ticket))

    def _build_receipt(self, ticket):
        Texts = self._citizen_texts()
        body = Texts._get_body("receipt", Texts.env.lang)
        if not body:
            return False
        # The unit's name in the citizen language (team names are translated).
        unit = ticket.team_id.with_context(lang=Texts.env.lang).name or ""
        keyword = ticket.sms_keyword_id.name or ""
        values = {
            "unit": unit,
            "keyword": keyword,
            "reference": ticket.sms_reference or "",
            "deadline": Texts._format_deadline(ticket.sms_deadline)
            if ticket.sms_deadline
            else "",
        }
        return citizen_text.fit_one_sms(
            body, values, shrink="unit", fallbacks=(keyword,)
        ) or citizen_text.cut_to_one_sms(citizen_text.render(body, values))

    def _answer_reserved_word(self, kind):
        """CEK (``status``) or INFO (``info``): stored, answered, no ticket."""
        self.ensure_one()
        self.write({"state": kind})
        builder = (
            self._build_status_reply if kind == "status" else self._build_info_reply
        )
        return self._send_auto_reply(kind, builder)

    @api.model
    def _status_word_with_reference(self, word, reserved):
        """The code in a first word made of a CEK word and a code
        (``CEKD482``), or ``""``."""
        for reserved_word, kind in reserved.items():
            if kind == "status" and (word or "").startswith(reserved_word):
                reference = ticket_reference.normalize(word[len(reserved_word) :])
                if reference:
                    return reference
        return ""

    def _typed_reference(self):
        """The reference after CEK (``CEK D482``, ``cek #d482 kapan?``,
        ``CEK D 482``, ``CEKD482``) in canonical form, or ``""``."""
        joined = self._status_word_with_reference(
            self.keyword_text, self.env["sms_center.keyword"]._get_reserved_words()
        )
        if joined:
            return joined
        words = (self.body or "").split()
        for candidate in (self.body, words[:1], words[:2]):
            if isinstance(candidate, list):
                candidate = "".join(candidate)
            reference = ticket_reference.normalize(candidate)
            if reference:
                return reference
        return ""

    def _own_tickets(self):
        """Tickets created by SMS from this message's number (R17: a citizen
        learns nothing about anyone else's)."""
        # sudo: the answer is built for the citizen, without a user.
        return (
            self.env["sms_center.message"]
            .sudo()
            .search(
                [
                    ("sender_e164", "=", self.sender_e164),
                    ("state", "=", "routed"),
                    ("ticket_id", "!=", False),
                ],
                order="received_at desc, id desc",
                # One routed SMS per ticket: the three latest are enough.
                limit=3,
            )
            .ticket_id
        )

    def _find_own_ticket(self, reference):
        """Ticket with ``reference`` if it came from this message's number;
        an empty recordset otherwise, whether the reference exists or not."""
        if not reference:
            return self.env["helpdesk.ticket"]
        # sudo: see _own_tickets; archived tickets still have a status.
        Ticket = self.env["helpdesk.ticket"].sudo().with_context(active_test=False)
        return Ticket.search(
            [
                ("sms_reference", "=", reference),
                ("sms_message_ids.sender_e164", "=", self.sender_e164),
            ],
            limit=1,
        )

    @api.model
    def _format_status_item(self, reference, unit, keyword, received, status, level):
        """One ticket in a CEK answer, from the richest ``level`` (1) to the
        shortest (3)."""
        if level == 1:
            return self.env._(
                "#%(reference)s %(unit)s, received %(received)s: %(status)s",
                reference=reference,
                unit=unit,
                received=received,
                status=status,
            )
        if level == 2:
            return self.env._(
                "#%(reference)s %(keyword)s %(received)s: %(status)s",
                reference=reference,
                keyword=keyword,
                received=received,
                status=status,
            )
        return self.env._(
            "#%(reference)s: %(status)s", reference=reference, status=status
        )

    @api.model
    def _ticket_status_text(self, ticket, detailed=False):
        """``answered 3 Mar``, ``awaiting answer`` or ``closed`` in the
        language of ``self.env`` (the citizen's)."""
        Texts = self.env["sms_center.citizen.template"]
        if ticket.sms_answered:
            return self.env._(
                "answered %(date)s",
                date=Texts._format_day(ticket.sms_first_answer_at),
            )
        if ticket.sms_awaiting_answer:
            if detailed and ticket.sms_deadline:
                return self.env._(
                    "awaiting answer, due %(deadline)s",
                    deadline=Texts._format_deadline(ticket.sms_deadline),
                )
            return self.env._("awaiting answer")
        return self.env._("closed")

    def _status_item(self, ticket, level, detailed=False):
        Texts = self._citizen_texts()
        Message = self.with_env(Texts.env)
        team = ticket.team_id.with_env(Texts.env)
        received = Texts._format_day(ticket.sms_received_at)
        if detailed:
            received += " " + Texts._format_time(ticket.sms_received_at)
        return Message._format_status_item(
            ticket.sms_reference or "-",
            citizen_text.to_gsm7(team.name or ""),
            ticket.sms_keyword_id.name or "",
            received,
            Message._ticket_status_text(ticket, detailed=detailed),
            level,
        )

    def _build_status_reply(self):
        """CEK: the sender's three latest SMS, or CEK <reference>: that one."""
        self.ensure_one()
        Texts = self._citizen_texts()
        lang = Texts.env.lang
        reference = self._typed_reference()
        if reference:
            ticket = self._find_own_ticket(reference)
            if not ticket:
                # Same answer whether the reference exists or not.
                body = Texts._get_body("status_not_found", lang)
                return citizen_text.cut_to_one_sms(
                    citizen_text.render(body, {"reference": reference})
                )
            return self._build_one_status(ticket)
        tickets = self._own_tickets()[:3]
        if not tickets:
            return citizen_text.cut_to_one_sms(Texts._get_body("status_none", lang))
        body = Texts._get_body("status", lang)
        for level in (1, 2, 3):
            items = "; ".join(self._status_item(t, level) for t in tickets)
            text = citizen_text.fit_one_sms(body, {"tickets": items})
            if text:
                return text
        for count in (2, 1):
            items = "; ".join(self._status_item(t, 3) for t in tickets[:count])
            text = citizen_text.fit_one_sms(body, {"tickets": items})
            if text:
                return text
        return citizen_text.cut_to_one_sms(
            citizen_text.render(body, {"tickets": self._status_item(tickets[0], 3)})
        )

    def _build_one_status(self, ticket):
        """CEK <reference>: the ticket's status, with the start of the last
        answer when answered."""
        Texts = self._citizen_texts()
        body = Texts._get_body("status", Texts.env.lang)
        answer = ticket.sms_reply_ids[:1].body if ticket.sms_answered else ""
        # The published question's page, whole, after the answer's start.
        page = self._public_page_address(ticket) if answer else ""
        for level in (1, 2, 3):
            item = self._status_item(ticket, level, detailed=level == 1)
            if answer:
                # The item is text, not template: its braces are no placeholders.
                item = item.replace("{", "(").replace("}", ")")
                for suffix in ([" " + page] if page else []) + [""]:
                    template = citizen_text.render(
                        body,
                        {
                            "tickets": item
                            + ". "
                            + Texts.env._("Answer: %(answer)s", answer="{answer}")
                            + suffix.replace("{", "%7B").replace("}", "%7D")
                        },
                    )
                    text = citizen_text.fit_one_sms(
                        template,
                        {"answer": " ".join(answer.split())},
                        shrink="answer",
                    )
                    # Only with at least the first words of the answer.
                    if text and text != citizen_text.render(template, {"answer": ""}):
                        return text
            text = citizen_text.fit_one_sms(body, {"tickets": item})
            if text:
                return text
        return citizen_text.cut_to_one_sms(
            citizen_text.render(body, {"tickets": self._status_item(ticket, 3)})
        )

    def _public_page_address(self, ticket):
        """Full address of ``ticket``'s page on the public website, or "" when
        it is not published."""
        if not ticket.sms_public_url:
            return ""
        # sudo: system parameters are readable by the system only.
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        return base.rstrip("/") + ticket.sms_public_url

    def _build_info_reply(self):
        """INFO: how to use the service, a few keywords, the keyword list."""
        self.ensure_one()
        Texts = self._citizen_texts()
        body = Texts._get_body("info", Texts.env.lang)
        # sudo: keywords are public information; only active ones are listed.
        names = self.env["sms_center.keyword"].sudo().search([], limit=5).mapped("name")
        url = self._public_keywords_url()
        for count in range(len(names), 0, -1):
            text = citizen_text.fit_one_sms(
                body, {"keywords": ", ".join(names[:count]), "url": url}
            )
            if text:
                return text
        return citizen_text.cut_to_one_sms(
            citizen_text.render(body, {"keywords": "", "url": url})
        )

    # ------------------------------------------------------------------
    # Secretariat actions
    # ------------------------------------------------------------------

    def action_open_route_wizard(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Route to a keyword"),
            "res_model": "sms_center.message.route",
            "view_mode": "form",
            "target": "new",
            "context": {"default_message_ids": self.ids},
        }

    def action_open_moderation_wizard(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Moderate SMS"),
            "res_model": "sms_center.message.moderate",
            "view_mode": "form",
            "target": "new",
            "context": {"default_message_ids": self.ids},
        }

    def action_restore_moderation(self):
        self._check_secretariat()
        self.write({"moderation_state": "ok", "moderation_reason": False})

    def _check_secretariat(self):
        if not self.env.user.has_group("sms_center.group_secretariat"):
            raise AccessError(
                self.env._("Only the secretariat can moderate or route SMS by hand.")
            )

    def _route_manually(self, keyword):
        """Secretariat routes an unmatched SMS to ``keyword`` (creates a ticket)."""
        self._check_secretariat()
        for message in self:
            # sudo: the sender kind sits next to the number officers may not read.
            if (
                message.state not in ("unknown",)
                or message.sudo().sender_kind != phone.KIND_NUMBER
            ):
                raise UserError(
                    self.env._(
                        "Only SMS with an unknown keyword from a phone number can be "
                        "routed by hand (%(message)s).",
                        message=message.display_name,
                    )
                )
            # sudo: the ticket lands in the chosen unit, which the secretariat
            # member routing it may not administer.
            ticket = message.sudo()._route_to_keyword(keyword, manual=True)
            message.message_post(
                body=self.env._(
                    "Routed by hand to %(keyword)s by %(user)s.",
                    keyword=keyword.name,
                    user=self.env.user.name,
                ),
                subtype_xmlid="mail.mt_note",
                author_id=self.env.user.partner_id.id,
                email_from=author_email_from(self.env),
            )
            # sudo: the secretariat may not be allowed to post on every unit's tickets.
            ticket.sudo().message_post(
                body=self.env._(
                    "Created by hand from an SMS with an unknown keyword by %(user)s.",
                    user=self.env.user.name,
                ),
                subtype_xmlid="mail.mt_note",
                author_id=self.env.user.partner_id.id,
                email_from=author_email_from(self.env),
            )
        return True
