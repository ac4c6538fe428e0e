"""Outgoing SMS through the center's own gateways (R7, R14, R15).

``sms.sms`` stays Odoo's queue and state machine. When at least one SMS
Center gateway sends, the center takes the queue over from Odoo's IAP
sender:

* nothing is transmitted inside a user's transaction: ``send()`` only
  queues and wakes the worker, so a rolled-back request cannot leave a sent
  SMS behind, and a sent SMS always has its record;
* the worker claims a batch with ``FOR UPDATE SKIP LOCKED`` (concurrent
  workers never take the same SMS), marks it ``process`` and commits before
  talking to the gateway, then records the answers and commits again;
* temporary failures go back to the queue with exponential back-off, up to
  the gateway's attempt limit; an answer that may or may not have reached
  the gateway (timeout after sending) is never retried automatically, so no
  SMS is sent twice, and is shown as failed with that reason so that an
  officer decides about resending;
* an SMS left in ``process`` by a crash is, likewise, failed with the reason
  "interrupted" after a grace period, never resent blindly;
* an SMS that no active gateway can send stays queued as "waiting for a
  gateway" (the administrators get an activity for answers) until a
  gateway is added or changed; the center's own SMS never fall back to
  Odoo's IAP service, other Odoo SMS do while the center has no gateway;
* numbers of the simulator's test list only ever go to the simulator.

The public status of each SMS is kept on the records that inherit
``sms_center.sms.status.mixin`` and on Odoo's ``mail.notification`` (chatter
icons), both updated from here; ``sms.sms`` rows can be cleaned up.
"""

import logging
import threading
import time
from datetime import timedelta

from odoo import Command, api, fields, models
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY

from odoo.addons.sms.tools.sms_tools import sms_content_to_rendered_html

from ..lib import dlr as dlr_lib
from ..lib import phone
from ..tools.mail import author_email_from

_logger = logging.getLogger(__name__)

STALE_PROCESS_MINUTES = 15
# A scheduled run of the worker hands over SMS for this many seconds, then
# wakes itself again and gives the cron thread back: the other ready jobs,
# the inbound router first (priority 1), run in between, so that a flood of
# receipts never holds the routing of new SMS back. Its first round claims
# SEND_FIRST_ROUND SMS at most; later rounds are sized on the time the
# previous one took, up to the gateway's batch size.
SEND_TIME_BUDGET = 2
SEND_FIRST_ROUND = 20
# Pending SMS without a final delivery report are cleaned up after this.
PENDING_RETENTION_DAYS = 7
# SMS center status -> sms.sms state.
DLR_TO_SMS_STATE = {
    dlr_lib.DELIVERED: "sent",
    dlr_lib.PENDING: "pending",
    dlr_lib.FAILED: "error",
}


def _testing():
    return getattr(threading.current_thread(), "testing", False)


class SmsSms(models.Model):
    _inherit = "sms.sms"

    sms_center_sender_id = fields.Char(
        string="Sender ID", help="Alphanumeric sender ID requested for this SMS."
    )
    sms_center_gateway_id = fields.Many2one(
        "sms_center.gateway",
        string="Gateway",
        index="btree_not_null",
        ondelete="set null",
        copy=False,
    )
    sms_center_attempts = fields.Integer(string="Attempts", copy=False)
    sms_center_next_attempt = fields.Datetime(string="Next attempt", copy=False)
    sms_center_gateway_ref = fields.Char(
        string="Gateway reference", index="btree_not_null", copy=False
    )
    sms_center_failure_reason = fields.Char(string="Failure reason", copy=False)
    sms_center_processing_since = fields.Datetime(string="Handed over at", copy=False)
    sms_center_managed = fields.Boolean(
        string="Sent by the SMS Center",
        copy=False,
        help="Answers, automatic replies and reminders: only the center's "
        "gateways send them.",
    )
    sms_center_waiting = fields.Boolean(
        string="Waiting for a gateway",
        copy=False,
        help="No active gateway sends to this number; sent as soon as one does.",
    )
    # Delivery reports saying "not delivered" (``_sms_center_apply_dlr``):
    # Odoo 18 has this value on mail.notification and sms.tracker only.
    failure_type = fields.Selection(
        selection_add=[("sms_not_delivered", "Not Delivered")],
        ondelete={"sms_not_delivered": "set null"},
    )

    def init(self):
        # The worker's claim query: queued SMS by due time.
        self.env.cr.execute(
            """CREATE INDEX IF NOT EXISTS sms_sms_sms_center_queue_idx
               ON sms_sms (id) WHERE state = 'outgoing'"""
        )
        # Monitoring endpoint: the SMS waiting to be sent (by gateway, oldest
        # first) and the failed ones still waiting for a resend or a cancel,
        # without reading the SMS already handed over.
        self.env.cr.execute(
            """CREATE INDEX IF NOT EXISTS sms_sms_sms_center_waiting_idx
               ON sms_sms (sms_center_gateway_id, create_date)
               WHERE state IN ('outgoing', 'process')"""
        )
        self.env.cr.execute(
            """CREATE INDEX IF NOT EXISTS sms_sms_sms_center_failed_idx
               ON sms_sms (create_date)
               WHERE state = 'error' AND NOT COALESCE(to_delete, FALSE)"""
        )

    @api.model_create_multi
    def create(self, vals_list):
        sms = super().create(vals_list)
        sender = self.env.context.get("sms_center_sender_id")
        if sender:
            sms.filtered(
                lambda s: not s.sms_center_sender_id
            ).sms_center_sender_id = sender
        if self.env.context.get("sms_center_managed"):
            sms.sms_center_managed = True
        gateway_id = self.env.context.get("sms_center_gateway_id")
        if gateway_id:
            # sudo: the gateway is resolved for any user who sends a test SMS.
            gateway = self.env["sms_center.gateway"].sudo().browse(gateway_id)
            Gateway = self.env["sms_center.gateway"]
            for record in sms:
                # Test numbers of the simulator never reach a real gateway,
                # even when a gateway is asked for by name.
                if gateway.gateway_type != "simulator" and (
                    Gateway._is_simulator_number(phone.to_e164(record.number))
                ):
                    continue
                record.sms_center_gateway_id = gateway
        return sms

    def write(self, vals):
        if vals.get("state") == "outgoing" and "sms_center_next_attempt" not in vals:
            # Resent by hand (Odoo's resend wizard or ours): a fresh start.
            vals = dict(
                vals,
                sms_center_next_attempt=False,
                sms_center_attempts=0,
                sms_center_waiting=False,
            )
        res = super().write(vals)
        if {"state", "failure_type", "sms_center_waiting"} & set(
            vals
        ) and not self.env.context.get("sms_center_keep_status"):
            self._sms_center_propagate_status()
        return res

    def _sms_center_propagate_status(self):
        """Copy the queue state onto the durable status records (R7)."""
        Mixin = self.env["sms_center.sms.status.mixin"]
        groups = {}
        for sms in self:
            key = (
                sms.state,
                sms.failure_type or False,
                sms.sms_center_failure_reason or False,
                sms.sms_center_waiting,
            )
            groups.setdefault(key, []).append(sms.uuid)
        for (state, failure_type, reason, waiting), uuids in groups.items():
            Mixin._sms_status_apply(
                uuids, Mixin._sms_status_values(state, failure_type, reason, waiting)
            )

    # ------------------------------------------------------------------
    # Queueing
    # ------------------------------------------------------------------

    @api.model
    def _sms_center_trigger_queue(self, at=None):
        """Run the SMS Center worker as soon as this transaction commits."""
        cron = self.env.ref(
            "sms_center.ir_cron_sms_center_outbound", raise_if_not_found=False
        )
        if cron:
            # sudo: any user posting an SMS may wake the worker.
            cron.sudo()._trigger(at=at)
        modem_cron = self.env.ref(
            "sms_center.ir_cron_sms_center_gammu_poll", raise_if_not_found=False
        )
        # Modems send from their own worker: wake it too when one is in use.
        if modem_cron and self.env["sms_center.gateway"].sudo().search_count(
            [("gateway_type", "=", "gammu"), ("outbound_enabled", "=", True)], limit=1
        ):
            # sudo: any user posting an SMS may wake the modem worker.
            modem_cron.sudo()._trigger(at=at)

    @api.model
    def _sms_center_post(self, record, body, number, sender_id=False, gateway=None):
        """Post ``body`` as an SMS on ``record``'s chatter and queue it.

        Returns the queued ``sms.sms``. The SMS is never sent inside the
        current transaction (see the module docstring).
        """
        record.ensure_one()
        author = self.env.user.partner_id
        email_from = author_email_from(self.env)
        message = record.with_context(
            sms_center_sender_id=sender_id,
            sms_center_gateway_id=gateway.id if gateway else False,
            sms_center_managed=True,
        )._message_sms(
            body,
            partner_ids=[],
            sms_numbers=[number],
            put_in_queue=True,
            author_id=author.id,
            email_from=email_from,
        )
        # sudo: sms.sms is a technical queue only system users can read.
        sms = self.sudo().search(
            [("mail_message_id", "=", message.id)], order="id desc", limit=1
        )
        self._sms_center_trigger_queue()
        return sms

    @api.model
    def _sms_center_post_many(self, items):
        """Queue many SMS at once, each posted on its record's chatter; the
        ``sms.sms`` records, in the order of ``items``.

        ``items``: ``(record, body, number, sender_id)``, records of one
        model and each at most once. The inbound router's automatic replies
        go through here: the chatter messages, SMS, notifications and
        trackers are what :meth:`_sms_center_post` creates for one record
        (Odoo's ``_message_sms`` to a number), each kind created with one
        create(), and the worker woken once. Nobody is subscribed to the
        records (an automatic reply has no author to follow them).
        """
        if not items:
            return []
        records = items[0][0].browse([item[0].id for item in items])
        author = self.env.user.partner_id
        email_from = author_email_from(self.env)
        # sudo: as message_post, whoever triggers the automatic reply.
        alias_domains = records.sudo()._mail_get_alias_domains(
            default_company=self.env.company
        )
        companies = records._mail_get_companies(default=self.env.company)
        reply_to = records._notify_get_reply_to(default=email_from)
        subtype_id = self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_note")
        messages = records._message_create(
            [
                {
                    "author_id": author.id,
                    "email_from": email_from,
                    "model": records._name,
                    "res_id": record.id,
                    "record_name": record.sudo().display_name,
                    "record_alias_domain_id": alias_domains[record.id].id,
                    "record_company_id": companies[record.id].id,
                    "reply_to": reply_to[record.id],
                    "body": sms_content_to_rendered_html(body),
                    "message_type": "sms",
                    "subtype_id": subtype_id,
                    "email_add_signature": True,
                }
                for record, body, _number, _sender in items
            ]
        )
        # sudo: sms.sms is a technical queue only system users can create.
        sms_records = self.sudo().create(
            [
                {
                    "body": body,
                    "mail_message_id": message.id,
                    "number": record._phone_format(number=number) or number,
                    "partner_id": False,
                    "state": "outgoing",
                    "sms_center_sender_id": sender or False,
                    # As _sms_center_post: only the center's gateways send it.
                    "sms_center_managed": True,
                }
                for (record, body, number, sender), message in zip(
                    items, messages, strict=True
                )
            ]
        )
        # sudo: as Odoo's _notify_thread_by_sms, notifications are system data.
        self.env["mail.notification"].sudo().create(
            [
                {
                    "author_id": author.id,
                    "mail_message_id": sms.mail_message_id.id,
                    "res_partner_id": False,
                    "sms_number": sms.number,
                    "notification_type": "sms",
                    "sms_id_int": sms.id,
                    "sms_tracker_ids": [Command.create({"sms_uuid": sms.uuid})],
                    "is_read": True,
                    "notification_status": "ready",
                    "failure_type": "",
                }
                for sms in sms_records
            ]
        )
        self._sms_center_trigger_queue()
        return list(sms_records)

    def _send(self, unlink_failed=False, unlink_sent=True, raise_exception=False):
        """Odoo's immediate send: with center gateways, queue instead.

        The center's own SMS are always queued for its gateways; other Odoo
        SMS keep Odoo's IAP sender while the center has no gateway. Works
        the same on 18.0 builds with and without the SMS provider hooks
        (``_split_by_api``), which both end here.
        """
        if self.env["sms_center.gateway"]._outbound_gateways():
            self._sms_center_trigger_queue()
            return None
        center = self.filtered("sms_center_managed")
        if center:
            self._sms_center_trigger_queue()
        if self - center:
            return super(SmsSms, self - center)._send(
                unlink_failed=unlink_failed,
                unlink_sent=unlink_sent,
                raise_exception=raise_exception,
            )
        return None

    @api.model
    def _process_queue(self, ids=None):
        """Odoo's queue cron: hand over to the center worker when it sends."""
        if self.env["sms_center.gateway"]._outbound_gateways():
            return self._sms_center_process_queue()
        # No gateway: the center's SMS wait for one, the others go to IAP.
        self._sms_center_process_queue()
        others = self.search(
            [
                ("state", "=", "outgoing"),
                ("to_delete", "!=", True),
                ("sms_center_managed", "=", False),
            ]
            + ([("id", "in", ids)] if ids else []),
            limit=10000,
        )
        if others:
            return super()._process_queue(ids=others.ids)
        return None

    # ------------------------------------------------------------------
    # Worker
    # ------------------------------------------------------------------

    @api.model
    def _sms_center_process_queue(self, max_rounds=50, time_budget=None):
        """Send queued SMS through the HTTP gateways (cron entry point).

        Modem gateways are served by the modem worker, which claims the SMS
        routed to it the same way.

        ``time_budget``: seconds after which no new round starts; by
        default ``SEND_TIME_BUDGET`` in a scheduled run (Odoo's scheduler),
        none otherwise. A run that stops before the queue is empty wakes
        the worker again, after the other ready jobs.
        """
        Gateway = self.env["sms_center.gateway"]
        gateways = Gateway._outbound_gateways()
        self._sms_center_fail_stale()
        http_gateways = gateways.filtered(lambda g: g.gateway_type != "gammu")
        if time_budget is None and self.env.context.get("cron_id"):
            time_budget = SEND_TIME_BUDGET
        deadline = None if time_budget is None else time.monotonic() + time_budget
        limit = SEND_FIRST_ROUND if deadline is not None else None
        emptied = False
        for _round in range(max_rounds):
            self._sms_center_route_new(gateways)
            started = time.monotonic()
            batch = self._sms_center_claim(http_gateways, limit=limit)
            if not batch:
                emptied = True
                break
            for gateway, sms_batch in batch.grouped("sms_center_gateway_id").items():
                sms_batch._sms_center_hand_over(gateway)
                self._sms_center_commit()
            if deadline is not None:
                now = time.monotonic()
                if now >= deadline:
                    break
                seconds_per_sms = (now - started) / len(batch)
                limit = max(1, int((deadline - now) / max(seconds_per_sms, 1e-3)))
        if deadline is not None and not emptied:
            _logger.info("SMS queue: time budget used, continuing after other jobs")
            self._sms_center_trigger_queue()
        self._sms_center_schedule_retry()
        return True

    def _sms_center_hand_over(self, gateway):
        """Transmit ``self`` (claimed for ``gateway``) and record the outcome."""
        try:
            results = gateway._transmit(self)
        except Exception as exc:  # noqa: BLE001 - keep the worker alive
            _logger.exception("SMS gateway %s crashed while sending", gateway.code)
            results = {
                sms.id: dlr_lib.SendResult(False, True, detail=str(exc)) for sms in self
            }
        self._sms_center_apply_results(gateway, results)
        gateway._after_transmit(self.filtered(lambda s: s.state == "pending"))

    @api.model
    def _sms_center_commit(self):
        """Commit worker progress: a batch handed to a gateway must stay
        recorded whatever happens to the rest of the run (no SMS twice).

        ``sms_center_no_commit`` in the context: the caller's transaction
        holds the whole run, as the simulator's does (nothing of it leaves
        Odoo, so there is nothing to protect by committing early).
        """
        if not _testing() and not self.env.context.get("sms_center_no_commit"):
            self.env.cr.commit()  # pylint: disable=invalid-commit

    @api.model
    def _sms_center_lock_rows(self, query, params):
        """Ids locked by ``query`` (a SELECT ... FOR UPDATE SKIP LOCKED).

        Under REPEATABLE READ, a row another worker changed since this
        transaction's snapshot raises a serialization failure even with SKIP
        LOCKED: that is a normal race between workers, not an error. This
        round then takes nothing; the worker is woken again.
        """
        self.flush_model()
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(query, params, log_exceptions=False)
                return [row[0] for row in self.env.cr.fetchall()]
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY as exc:
            _logger.info(
                "SMS queue: another worker won the race (%s)", type(exc).__name__
            )
            self._sms_center_trigger_queue()
            return []

    @api.model
    def _sms_center_route_new(self, gateways):
        """Give queued SMS without a gateway their gateway (by prefix).

        SMS already waiting for a gateway are left alone until a gateway
        changes (``sms_center.gateway`` releases them); while the center has
        no gateway at all, only its own SMS are taken (the others are Odoo's
        IAP sender's).
        """
        rows = self._sms_center_lock_rows(
            """SELECT id FROM sms_sms
                WHERE state = 'outgoing' AND NOT COALESCE(to_delete, FALSE)
                  AND NOT COALESCE(sms_center_waiting, FALSE)
                  AND (sms_center_gateway_id IS NULL
                       OR sms_center_gateway_id != ALL(%s))
                  AND (%s OR sms_center_managed)
                ORDER BY id LIMIT 5000
                FOR UPDATE SKIP LOCKED""",
            [gateways.ids or [0], bool(gateways)],
        )
        # sudo: the worker runs as the scheduler; the queue is system-only.
        self.sudo().browse(rows)._sms_center_route(gateways)
        self._sms_center_commit()

    def _sms_center_route(self, gateways):
        """Route ``self`` (locked queued SMS) to ``gateways``, or fail them,
        or keep them waiting for a gateway."""
        Gateway = self.env["sms_center.gateway"]
        Mixin = self.env["sms_center.sms.status.mixin"]
        waiting = routed = self.browse()
        for sms in self:
            number = phone.to_e164(sms.number)
            if not number:
                sms.write(
                    {
                        "state": "error",
                        "failure_type": "sms_number_format",
                        "sms_center_failure_reason": self.env._(
                            "%(number)s is not a valid phone number.",
                            number=sms.number or "-",
                        ),
                    }
                )
                continue
            gateway = Gateway._route_outbound(number, gateways)
            if gateway:
                sms.write(
                    {
                        "sms_center_gateway_id": gateway.id,
                        "number": number,
                        "sms_center_waiting": False,
                    }
                )
                routed |= sms
            elif Gateway._is_simulator_number(number):
                reason = self.env._(
                    "Test number of the simulator, which is not active: never "
                    "sent through another gateway."
                )
                sms.write(
                    {
                        "state": "error",
                        "failure_type": "sms_server",
                        "sms_center_failure_reason": reason,
                    }
                )
                sms.sms_tracker_id._action_update_from_sms_state(
                    "error", failure_type="sms_server", failure_reason=reason
                )
            else:
                waiting |= sms
        if waiting:
            waiting.write(
                {
                    "sms_center_waiting": True,
                    "sms_center_failure_reason": self.env._(
                        "No active gateway sends to this number."
                    ),
                }
            )
            waiting._sms_center_notify_waiting()
        if routed:
            Mixin._sms_status_release_waiting(routed.mapped("uuid"))
            routed._sms_center_settle_waiting()

    # ------------------------------------------------------------------
    # Waiting for a gateway
    # ------------------------------------------------------------------

    def _sms_center_tickets(self):
        """SMS tickets whose chatter ``self`` was posted in (answers)."""
        messages = self.mail_message_id.filtered(lambda m: m.model == "helpdesk.ticket")
        # sudo: the queue worker settles activities in every unit.
        return self.env["helpdesk.ticket"].sudo().browse(messages.mapped("res_id"))

    def _sms_center_notify_waiting(self):
        """Administrators get an activity on each ticket whose answer waits
        for a gateway (once per ticket and administrator while it waits)."""
        activity_type = self.env.ref(
            "sms_center.mail_activity_type_sms_no_gateway", raise_if_not_found=False
        )
        tickets = self._sms_center_tickets().exists()
        if not activity_type or not tickets:
            return
        admins = self.env["sms_center.gateway"]._sms_center_admins()
        for ticket in tickets:
            numbers = {
                phone.mask(sms.number)
                for sms in self
                if sms.mail_message_id.res_id == ticket.id
            }
            has = ticket.activity_ids.filtered(
                lambda a: a.activity_type_id == activity_type
            ).user_id
            for admin in admins - has:
                # In the administrator's language, whoever runs the worker.
                env = self.with_context(lang=admin.lang).env
                ticket.with_context(mail_activity_quick_update=True).activity_schedule(
                    activity_type_id=activity_type.id,
                    user_id=admin.id,
                    note=env._(
                        "The answer to %(number)s waits: no active SMS gateway "
                        "sends to this number. Add or activate a gateway (SMS "
                        "Center > Configuration > Gateways), or extend the "
                        "numbers a gateway sends to; the answer then goes out "
                        "by itself.",
                        number=", ".join(sorted(numbers)),
                    ),
                )

    def _sms_center_settle_waiting(self):
        """Close the "waiting for a gateway" activities of the tickets whose
        answers found a gateway."""
        activity_type = self.env.ref(
            "sms_center.mail_activity_type_sms_no_gateway", raise_if_not_found=False
        )
        if not activity_type:
            return
        for ticket in self._sms_center_tickets().exists():
            activities = ticket.activity_ids.filtered(
                lambda a: a.activity_type_id == activity_type
            )
            if not activities:
                continue
            still_waiting = self.search_count(
                [
                    ("mail_message_id", "in", ticket.message_ids.ids),
                    ("state", "=", "outgoing"),
                    ("sms_center_waiting", "=", True),
                ],
                limit=1,
            )
            if not still_waiting:
                activities.action_feedback(
                    feedback=self.env._("A gateway now sends this answer.")
                )

    @api.model
    def _sms_center_release_waiting(self):
        """A gateway was added or changed: route the waiting SMS again."""
        # sudo: any administrator's change to a gateway releases the queue.
        waiting = self.sudo().search(
            [("state", "=", "outgoing"), ("sms_center_waiting", "=", True)]
        )
        if waiting:
            # Only the flag: their status stays "waiting" until routed.
            waiting.with_context(sms_center_keep_status=True).write(
                {"sms_center_waiting": False}
            )
        self._sms_center_trigger_queue()

    @api.model
    def _sms_center_claim(self, gateways, limit=None):
        """Lock, mark ``process`` and commit a batch of due SMS of ``gateways``."""
        if not gateways:
            return self.browse()
        batch_size = max(gateways.mapped("batch_size") or [0]) or 200
        limit = min(limit, batch_size) if limit else batch_size
        rows = self._sms_center_lock_rows(
            """SELECT id FROM sms_sms
                WHERE state = 'outgoing' AND NOT COALESCE(to_delete, FALSE)
                  AND sms_center_gateway_id = ANY(%s)
                  AND (sms_center_next_attempt IS NULL
                       OR sms_center_next_attempt <= (now() AT TIME ZONE 'UTC'))
                ORDER BY id LIMIT %s
                FOR UPDATE SKIP LOCKED""",
            [gateways.ids, limit],
        )
        # sudo: the worker runs as the scheduler; the queue is system-only.
        batch = self.sudo().browse(rows)
        if not batch:
            return batch
        now = fields.Datetime.now()
        for attempts, group in batch.grouped("sms_center_attempts").items():
            group.write(
                {
                    "state": "process",
                    "sms_center_attempts": attempts + 1,
                    "sms_center_processing_since": now,
                }
            )
        self._sms_center_commit()
        return batch

    def _sms_center_apply_results(self, gateway, results):
        """Record what ``gateway`` answered for each SMS of ``self``."""
        now = fields.Datetime.now()
        accepted_any = False
        last_error = False
        for sms in self:
            result = results.get(sms.id) or dlr_lib.SendResult(
                False, True, detail="no answer recorded"
            )
            values = {"sms_center_processing_since": False}
            if result.accepted:
                accepted_any = True
                values.update(
                    state="pending",
                    failure_type=False,
                    sms_center_failure_reason=False,
                    sms_center_gateway_ref=result.gateway_ref or sms.uuid,
                )
            elif result.uncertain:
                last_error = result.detail
                values.update(
                    state="error",
                    failure_type="sms_server",
                    sms_center_failure_reason=self.env._(
                        "The gateway did not answer (%(detail)s): the SMS may have "
                        "been sent. Not retried automatically, to avoid sending it "
                        "twice.",
                        detail=result.detail[:200],
                    ),
                )
            elif result.temporary and sms.sms_center_attempts < (
                gateway.max_attempts or 1
            ):
                last_error = result.detail
                values.update(
                    state="outgoing",
                    sms_center_next_attempt=now
                    + gateway._retry_delay(sms.sms_center_attempts),
                    sms_center_failure_reason=self.env._(
                        "Attempt %(attempt)s failed, retrying: %(detail)s",
                        attempt=sms.sms_center_attempts,
                        detail=result.detail[:200],
                    ),
                )
            else:
                if result.temporary:
                    last_error = result.detail
                values.update(
                    state="error",
                    failure_type="sms_server",
                    sms_center_failure_reason=self.env._(
                        "Refused by %(gateway)s: %(detail)s",
                        gateway=gateway.name,
                        detail=result.detail[:300],
                    ),
                )
            sms.write(values)
            tracker_reason = values.get("sms_center_failure_reason") or False
            sms.sms_tracker_id._action_update_from_sms_state(
                values["state"],
                failure_type=values.get("failure_type") or False,
                failure_reason=tracker_reason if values["state"] == "error" else False,
            )
        Mixin = self.env["sms_center.sms.status.mixin"]
        # The gateway that took (or refused) each SMS, for the outgoing
        # analysis: the sms.sms row holding it is cleaned up later.
        Mixin._sms_status_apply(self.mapped("uuid"), {"sms_gateway_id": gateway.id})
        for sms in self.filtered(lambda s: s.state == "pending"):
            Mixin._sms_status_apply(
                [sms.uuid], {"sms_gateway_ref": sms.sms_center_gateway_ref}
            )
        if last_error and not accepted_any:
            gateway._note_error(last_error)
        elif accepted_any:
            gateway._note_success()
        self.mail_message_id._notify_message_notification_update()

    @api.model
    def _sms_center_fail_stale(self):
        """SMS left in ``process`` by a crash: failed, never resent blindly."""
        limit = fields.Datetime.now() - timedelta(minutes=STALE_PROCESS_MINUTES)
        # sudo: the worker runs as the scheduler; the queue is system-only.
        stale = self.sudo().search(
            [
                ("state", "=", "process"),
                ("sms_center_gateway_id", "!=", False),
                ("sms_center_processing_since", "<", limit),
            ]
        )
        if stale:
            _logger.warning("Failing %s SMS interrupted while sending", len(stale))
            stale.write(
                {
                    "state": "error",
                    "failure_type": "sms_server",
                    "sms_center_processing_since": False,
                    "sms_center_failure_reason": self.env._(
                        "Sending was interrupted (restart or crash): the SMS may have "
                        "been sent. Not retried automatically; resend if needed."
                    ),
                }
            )
            self._sms_center_commit()

    @api.model
    def _sms_center_schedule_retry(self):
        """Wake the worker when the next retry is due."""
        self.env.cr.execute(
            """SELECT MIN(sms_center_next_attempt) FROM sms_sms
                WHERE state = 'outgoing' AND sms_center_next_attempt IS NOT NULL"""
        )
        next_at = self.env.cr.fetchone()[0]
        if next_at:
            self._sms_center_trigger_queue(at=max(next_at, fields.Datetime.now()))

    # ------------------------------------------------------------------
    # Delivery reports
    # ------------------------------------------------------------------

    @api.model
    def _sms_center_apply_dlr(self, gateway, event):
        """Apply a delivery report (:class:`lib.dlr.DlrEvent`) of ``gateway``.

        Matches our reference (the SMS uuid) first, then the gateway's id;
        works after Odoo cleaned the ``sms.sms`` row up. Returns True when
        a message was found.
        """
        Sms = self.sudo().with_context(active_test=False)
        sms = Sms.browse()
        if event.ref:
            sms = Sms.search([("uuid", "=", event.ref)], limit=1)
        if not sms and event.gateway_ref:
            sms = Sms.search(
                [
                    ("sms_center_gateway_ref", "=", event.gateway_ref),
                    ("sms_center_gateway_id", "=", gateway.id),
                ],
                order="id desc",
                limit=1,
            )
        Mixin = self.env["sms_center.sms.status.mixin"]
        if not sms:
            return Mixin._sms_status_apply_dlr(event)
        sms._sms_center_lock_rows_for_report()
        current = {"sent": dlr_lib.DELIVERED, "error": dlr_lib.FAILED}.get(sms.state)
        status = dlr_lib.merge_status(current, event.status)
        if status == current:
            return True
        values = {"state": DLR_TO_SMS_STATE[status]}
        if status == dlr_lib.FAILED:
            values.update(
                failure_type="sms_not_delivered",
                sms_center_failure_reason=event.reason or self.env._("Not delivered"),
            )
        else:
            values.update(failure_type=False, sms_center_failure_reason=False)
        if status in (dlr_lib.DELIVERED, dlr_lib.FAILED):
            values["to_delete"] = True
        sms.write(values)
        sms.sms_tracker_id._action_update_from_sms_state(
            values["state"],
            failure_type=values.get("failure_type") or False,
            failure_reason=values.get("sms_center_failure_reason") or False,
        )
        gateway._note_success()
        return True

    def _sms_center_lock_rows_for_report(self):
        """Lock these SMS before a delivery report changes them.

        Gateways send several reports for one SMS at once (Kannel: "SMSC
        accepted" and "delivered"); without a lock both requests update the
        row and PostgreSQL aborts one with a serialization failure, logged
        as an ERROR by the ORM. Locked first, the second report waits for
        the first; under REPEATABLE READ it may then fail here, quietly,
        and Odoo replays the request, which applies it on the new state.
        """
        if not self:
            return
        self.env.cr.execute(
            "SELECT id FROM sms_sms WHERE id IN %s ORDER BY id FOR UPDATE",
            [tuple(self.ids)],
            log_exceptions=False,  # a concurrency error Odoo retries
        )
        # Read the values as locked, not as cached before the lock.
        self.invalidate_recordset()

    @api.autovacuum
    def _gc_sms_center_pending(self):
        """Forget queue rows whose delivery report never came."""
        limit = fields.Datetime.now() - timedelta(days=PENDING_RETENTION_DAYS)
        self.sudo().search(
            [
                ("state", "=", "pending"),
                ("sms_center_gateway_id", "!=", False),
                ("write_date", "<", limit),
            ]
        ).write({"to_delete": True})
