import logging
import time as monotonic_clock
import xmlrpc.client
from datetime import datetime, time, timedelta
from functools import partial

import pytz

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import SQL, plaintext2html

from ..lib import citizen_text, gsm, keyword_parser, phone, ticket_reference
from ..tools import cron_wakeup
from ..tools.deadline import regency_tz, to_local
from ..tools.mail import author_email_from
from ..tools.pseudonym import ensure_pseudonym_sql
from .sms_sms import _testing

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
# The inbound router (see _cron_route_inbound): SMS per batch (one
# transaction each), and seconds after which a router hands back to Odoo's
# scheduler, which runs it again at once while SMS wait (cron progress).
# Odoo 18 runs a job that reports work left up to 10 times in a row before
# the next ready job: during a flood the outbound queue (receipts, answers)
# waits at most about 10 x this budget.
ROUTE_BATCH_SIZE = 100
ROUTE_TIME_BUDGET = 5
# A second router is woken when this many SMS wait to be routed.
ROUTE_HELPER_BACKLOG = 3 * ROUTE_BATCH_SIZE
# An SMS whose routing fails is retried after 1, 2, 4... minutes, then every
# hour, forever; the administrators are alerted at this attempt.
ROUTE_ALERT_ATTEMPTS = 5
ROUTE_RETRY_MAX_MINUTES = 60


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
    # Not tracked: routing would log "Unit: → ..." in every SMS's chatter.
    team_id = fields.Many2one(
        related="keyword_id.team_id", string="Unit", tracking=False
    )
    body = fields.Text(
        string="Message", readonly=True, help="The text after the keyword."
    )
    state = fields.Selection(
        [
            # Stored by a gateway, not routed yet: the inbound router takes
            # it within seconds (see store() and _cron_route_inbound).
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
    # --- the inbound router's bookkeeping (state "to_route") ---
    routing_attempts = fields.Integer(
        string="Routing attempts",
        readonly=True,
        copy=False,
        help="Times routing this SMS failed. It is retried until it succeeds.",
    )
    routing_error = fields.Text(string="Routing error", readonly=True, copy=False)
    routing_retry_at = fields.Datetime(
        string="Next routing attempt", readonly=True, copy=False
    )
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
        # SMS waiting to be routed, without reading the history of routed
        # SMS: the inbound router's queue (arrival order, by id) and the
        # monitoring endpoint's count and oldest received_at (index only).
        cr.execute(
            """SELECT indexdef FROM pg_indexes
                WHERE indexname = 'sms_center_message_to_route_idx'"""
        )
        row = cr.fetchone()
        if row and "INCLUDE" not in row[0]:
            # The first version of this index was on received_at alone.
            cr.execute("DROP INDEX sms_center_message_to_route_idx")
        cr.execute(
            """CREATE INDEX IF NOT EXISTS sms_center_message_to_route_idx
               ON sms_center_message (id) INCLUDE (received_at)
               WHERE state = 'to_route'"""
        )
        # Auto-reply rate limit per number and day.
        cr.execute(
            """CREATE INDEX IF NOT EXISTS sms_center_message_auto_reply_idx
               ON sms_center_message (sender_e164, auto_reply_at)
               WHERE auto_reply_at IS NOT NULL"""
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
        for message in self:
            message.received_date = self._received_date_of(message.received_at)

    @api.model
    def _received_date_of(self, received_at):
        """The regency's calendar day of ``received_at`` (UTC)."""
        if not received_at:
            return False
        return to_local(received_at, regency_tz(self.env)).date()

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
    # Public API: gateways call store() (fast) or receive() (routed now)
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
        """Store one inbound SMS durably and route it now; return the record.

        Routing (keyword, contact, ticket or follow-up, automatic reply or
        receipt) happens in the caller's transaction, through the same code
        as the inbound router's, so the record comes back routed. Gateways
        under load use :meth:`store` instead.

        The integration API for gateways and scripts. Python callers get the
        record; over XML-RPC / JSON-RPC (``execute_kw``) the caller gets its
        id, an integer (Odoo's ``api.returns`` convention), because a record
        cannot be marshalled.

        Idempotent on ``(gateway, gateway_message_id)``: a repeated call
        returns the first record and creates nothing (that record may still
        be ``to_route`` when :meth:`store` stored it). ``gateway`` is a
        gateway record, id or code. ``sender`` may be in any Indonesian or
        international form; the text is stored exactly as received (NUL
        characters, which PostgreSQL cannot store, become U+2400); over
        XML-RPC, a text with characters XML cannot carry may come as UTF-8
        in a ``base64`` value. ``received_at``: a datetime or an ISO 8601
        string (UTC when it has no offset), default now; deadlines count
        from it. Raises
        ``ValidationError`` for a missing sender or a text longer than any
        concatenated SMS, ``AccessError`` for a user who is neither an SMS
        Center administrator nor in *Inbound SMS from scripts*.
        """
        self._check_inbound_access()
        # sudo: routing creates tickets and contacts in any unit on the
        # gateway's behalf; access was checked just above.
        message, created = self.sudo()._store_inbound(
            sender, text, recipient, received_at, gateway, gateway_message_id
        )
        if created:
            message._route()
        return message.with_env(self.env)

    @api.model
    @api.returns("self", lambda message: message.id)
    def store(
        self,
        sender,
        text,
        recipient=None,
        received_at=None,
        gateway=None,
        gateway_message_id=None,
    ):
        """Store one inbound SMS durably, to be routed right after; return
        the record, in state ``to_route``.

        The fast path of the gateways (Kannel and HTTP webhooks, the modem
        worker, gammu-smsd's script; also meant for the simulator): one
        INSERT, and a wake-up of
        the inbound router (a scheduled action, see
        :meth:`_cron_route_inbound`) when the caller's transaction commits.
        The router routes it within seconds exactly as :meth:`receive`
        would have, deadline counted from ``received_at``; until then the
        secretariat sees it as *To route*.

        Same arguments, validation, access rule, RPC convention (the id)
        and idempotency as :meth:`receive`: a repeated ``(gateway,
        gateway_message_id)`` returns the first record, in whatever state it
        has reached, and stores nothing.
        """
        self._check_inbound_access()
        # sudo: the SMS is stored on the gateway's behalf; access was
        # checked just above.
        Message = self.sudo()
        message, created = Message._store_inbound(
            sender, text, recipient, received_at, gateway, gateway_message_id
        )
        if created:
            Message._trigger_router()
        return message.with_env(self.env)

    def route_stored(self):
        """Route these SMS stored by :meth:`store` now, as the inbound
        router would, and return those routed here.

        For callers that show the result at once (the SMS simulator): each
        SMS is claimed like the router claims it (``FOR UPDATE SKIP
        LOCKED``; one that another router holds, or routed already, is left
        alone) and routed in the caller's transaction; a routing failure is
        kept on the SMS and retried by the router, never raised. Same access
        rule as :meth:`store`.
        """
        self._check_inbound_access()
        # sudo: as store(); access was checked just above.
        Message = self.sudo()
        waiting = self.filtered(lambda m: m.state == "to_route")
        batch = Message._route_claim(limit=len(waiting) or 1, ids=waiting.ids)
        if batch:
            batch._route_batch()
        return batch.with_env(self.env)

    @api.model
    def _check_inbound_access(self):
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

    @api.model
    def _store_inbound(
        self, sender, text, recipient, received_at, gateway, gateway_message_id
    ):
        """``(record, created)``: the SMS stored as ``to_route``, or the
        record already stored under the same gateway id."""
        gateway = self._coerce_gateway(gateway)
        gateway_message_id = (
            (str(gateway_message_id).strip() or None)
            if (gateway_message_id not in (None, False))
            else None
        )
        vals = self._prepare_receive_vals(
            sender, text, recipient, received_at, gateway, gateway_message_id
        )
        vals["state"] = "to_route"
        message_id = self._insert_inbound(vals)
        # Health of a gammu-smsd gateway: its SMS are its only contact.
        gateway._note_script_contact()
        if message_id:
            return self.browse(message_id), True
        # A repeat: the first delivery is stored (and visible, else
        # PostgreSQL raised a serialization failure, see _insert_inbound).
        return self._find_duplicate(gateway, gateway_message_id), False

    @api.model
    def _insert_inbound(self, vals):
        """INSERT one SMS unless its gateway id is stored already; its id,
        or None for a repeat.

        One statement, ``INSERT ... ON CONFLICT DO NOTHING`` on the unique
        index of gateway ids, instead of create(): a gateway's repeat is no
        error, not even when it races with the first delivery. In that race
        (the first one committed after this transaction began) PostgreSQL
        raises a serialization failure, not logged here: the webhook lets
        Odoo replay the request, which then finds the first record. The
        columns are those create() would write (defaults, magic columns);
        nothing is logged in the chatter, as for create() with
        ``mail_create_nolog``.
        """
        vals = self._add_missing_default_values(vals)
        # Stored computed fields (the calendar day, the SMS status mixin's,
        # a module's own) computed in memory from these values and written
        # by the INSERT: recomputing them after it costs a SELECT and an
        # UPDATE for every SMS.
        draft = self.new(vals)
        for fname, field in self._fields.items():
            if field.store and field.compute and fname not in vals:
                vals[fname] = field.convert_to_write(draft[fname], draft)
        # The transaction's time, as create() writes it.
        now = SQL("(now() AT TIME ZONE 'UTC')")
        columns = {
            "create_uid": self.env.uid,
            "create_date": now,
            "write_uid": self.env.uid,
            "write_date": now,
        }
        for fname, value in vals.items():
            field = self._fields[fname]
            if field.store and field.column_type and fname not in columns:
                columns[fname] = field.convert_to_column_insert(value, self, vals)
        if vals.get("sender_e164") and not vals.get("sender_key"):
            # The sender's pseudonym (personal data), computed by the
            # INSERT itself: no query of its own.
            columns["sender_key"] = SQL("sms_center_pseudonym(%s)", vals["sender_e164"])
        self.env.cr.execute(
            SQL(
                """INSERT INTO %s (%s) VALUES (%s)
                   ON CONFLICT ((COALESCE(gateway_id, 0)), gateway_message_id)
                   WHERE gateway_message_id IS NOT NULL DO NOTHING
                   RETURNING id""",
                SQL.identifier(self._table),
                SQL(", ").join(SQL.identifier(name) for name in columns),
                SQL(", ").join(
                    value if isinstance(value, SQL) else SQL("%s", value)
                    for value in columns.values()
                ),
            ),
            log_exceptions=False,
        )
        row = self.env.cr.fetchone()
        # No record depends on a new SMS yet (no ticket, contact or keyword)
        # and its own computed fields were written above: nothing to
        # recompute.
        return row[0] if row else None

    @api.model
    def _trigger_router(self, at=None, helper=False):
        """Wake the inbound router when this transaction commits (or at
        ``at``); ``helper``: the second router (see _cron_route_inbound)."""
        xmlid = (
            "sms_center.ir_cron_sms_center_route_inbound_helper"
            if helper
            else "sms_center.ir_cron_sms_center_route_inbound"
        )
        # Not env.ref(): it would check the cron exists, one more query for
        # every SMS stored.
        cron_id = self.env["ir.model.data"]._xmlid_to_res_id(
            xmlid, raise_if_not_found=False
        )
        if not cron_id:
            return
        if at is not None:
            # sudo: whoever stores an SMS may wake the router.
            self.env["ir.cron"].sudo().browse(cron_id)._trigger(at=at)
            return
        # What ir.cron._trigger() does, in one statement and without
        # opening a connection per wake-up: it runs for every SMS stored.
        # call_at is the statement's clock, not the transaction's start:
        # the scheduler drops, when a run ends, the triggers dated before
        # that run began, and this SMS commits after this moment.
        self.env.cr.execute(
            """INSERT INTO ir_cron_trigger
                      (cron_id, call_at, create_uid, create_date, write_uid,
                       write_date)
               SELECT %(cron)s, clock, %(uid)s, clock, %(uid)s, clock
                 FROM (SELECT clock_timestamp() AT TIME ZONE 'UTC' AS clock) t""",
            {"cron": cron_id, "uid": self.env.uid},
        )
        postcommit = self.env.cr.postcommit
        if not postcommit.data.get("sms_center_router_wakeup"):
            postcommit.data["sms_center_router_wakeup"] = True
            postcommit.add(partial(cron_wakeup.notify_cron_workers, self.env.cr.dbname))

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
    # The inbound router: routes stored SMS in batches (scheduled action)
    # ------------------------------------------------------------------

    @api.model
    def _cron_route_inbound(self, helper=False, batch_size=ROUTE_BATCH_SIZE):
        """Route the SMS waiting in state ``to_route`` (scheduled action).

        Woken by every :meth:`store` through Odoo's cron trigger, the way
        Odoo's SMS and mail queues are, and every minute in case a wake-up
        was lost. Loops over batches, each in a transaction of its own:

        1. claim the oldest due SMS (arrival order) with ``FOR UPDATE SKIP
           LOCKED``: several routers (this cron, its helper woken for large
           backlogs, a synchronous :meth:`receive`) never take the same SMS,
           and an SMS routed and committed is no longer ``to_route``: never
           routed twice. SMS whose sender has an earlier SMS held by another
           router are left to it, so that a citizen's SMS are routed in the
           order they arrived;
        2. route the batch set-oriented (:meth:`_route`); if that fails, one
           SMS at a time, so that only the failing one keeps its error and
           is retried later (:meth:`_route_failed`);
        3. commit. A crash before the commit leaves the batch ``to_route``,
           with no ticket, no contact and no automatic reply of it.

        After ``ROUTE_TIME_BUDGET`` seconds it reports its progress to the
        scheduler, which runs it again at once while SMS wait, after giving
        the other scheduled actions their turn.
        """
        # sudo: routing is system work whichever user runs the cron.
        Message = self.sudo()
        deadline = monotonic_clock.monotonic() + ROUTE_TIME_BUDGET
        done = 0
        while True:
            # A fresh transaction, hence a fresh snapshot, for each claim.
            Message._route_commit()
            batch = Message._route_claim(batch_size)
            if not batch:
                break
            batch._route_batch()
            Message._route_commit()
            done += len(batch)
            if not helper and done == len(batch):
                Message._route_wake_helper()
            if monotonic_clock.monotonic() >= deadline:
                break
        remaining = Message._route_due_count()
        if done:
            _logger.info("Inbound router: %s SMS routed, %s waiting", done, remaining)
        # Odoo 18's cron progress: runs the job again at once when some
        # remain (no-op outside the scheduler).
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        Message._route_schedule_retry()
        return True

    @api.model
    def _route_commit(self):
        """Commit the router's progress (skipped under tests)."""
        if not _testing():
            self.env.cr.commit()  # pylint: disable=invalid-commit

    @api.model
    def _route_claim(self, limit=ROUTE_BATCH_SIZE, ids=None):
        """Lock and return the next batch of due SMS to route (in arrival
        order), without those of a sender whose earlier due SMS another
        router holds (it routes them after its own); ``ids``: only among
        these SMS."""
        self.flush_model()
        now = fields.Datetime.now()
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    """WITH claimed AS (
                           SELECT id, sender_e164 FROM sms_center_message
                            WHERE state = 'to_route'
                              AND (%(ids)s::int[] IS NULL OR id = ANY(%(ids)s))
                              AND (routing_retry_at IS NULL
                                   OR routing_retry_at <= %(now)s)
                            ORDER BY id
                            LIMIT %(limit)s
                              FOR UPDATE SKIP LOCKED
                       )
                       SELECT c.id FROM claimed c
                        WHERE c.sender_e164 IS NULL OR NOT EXISTS (
                              SELECT 1 FROM sms_center_message o
                               WHERE o.state = 'to_route'
                                 AND o.sender_e164 = c.sender_e164
                                 AND o.id < c.id
                                 AND (o.routing_retry_at IS NULL
                                      OR o.routing_retry_at <= %(now)s)
                                 AND o.id NOT IN (SELECT id FROM claimed))
                        ORDER BY c.id""",
                    {"now": now, "limit": limit, "ids": ids},
                    # Under REPEATABLE READ, a row another router changed
                    # since this snapshot fails the lock even with SKIP
                    # LOCKED: a normal race, handled below, not an error.
                    log_exceptions=False,
                )
                ids = [row[0] for row in self.env.cr.fetchall()]
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY as exc:
            _logger.info(
                "Inbound router: another router won the race (%s)",
                type(exc).__name__,
            )
            self._trigger_router()
            return self.browse()
        return self.browse(ids)

    def _route_batch(self):
        """Route the claimed SMS ``self``: all together, or, when that
        fails, one by one (the failing SMS keeps its error)."""
        try:
            with self.env.cr.savepoint():
                self._route()
            return
        except Exception as exc:  # noqa: BLE001 - isolated just below
            if len(self) == 1:
                self._route_failed(exc)
                return
            _logger.info(
                "Inbound router: a batch of %s SMS failed (%s); routing them "
                "one by one",
                len(self),
                exc,
            )
        for message in self:
            try:
                with self.env.cr.savepoint():
                    message._route()
            except Exception as exc:  # noqa: BLE001 - kept on the SMS, retried
                message._route_failed(exc)

    def _route_failed(self, error):
        """Keep ``error`` on the SMS, still ``to_route``, and retry it later
        (1, 2, 4... minutes, then hourly); alert the administrators at
        attempt ``ROUTE_ALERT_ATTEMPTS``."""
        self.ensure_one()
        attempts = self.routing_attempts + 1
        minutes = min(2 ** (attempts - 1), ROUTE_RETRY_MAX_MINUTES)
        retry_at = fields.Datetime.now() + timedelta(minutes=minutes)
        error_text = f"{type(error).__name__}: {error}"[:2000]
        self._route_write(
            {
                "routing_attempts": attempts,
                "routing_error": error_text,
                "routing_retry_at": retry_at,
            }
        )
        _logger.warning(
            "Inbound router: SMS %s not routed (attempt %s, next in %s min): %s",
            self.id,
            attempts,
            minutes,
            error_text,
            exc_info=error,
        )
        if attempts == ROUTE_ALERT_ATTEMPTS:
            self._route_alert()
        self._trigger_router(at=retry_at)

    def _route_alert(self):
        """Tell the administrators (message with them as recipients) that
        this SMS keeps failing to be routed."""
        self.ensure_one()
        root = self.env.ref("base.user_root")
        admins = self.env.ref("sms_center.group_admin").users.filtered(
            lambda u: not u.share and u.active and u != root
        )
        self.message_post(
            body=self.env._(
                "This SMS could not be routed after %(count)s attempts: "
                "%(error)s. It stays to route and is tried again every hour; "
                "once the cause is fixed, use Route now.",
                count=self.routing_attempts,
                error=self.routing_error,
            ),
            partner_ids=admins.partner_id.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )

    @api.model
    def _route_due_count(self):
        self.flush_model(["state", "routing_retry_at"])
        self.env.cr.execute(
            """SELECT count(*) FROM sms_center_message
                WHERE state = 'to_route'
                  AND (routing_retry_at IS NULL OR routing_retry_at <= %s)""",
            [fields.Datetime.now()],
        )
        return self.env.cr.fetchone()[0]

    @api.model
    def _route_wake_helper(self):
        """Large backlog: wake the second router, which shares the work
        through the same claims."""
        if self._route_due_count() >= ROUTE_HELPER_BACKLOG:
            self._trigger_router(helper=True)
            # Commit now, so that the helper starts while this batch runs.
            self._route_commit()

    @api.model
    def _route_schedule_retry(self):
        """Wake the router when the next failed SMS is due again."""
        self.flush_model(["state", "routing_retry_at"])
        self.env.cr.execute(
            """SELECT min(routing_retry_at) FROM sms_center_message
                WHERE state = 'to_route' AND routing_retry_at > %s""",
            [fields.Datetime.now()],
        )
        next_at = self.env.cr.fetchone()[0]
        if next_at:
            self._trigger_router(at=next_at)
            self._route_commit()

    def action_route_now(self):
        """Route these SMS at once (after their cause of failure is fixed):
        the router takes them within seconds."""
        self._check_secretariat()
        # sudo: the router's bookkeeping fields are not for users to write.
        waiting = self.sudo().filtered(lambda m: m.state == "to_route")
        waiting._route_write({"routing_retry_at": False})
        waiting._trigger_router()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "message": self.env._(
                    "The SMS will be routed within a few seconds; reload to see "
                    "the result."
                ),
            },
        }

    def _route_write(self, vals):
        """Write the router's results on the SMS: no tracking, no chatter
        (its fields say it all), one UPDATE per batch once flushed."""
        return self.with_context(tracking_disable=True).write(vals)

    # ------------------------------------------------------------------
    # Routing (one SMS or a batch: the same code)
    # ------------------------------------------------------------------

    def _route(self):
        """Route the stored SMS ``self`` (arrival order): tickets, follow-ups
        added to open tickets, automatic replies.

        Reserved words (CEK, INFO and their aliases) come first: they are
        answered and create no ticket. Then keywords; otherwise the sender
        gets the unknown-keyword reply.

        Set-oriented, for the router's batches: contacts and tickets are
        created with one create() per segment, the automatic replies queued
        together, the SMS updated in one UPDATE. The result is the one of
        routing the SMS one by one in arrival order: a follow-up joins the
        ticket an earlier SMS of the same batch created, daily limits count
        in order, and a CEK ends a segment, so that its answer sees exactly
        the tickets of the SMS before it.
        """
        if not self:
            return
        Keyword = self.env["sms_center.keyword"]
        reserved = Keyword._get_reserved_words()
        matches = {}

        def match(word):
            if word not in matches:
                matches[word] = Keyword._match(word) if word else Keyword
            return matches[word]

        # Contacts and daily limits are per number: serialize with any other
        # transaction routing the same numbers (a receive() in parallel).
        self._lock_numbers(
            m.sender_e164 for m in self if m.sender_kind == phone.KIND_NUMBER
        )
        segment = []
        for message in self:
            kind, keyword = message._route_kind(reserved, match)
            if kind == "rejected":
                message._route_write(
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
                        "routing_error": False,
                        "routing_retry_at": False,
                    }
                )
                continue
            segment.append((message, kind, keyword))
            if kind == "status":
                self._route_segment(segment)
                segment = []
        if segment:
            self._route_segment(segment)

    def _route_kind(self, reserved, match):
        """``(kind, keyword)`` of this SMS: kind is ``rejected``, ``status``
        (CEK), ``info`` (INFO), ``keyword`` or ``unknown``."""
        self.ensure_one()
        word = self.keyword_text
        reserved_kind = reserved.get(word) if word else False
        keyword = match(word)
        if reserved_kind and keyword:
            # Only a keyword created before its word was reserved can
            # collide (both are refused since): it keeps working until
            # renamed, as reported at upgrade and on the keyword.
            reserved_kind = False
        elif reserved_kind:
            keyword = keyword.browse()
        elif not keyword and self._status_word_with_reference(word, reserved):
            # "CEKD482": the code typed without a space.
            reserved_kind = "status"
        if self.sender_kind != phone.KIND_NUMBER:
            return "rejected", keyword
        if reserved_kind:
            return reserved_kind, keyword
        return ("keyword" if keyword else "unknown"), keyword

    @api.model
    def _route_segment(self, items):
        """Route ``items`` (``(message, kind, keyword)`` in arrival order):
        tickets first, then the automatic replies in order."""
        new_tickets = self._route_to_keywords(
            [
                (message, keyword)
                for message, kind, keyword in items
                if kind == "keyword"
            ]
        )
        replies = []
        receipts = self._receipt_enabled()
        for message, kind, _keyword in items:
            if kind == "keyword":
                ticket = new_tickets.get(message.id)
                # A new ticket's routing includes its receipt (never for
                # follow-ups).
                if ticket and receipts:
                    replies.append(
                        (message, "receipt", partial(message._build_receipt, ticket))
                    )
                continue
            message._route_write(
                {
                    "state": kind,
                    "routing_error": False,
                    "routing_retry_at": False,
                }
            )
            if kind == "status":
                replies.append((message, "status", message._build_status_reply))
            elif kind == "info":
                replies.append((message, "info", message._build_info_reply))
            else:
                replies.append(
                    (
                        message,
                        "unknown_keyword",
                        message._build_unknown_keyword_reply,
                    )
                )
        self._send_auto_replies(replies)

    def _route_to_keyword(self, keyword, manual=False):
        """Route this SMS to ``keyword`` (``manual``: by the secretariat,
        always a new ticket), receipt included; return its ticket."""
        self.ensure_one()
        self._lock_numbers([self.sender_e164])
        ticket = self._route_to_keywords([(self, keyword)], manual=manual).get(self.id)
        if ticket and self._receipt_enabled():
            self._send_auto_replies(
                [(self, "receipt", partial(self._build_receipt, ticket))]
            )
        return self.ticket_id

    @api.model
    def _route_to_keywords(self, items, manual=False):
        """Tickets for ``items`` (``(message, keyword)`` in arrival order):
        a follow-up joins the open ticket of the same number and keyword
        (also one created by an earlier item), the others get a new ticket.
        Returns ``{message id: new ticket}``."""
        if not items:
            return {}
        partners = self._find_or_create_partners(
            [message.sender_e164 for message, _keyword in items]
        )
        window = self.env["sms_center.settings"]._sms_center_setting(
            "append_window_minutes"
        )
        appendable = window > 0 and not manual
        # Open tickets each item may join, by (partner, keyword):
        # [(received at, order, ticket or index of a ticket to create)].
        candidates = (
            self._tickets_to_append(items, partners, window) if appendable else {}
        )
        new_vals, plan = [], []
        common = self._prepare_ticket_common_vals()
        for message, keyword in items:
            partner = partners[message.sender_e164]
            key = (partner.id, keyword.id)
            target = None
            if appendable:
                since = message.received_at - timedelta(minutes=window)
                recent = [c for c in candidates.get(key, ()) if c[0] >= since]
                # The latest one, as a search by reception time would give.
                target = max(recent, key=lambda c: (c[0], c[1]))[2] if recent else None
            if target is None:
                index = len(new_vals)
                new_vals.append(
                    dict(
                        common(keyword),
                        **message._prepare_ticket_vals(keyword, partner),
                    )
                )
                candidates.setdefault(key, []).append(
                    (message.received_at, (1, index), index)
                )
                plan.append((message, keyword, partner, "routed", index))
            else:
                plan.append((message, keyword, partner, "appended", target))
        tickets = self._create_tickets(new_vals)
        new_tickets = {}
        for message, keyword, partner, state, target in plan:
            # An index: the ticket created for an item (this one or, for a
            # follow-up, an earlier one).
            ticket = tickets[target] if isinstance(target, int) else target
            message._route_write(
                {
                    "keyword_id": keyword.id,
                    "partner_id": partner.id,
                    "ticket_id": ticket.id,
                    "state": state,
                    "routing_error": False,
                    "routing_retry_at": False,
                }
            )
            if state == "routed":
                new_tickets[message.id] = ticket
                continue
            # The citizen never becomes a follower: citizens never log in, and
            # followers' contacts are read by every officer posting there.
            ticket.with_context(mail_create_nosubscribe=True).message_post(
                body=plaintext2html(message.text),
                author_id=partner.id,
                message_type="comment",
                subtype_xmlid="mail.mt_note",
            )
        return new_tickets

    @api.model
    def _tickets_to_append(self, items, partners, window):
        """Open, unanswered SMS tickets received within ``window`` minutes
        before any of ``items``, by (partner, keyword)."""
        earliest = min(message.received_at for message, _keyword in items)
        tickets = self.env["helpdesk.ticket"].search(
            [
                ("partner_id", "in", [p.id for p in partners.values()]),
                ("sms_keyword_id", "in", list({kw.id for _m, kw in items})),
                ("sms_answered", "=", False),
                ("stage_id.closed", "=", False),
                ("sms_received_at", ">=", earliest - timedelta(minutes=window)),
            ]
        )
        candidates = {}
        for ticket in tickets:
            candidates.setdefault(
                (ticket.partner_id.id, ticket.sms_keyword_id.id), []
            ).append((ticket.sms_received_at, (0, ticket.id), ticket))
        return candidates

    @api.model
    def _create_tickets(self, vals_list):
        """The helpdesk tickets of SMS in their keywords' inboxes, in one
        create() (no creation log: the ticket shows its SMS)."""
        return (
            self.env["helpdesk.ticket"]
            .with_context(
                mail_create_nolog=True,
                mail_auto_subscribe_no_notify=True,
            )
            .create(vals_list)
            if vals_list
            else self.env["helpdesk.ticket"]
        )

    @api.model
    def _prepare_ticket_common_vals(self):
        """``function(keyword) -> vals`` shared by the tickets of a batch,
        looked up once: the SMS channel and each unit's first stage (what
        helpdesk_mgmt's create() would look up for every ticket)."""
        channel_id = self.env.ref("sms_center.helpdesk_ticket_channel_sms").id
        stages = {}

        def common(keyword):
            team = keyword.team_id
            if team not in stages:
                stages[team] = team._get_applicable_stages()[:1].id if team else False
            vals = {"channel_id": channel_id}
            if stages[team]:
                vals["stage_id"] = stages[team]
            return vals

        return common

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
            "sms_keyword_id": keyword.id,
            "sms_received_at": self.received_at,
            "sms_simulated": self.simulated,
        }

    @api.model
    def _lock_number(self, number):
        """Serialize work per sender number with the router (see
        :meth:`_lock_numbers`; the retention and requests use it)."""
        self._lock_numbers([number])

    @api.model
    def _lock_numbers(self, numbers):
        """Serialize work per sender number (contact creation, daily limits)
        with other transactions; locks taken in one order, no deadlock."""
        keys = sorted({f"sms_center:{number}" for number in numbers if number})
        if keys:
            self.env.cr.execute(
                """SELECT pg_advisory_xact_lock(h)
                     FROM (SELECT DISTINCT hashtext(k) AS h
                             FROM unnest(%s::text[]) AS k
                            ORDER BY 1 OFFSET 0) AS keys""",
                [keys],
            )

    @api.model
    def _find_or_create_partners(self, numbers):
        """``{E.164 number: contact}``: the existing contact of each number
        (the oldest), else a new one (all created in one create())."""
        numbers = list(dict.fromkeys(n for n in numbers if n))
        Partner = self.env["res.partner"].with_context(active_test=False)
        found = {}
        for partner in Partner.search([("phone_sanitized", "in", numbers)], order="id"):
            found.setdefault(partner.phone_sanitized, partner)
        missing = [n for n in numbers if n not in found]
        if missing:
            country_id = self.env.ref("base.id").id
            created = Partner.with_context(tracking_disable=True).create(
                [
                    {
                        "name": self.env._("SMS %(number)s", number=phone.mask(e164)),
                        "mobile": e164,
                        "country_id": country_id,
                        "sms_center_citizen": True,
                    }
                    for e164 in missing
                ]
            )
            found.update(zip(missing, created, strict=True))
        return found

    # ------------------------------------------------------------------
    # Automatic replies: unknown keyword (R4), receipt, CEK, INFO (R17)
    # ------------------------------------------------------------------

    @api.model
    def _send_auto_replies(self, replies):
        """Send the automatic replies ``replies`` (``(message, kind,
        build_body)`` in arrival order).

        Every automatic reply goes through here: the same loop protection
        and daily limit per number (counted in order), the same queue and
        gateways, its text and status stored on the SMS, the reason stored
        when none is sent. The SMS are queued together.
        """
        if not replies:
            return
        limit = self.env["sms_center.settings"]._sms_center_setting(
            "auto_reply_daily_limit"
        )
        center_numbers = self.env["sms_center.gateway"]._get_center_numbers()
        sent_today = self._auto_replies_today(
            [message.sender_e164 for message, _kind, _build in replies]
        )
        now = fields.Datetime.now()
        posts = []
        for message, kind, build_body in replies:
            skipped = message._auto_reply_blocked_reason(
                center_numbers, limit, sent_today.get(message.sender_e164, 0)
            )
            body = not skipped and build_body()
            if not skipped and not body:
                skipped = self.env._(
                    "The SMS text to citizens for this answer is empty."
                )
            if skipped:
                message._route_write({"auto_reply_skipped": skipped})
                continue
            sent_today[message.sender_e164] = sent_today.get(message.sender_e164, 0) + 1
            message._route_write(
                {
                    "auto_reply_body": body,
                    "auto_reply_at": now,
                    "auto_reply_kind": kind,
                    "auto_reply_skipped": False,
                }
            )
            posts.append((message, body))
        if not posts:
            return
        sms_list = self.env["sms.sms"]._sms_center_post_many(
            [
                (
                    message,
                    body,
                    message.sender_e164,
                    message.gateway_id.default_sender_id,
                )
                for message, body in posts
            ]
        )
        for (message, _body), sms in zip(posts, sms_list, strict=True):
            message.with_context(tracking_disable=True)._sms_status_track(sms)

    @api.model
    def _auto_replies_today(self, numbers):
        """``{number: automatic replies sent to it today}`` (regency day)."""
        numbers = list({n for n in numbers if n})
        if not numbers:
            return {}
        return dict(
            self._read_group(
                [
                    ("sender_e164", "in", numbers),
                    ("auto_reply_at", ">=", self._regency_day_start()),
                ],
                ["sender_e164"],
                ["__count"],
            )
        )

    def _auto_reply_blocked_reason(self, center_numbers, limit, sent_today):
        """Why no automatic reply may go to this sender (loop protection)."""
        self.ensure_one()
        if self.sender_kind != phone.KIND_NUMBER:
            return self.env._("The sender is not a phone number.")
        if self.sender_e164 in center_numbers:
            return self.env._("The sender is one of the center's own numbers.")
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

    def _close_spam_tickets(self):
        """Close the open tickets of these SMS whose every SMS is spam
        (stage Rejected, or the first other closed stage), as the
        secretariat would by hand."""
        tickets = self.ticket_id.filtered(lambda t: not t.stage_id.closed)
        if not tickets:
            return tickets
        # sudo: every SMS of a ticket counts, whatever the moderator may read.
        tickets -= (
            self.sudo()
            .search(
                [("ticket_id", "in", tickets.ids), ("moderation_state", "!=", "spam")]
            )
            .ticket_id.with_env(self.env)
        )
        Stage = self.env["helpdesk.ticket.stage"]
        stage = self.env.ref(
            "helpdesk_mgmt.helpdesk_ticket_stage_rejected", raise_if_not_found=False
        )
        if not stage or not stage.closed:
            stage = Stage.search(
                [
                    ("closed", "=", True),
                    (
                        "id",
                        "!=",
                        self.env.ref("sms_center.helpdesk_ticket_stage_answered").id,
                    ),
                ],
                limit=1,
            )
        if tickets and stage:
            tickets.write({"stage_id": stage.id})
        return tickets

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
