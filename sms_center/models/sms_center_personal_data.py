"""Citizens' numbers: retention and pseudonymisation (UU 27/2022 PDP).

A citizen's number lives in several places: the inbound SMS (``sender``,
``sender_e164``), the answers (``number``), the citizen's contact
(``mobile``, ``phone``, ``phone_sanitized``), Odoo's SMS queue
(``sms.sms.number``), the chatter's SMS notifications
(``mail.notification.sms_number``), the modem's stored parts and delivery
reports, and, sometimes, in texts the center wrote itself (failure reasons,
gateway errors, notes, answers). Pseudonymising a number replaces it by its
keyed pseudonym (``tools/pseudonym.py``) in the structured fields and by its
masked form (``0812****432``) in the center's own texts. The citizen's SMS
text, and its copies on the ticket, are never changed (Pasal 11 huruf e).

Two ways in:

* the retention cron: every number of the SMS of tickets closed more than
  the retention period ago (and of SMS without a ticket received before
  then); the contact once every SMS linked to it is pseudonymised; old
  transport logs (modem parts and reports, queue rows, notifications,
  gateway errors) by age;
* a data protection request (``sms_center.data.request``): everything of
  one number, at once.

The work is raw SQL on rows locked first (``FOR NO KEY UPDATE SKIP
LOCKED``): two cron workers share the work without waiting on each other,
and a run repeated later finds nothing left to do (idempotent). Per number,
the contact is pseudonymised under the same advisory lock as the one
inbound routing takes, so that a new SMS and the retention never disagree
on its contact.
"""

import logging

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import SQL

from ..lib import phone
from ..lib import pseudonym as pseudonym_lib
from ..tools.pseudonym import pseudonyms

_logger = logging.getLogger(__name__)

# Tickets (or SMS without a ticket) pseudonymised per cron round; the cron
# runs again at once while some are left.
RETENTION_BATCH = 200
# Rows of old transport logs looked at per table and cron run.
LOG_SWEEP_BATCH = 1000
PERSONAL_SENDER_KINDS = [phone.KIND_NUMBER, phone.KIND_INVALID]
# Rough PostgreSQL pre-filter of texts that may hold a phone number; the
# exact test is lib.phone (Python).
SQL_NUMBER_HINT = r"(\+|62|0)[-. ()]*[1-9]([-. ()]*[0-9]){7,}"


# Not a pseudonym yet (pseudonyms start with lib.pseudonym.PREFIX).
NOT_PSEUDONYM = "left(%s, 4) <> 'psn:'"


def _not_pseudonym(column):
    return SQL(NOT_PSEUDONYM, SQL.identifier(column))


class SmsCenterPersonalData(models.AbstractModel):
    _name = "sms_center.personal.data"
    _description = "SMS Center citizens' numbers (retention, pseudonymisation)"

    # ------------------------------------------------------------------
    # Pseudonyms
    # ------------------------------------------------------------------

    @api.model
    def _pseudonym(self, value):
        """The pseudonym of ``value`` (an E.164 number), or False."""
        if not value or pseudonym_lib.is_pseudonym(value):
            return value or False
        return pseudonyms(self.env.cr, [value]).get(value, False)

    # ------------------------------------------------------------------
    # Retention (scheduled action)
    # ------------------------------------------------------------------

    @api.model
    def _retention_cutoff(self):
        """Records older than this lose their numbers; None: keep them."""
        months = self.env["sms_center.settings"]._sms_center_setting("retention_months")
        if months <= 0:
            return None
        return fields.Datetime.now() - relativedelta(months=months)

    @api.model
    def _cron_apply_retention(self, batch_size=RETENTION_BATCH):
        """Pseudonymise the numbers kept longer than the retention period.

        Returns ``{"messages": n, "partners": n, "logs": n}`` for this round.
        """
        cutoff = self._retention_cutoff()
        if cutoff is None:
            return {}
        self.env.flush_all()
        try:
            with self.env.cr.savepoint(flush=False):
                ticket_ids = self._lock_ids(
                    SQL(
                        """SELECT t.id FROM helpdesk_ticket t
                             JOIN helpdesk_ticket_stage s ON s.id = t.stage_id
                            WHERE t.sms_keyword_id IS NOT NULL AND s.closed
                              AND t.closed_date < %(cutoff)s
                              AND EXISTS (
                                  SELECT 1 FROM sms_center_message m
                                   WHERE m.ticket_id = t.id
                                     AND m.pseudonymised_at IS NULL
                                     AND m.sender_kind = ANY(%(kinds)s))
                            ORDER BY t.id LIMIT %(limit)s
                              FOR NO KEY UPDATE OF t SKIP LOCKED""",
                        cutoff=cutoff,
                        kinds=PERSONAL_SENDER_KINDS,
                        limit=batch_size,
                    )
                )
                message_ids = self._lock_ids(
                    SQL(
                        """SELECT id FROM sms_center_message
                            WHERE ticket_id = ANY(%(tickets)s)
                              AND pseudonymised_at IS NULL
                              AND sender_kind = ANY(%(kinds)s)
                              FOR NO KEY UPDATE SKIP LOCKED""",
                        tickets=ticket_ids,
                        kinds=PERSONAL_SENDER_KINDS,
                    )
                )
                loose_ids = self._lock_ids(
                    SQL(
                        """SELECT id FROM sms_center_message
                            WHERE ticket_id IS NULL AND pseudonymised_at IS NULL
                              AND sender_kind = ANY(%(kinds)s)
                              AND received_at < %(cutoff)s
                            ORDER BY id LIMIT %(limit)s
                              FOR NO KEY UPDATE SKIP LOCKED""",
                        cutoff=cutoff,
                        kinds=PERSONAL_SENDER_KINDS,
                        limit=batch_size,
                    )
                )
                messages = self.env["sms_center.message"].browse(
                    message_ids + loose_ids
                )
                done = self._pseudonymise_records(
                    messages, self.env["helpdesk.ticket"].browse(ticket_ids)
                )
                partners = self._pseudonymise_partners(
                    self._partners_due(messages.partner_id.ids, batch_size)
                )
                logs = 0
                if len(ticket_ids) < batch_size and len(loose_ids) < batch_size:
                    # The backlog is done: contacts left by earlier runs (busy
                    # at the time) and old transport logs, once per run.
                    partners |= self._pseudonymise_partners(
                        self._partners_due(None, batch_size)
                    )
                    logs = self._pseudonymise_old_logs(cutoff)
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY as exc:
            # Another transaction changed a row of this batch since this one
            # began: nothing of the batch is kept; the next run takes it.
            _logger.info(
                "Retention of citizens' numbers: batch left for the next run (%s)",
                type(exc).__name__,
            )
            self.env.invalidate_all()
            return {}
        self.env.invalidate_all()
        remaining = self._retention_remaining(cutoff)
        self.env["ir.cron"]._notify_progress(
            done=done + len(partners), remaining=remaining
        )
        if done or partners or logs:
            _logger.info(
                "Retention of citizens' numbers: %s SMS, %s contacts, %s log rows "
                "pseudonymised; %s tickets or SMS left",
                done,
                len(partners),
                logs,
                remaining,
            )
        return {"messages": done, "partners": len(partners), "logs": logs}

    @api.model
    def _retention_remaining(self, cutoff, cap=1000):
        """Tickets and SMS without a ticket still due, counted up to ``cap``
        each (the cron runs again while some are left; an exact count of a
        large backlog would cost more than a round)."""
        cr = self.env.cr
        cr.execute(
            SQL(
                """SELECT (SELECT count(*) FROM (
                               SELECT 1 FROM helpdesk_ticket t
                                 JOIN helpdesk_ticket_stage s ON s.id = t.stage_id
                                WHERE t.sms_keyword_id IS NOT NULL AND s.closed
                                  AND t.closed_date < %(cutoff)s
                                  AND EXISTS (
                                      SELECT 1 FROM sms_center_message m
                                       WHERE m.ticket_id = t.id
                                         AND m.pseudonymised_at IS NULL
                                         AND m.sender_kind = ANY(%(kinds)s))
                                LIMIT %(cap)s) AS tickets)
                        + (SELECT count(*) FROM (
                               SELECT 1 FROM sms_center_message
                                WHERE ticket_id IS NULL AND pseudonymised_at IS NULL
                                  AND sender_kind = ANY(%(kinds)s)
                                  AND received_at < %(cutoff)s
                                LIMIT %(cap)s) AS messages)""",
                cutoff=cutoff,
                kinds=PERSONAL_SENDER_KINDS,
                cap=cap,
            )
        )
        return cr.fetchone()[0]

    @api.model
    def _lock_ids(self, query):
        """Ids of the rows ``query`` (an SQL SELECT ... FOR ...) locks.

        A concurrency error (a row changed since this transaction began) goes
        to the caller, without an error in the log: it is a normal race
        between workers, handled there.
        """
        self.env.cr.execute(query, log_exceptions=False)
        return [row[0] for row in self.env.cr.fetchall()]

    @api.model
    def _execute(self, query):
        """Run the SQL ``query``; concurrency errors go to the caller unlogged."""
        self.env.cr.execute(query, log_exceptions=False)
        return self.env.cr.rowcount

    # ------------------------------------------------------------------
    # Pseudonymising records
    # ------------------------------------------------------------------

    def _pseudonymise_records(self, messages, tickets):
        """Pseudonymise the numbers of ``messages`` (inbound SMS, with their
        automatic replies) and of ``tickets`` (answers, chatter, SMS queue,
        notifications, modem parts and reports). Rows are written in SQL; the
        caller has locked ``messages`` and ``tickets``. Returns the number of
        SMS pseudonymised."""
        cr = self.env.cr
        self.env.flush_all()
        now = fields.Datetime.now()
        uid = self.env.uid
        cr.execute(
            SQL(
                """SELECT id, sender, sender_e164, sender_kind, sms_uuid,
                          partner_id, ticket_id
                     FROM sms_center_message
                    WHERE id = ANY(%s) AND pseudonymised_at IS NULL
                      AND sender_kind = ANY(%s)""",
                messages.ids,
                PERSONAL_SENDER_KINDS,
            )
        )
        rows = cr.fetchall()
        message_ids = [row[0] for row in rows]
        numbers = {row[2] for row in rows if row[2]}
        uuids = {row[4] for row in rows if row[4]}
        citizen_partner_ids = {row[5] for row in rows if row[5]}
        ticket_ids = sorted(set(tickets.ids) | {row[6] for row in rows if row[6]})
        cr.execute(
            SQL(
                """SELECT id, number, sms_uuid FROM sms_center_reply
                    WHERE ticket_id = ANY(%s)""",
                ticket_ids,
            )
        )
        reply_ids = []
        for reply_id, number, uuid in cr.fetchall():
            reply_ids.append(reply_id)
            if number and not pseudonym_lib.is_pseudonym(number):
                numbers.add(number)
            if uuid:
                uuids.add(uuid)
        cr.execute(
            SQL(
                """SELECT DISTINCT partner_id FROM helpdesk_ticket
                    WHERE id = ANY(%s) AND partner_id IS NOT NULL""",
                ticket_ids,
            )
        )
        citizen_partner_ids |= {row[0] for row in cr.fetchall()}
        numbers = sorted(numbers)
        uuids = sorted(uuids)
        # Inbound SMS: the number into its pseudonym, once (the trigger
        # checks it); an invalid sender also loses its unmasked display.
        for message_id, sender, _e164, kind, *_rest in rows:
            if kind == phone.KIND_INVALID:
                self._execute(
                    SQL(
                        """UPDATE sms_center_message SET sender_masked = %s
                            WHERE id = %s""",
                        phone.mask(sender),
                        message_id,
                    )
                )
        done = self._execute(
            SQL(
                """UPDATE sms_center_message
                      SET sender = sms_center_pseudonym(COALESCE(sender_e164, sender)),
                          sender_e164 = sms_center_pseudonym(sender_e164),
                          sender_key = COALESCE(sender_key,
                                                sms_center_pseudonym(sender_e164)),
                          pseudonymised_at = %(now)s,
                          write_uid = %(uid)s, write_date = %(now)s
                    WHERE id = ANY(%(ids)s) AND pseudonymised_at IS NULL""",
                now=now,
                uid=uid,
                ids=message_ids,
            )
        )
        self._mask_texts(
            "sms_center_message", ["sms_failure_reason"], message_ids, numbers
        )
        # Answers: the number they went to; the number in their texts.
        self._execute(
            SQL(
                """UPDATE sms_center_reply
                      SET number = sms_center_pseudonym(number),
                          write_uid = %s, write_date = %s
                    WHERE id = ANY(%s) AND %s""",
                uid,
                now,
                reply_ids,
                _not_pseudonym("number"),
            )
        )
        self._mask_texts(
            "sms_center_reply", ["body", "sms_failure_reason"], reply_ids, numbers
        )
        # The ticket's copies of texts the center or the secretariat wrote:
        # the last answer's failure reason, the published wording (issues 7
        # and 9).
        self._mask_texts(
            "helpdesk_ticket",
            ["partner_name", "sms_answer_failure_reason", "sms_question_wording"],
            ticket_ids,
            numbers,
        )
        # Chatter of the tickets and SMS: notes, SMS queue, notifications.
        # The citizen's own SMS, copied on the ticket, stay as received.
        cr.execute(
            SQL(
                """SELECT id FROM mail_message
                    WHERE (model = 'helpdesk.ticket' AND res_id = ANY(%s))
                       OR (model = 'sms_center.message' AND res_id = ANY(%s))""",
                ticket_ids,
                message_ids,
            )
        )
        mail_ids = [row[0] for row in cr.fetchall()]
        self._mask_texts(
            "mail_message",
            ["body"],
            mail_ids,
            numbers,
            exclude_authors=sorted(citizen_partner_ids),
        )
        self._pseudonymise_sms_queue(
            SQL(
                "(mail_message_id = ANY(%s) OR uuid = ANY(%s)) AND number = ANY(%s)",
                mail_ids,
                uuids,
                numbers,
            ),
            numbers,
        )
        self._pseudonymise_notifications(
            SQL(
                "mail_message_id = ANY(%s) AND sms_number = ANY(%s)",
                mail_ids,
                numbers,
            ),
            numbers,
        )
        # The modem's copies: parts take their message's pseudonym, reports
        # the pseudonym of the number they were about.
        self._execute(
            SQL(
                """UPDATE sms_center_modem_part p
                      SET sender = m.sender
                     FROM sms_center_message m
                    WHERE p.message_id = m.id AND m.id = ANY(%s)
                      AND p.sender IS DISTINCT FROM m.sender""",
                message_ids,
            )
        )
        cr.execute(
            SQL(
                """SELECT id, recipient FROM sms_center_modem_report
                    WHERE sms_uuid = ANY(%s) AND %s""",
                uuids,
                _not_pseudonym("recipient"),
            )
        )
        self._pseudonymise_column("sms_center_modem_report", "recipient", cr.fetchall())
        self._pseudonymise_simulator(
            SQL(
                "(message_id = ANY(%s) OR sms_uuid = ANY(%s)) AND number = ANY(%s)",
                message_ids,
                uuids,
                numbers,
            ),
            numbers,
        )
        self.env.invalidate_all()
        return done

    def _pseudonymise_simulator(self, condition, numbers):
        """The simulator's phones (issue 9) matching ``condition``: a
        simulator that takes every number (training and demo databases)
        holds a copy of every SMS to a citizen. The number takes its
        pseudonym; numbers written in what the center sent are masked. What
        the phone sent is the citizen's SMS as typed, like the inbound SMS
        it became (Pasal 11 huruf e)."""
        cr = self.env.cr
        cr.execute(
            SQL(
                """SELECT id, direction FROM sms_center_simulator_message
                    WHERE %s AND %s""",
                condition,
                _not_pseudonym("number"),
            )
        )
        rows = cr.fetchall()
        if not rows:
            return 0
        ids = [row[0] for row in rows]
        self._execute(
            SQL(
                """UPDATE sms_center_simulator_message
                      SET number = sms_center_pseudonym(number)
                    WHERE id = ANY(%s)""",
                ids,
            )
        )
        self._mask_texts(
            "sms_center_simulator_message",
            ["body"],
            [row_id for row_id, direction in rows if direction == "out"],
            numbers,
        )
        self._mask_texts(
            "sms_center_simulator_message", ["failure_reason"], ids, numbers
        )
        return len(rows)

    def _mask_texts(self, table, columns, ids, numbers, exclude_authors=None):
        """Mask ``numbers`` wherever they are written in ``columns`` of the
        rows ``ids`` of ``table``; ``exclude_authors``: leave the messages of
        these authors (mail_message) alone. Returns the values changed."""
        if not ids or not numbers:
            return 0
        cr = self.env.cr
        changed = 0
        excluded = SQL("TRUE")
        if exclude_authors:
            excluded = SQL(
                "(author_id IS NULL OR author_id != ALL(%s))", list(exclude_authors)
            )
        for column in columns:
            cr.execute(
                SQL(
                    """SELECT id, %s FROM %s
                        WHERE id = ANY(%s) AND %s IS NOT NULL AND %s""",
                    SQL.identifier(column),
                    SQL.identifier(table),
                    list(ids),
                    SQL.identifier(column),
                    excluded,
                )
            )
            changed += self._write_masked(table, column, cr.fetchall(), numbers)
        return changed

    def _write_masked(self, table, column, rows, numbers=None):
        """Mask the ``(id, value)`` ``rows`` of ``column`` in ``table`` (see
        ``_mask_value``) in one UPDATE; returns the values changed."""
        changes = [
            (row_id, masked)
            for row_id, value in rows
            if (masked := self._mask_value(value, numbers)) != value
        ]
        if changes:
            self._execute(
                SQL(
                    """UPDATE %s SET %s = changed.value
                         FROM (VALUES %s) AS changed(id, value)
                        WHERE %s.id = changed.id""",
                    SQL.identifier(table),
                    SQL.identifier(column),
                    SQL(", ").join(SQL("(%s, %s)", *change) for change in changes),
                    SQL.identifier(table),
                )
            )
        return len(changes)

    @api.model
    def _mask_value(self, value, numbers=None):
        """``value`` with ``numbers`` (E.164) masked where written; every
        phone-like number when ``numbers`` is None."""
        if not value:
            return value
        text = str(value)
        if numbers is None:
            return phone.mask_any_number_in_text(text)
        return phone.mask_in_text(text, numbers)

    def _pseudonymise_column(self, table, column, rows):
        """Replace each ``(id, number as written)`` of ``rows`` by the
        pseudonym of the number (its E.164 form when it is one)."""
        rows = [(row_id, value) for row_id, value in rows if value]
        if not rows:
            return 0
        normalized = {
            value: phone.to_e164(value) or value.strip() for _id, value in rows
        }
        by_number = pseudonyms(self.env.cr, normalized.values())
        for row_id, value in rows:
            self._execute(
                SQL(
                    "UPDATE %s SET %s = %s WHERE id = %s",
                    SQL.identifier(table),
                    SQL.identifier(column),
                    by_number[normalized[value]],
                    row_id,
                )
            )
        return len(rows)

    def _pseudonymise_sms_queue(self, condition, numbers):
        """Odoo's queue rows matching ``condition``: the ones still waiting
        are cancelled (their number is gone), every one gets the pseudonym."""
        cr = self.env.cr
        cr.execute(SQL("SELECT id, uuid, state FROM sms_sms WHERE %s", condition))
        rows = cr.fetchall()
        if not rows:
            return 0
        ids = [row[0] for row in rows]
        waiting = [row for row in rows if row[2] in ("outgoing", "process")]
        if waiting:
            self._cancel_waiting_sms(waiting)
        self._execute(
            SQL(
                """UPDATE sms_sms SET number = sms_center_pseudonym(number)
                    WHERE id = ANY(%s) AND %s""",
                ids,
                _not_pseudonym("number"),
            )
        )
        self._mask_texts("sms_sms", ["body", "sms_center_failure_reason"], ids, numbers)
        return len(rows)

    def _cancel_waiting_sms(self, rows):
        """SMS still queued for a number being pseudonymised: never sent."""
        reason = self.env._(
            "Not sent: the number was pseudonymised (personal data protection)."
        )
        now = fields.Datetime.now()
        ids = [row[0] for row in rows]
        uuids = [row[1] for row in rows if row[1]]
        self._execute(
            SQL(
                """UPDATE sms_sms SET state = 'canceled',
                          sms_center_failure_reason = %s, to_delete = TRUE
                    WHERE id = ANY(%s)""",
                reason,
                ids,
            )
        )
        for model in self.env["sms_center.sms.status.mixin"]._sms_status_models():
            self._execute(
                SQL(
                    """UPDATE %s
                          SET sms_state = 'failed', sms_failure_reason = %s,
                              sms_failure_type = 'sms_server', sms_status_date = %s
                        WHERE sms_uuid = ANY(%s)""",
                    SQL.identifier(model._table),
                    reason,
                    now,
                    uuids,
                )
            )
        self._execute(
            SQL(
                """UPDATE mail_notification SET notification_status = 'canceled'
                    WHERE sms_id_int = ANY(%s)
                      AND notification_status IN ('ready', 'process', 'pending')""",
                ids,
            )
        )

    def _pseudonymise_notifications(self, condition, numbers):
        cr = self.env.cr
        cr.execute(SQL("SELECT id FROM mail_notification WHERE %s", condition))
        ids = [row[0] for row in cr.fetchall()]
        if not ids:
            return 0
        self._execute(
            SQL(
                """UPDATE mail_notification
                      SET sms_number = sms_center_pseudonym(sms_number)
                    WHERE id = ANY(%s) AND %s""",
                ids,
                _not_pseudonym("sms_number"),
            )
        )
        self._mask_texts("mail_notification", ["failure_reason"], ids, numbers)
        return len(ids)

    # ------------------------------------------------------------------
    # Contacts
    # ------------------------------------------------------------------

    @api.model
    def _partners_due(self, partner_ids, limit):
        """Citizens' contacts whose every SMS is pseudonymised and who have
        no open SMS ticket: among ``partner_ids``, or (None) a batch of any
        left over by earlier runs (busy at the time)."""
        cr = self.env.cr
        candidates = SQL("TRUE")
        if partner_ids is not None:
            candidates = SQL("p.id = ANY(%s)", list(partner_ids))
        cr.execute(
            SQL(
                """SELECT p.id FROM res_partner p
                    WHERE p.sms_center_citizen AND p.sms_center_pseudonymised_at IS NULL
                      AND %(candidates)s
                      AND EXISTS (
                          SELECT 1 FROM sms_center_message m
                           WHERE m.partner_id = p.id AND m.pseudonymised_at IS NOT NULL)
                      AND NOT EXISTS (
                          SELECT 1 FROM sms_center_message m
                           WHERE m.partner_id = p.id AND m.pseudonymised_at IS NULL)
                      AND NOT EXISTS (
                          SELECT 1 FROM helpdesk_ticket t
                            JOIN helpdesk_ticket_stage s ON s.id = t.stage_id
                           WHERE t.partner_id = p.id AND t.sms_keyword_id IS NOT NULL
                             AND NOT s.closed)
                    ORDER BY p.id LIMIT %(limit)s""",
                candidates=candidates,
                limit=limit if partner_ids is None else len(partner_ids),
            )
        )
        return self.env["res.partner"].browse([row[0] for row in cr.fetchall()])

    def _pseudonymise_partners(self, partners, wait=False):
        """Pseudonymise citizens' contacts: the number leaves ``mobile``,
        ``phone`` and ``phone_sanitized`` for its pseudonym in
        ``sms_center_number_key``; the name, already masked, stays (a number
        written in it by hand is masked). ``wait``: wait for contacts locked
        by another transaction (a request) instead of leaving them for the
        next run (the cron). Returns the contacts done."""
        # sudo: citizens' contacts are hidden from most users; the center
        # pseudonymises them on its own behalf.
        Partner = self.env["res.partner"].sudo().with_context(active_test=False)
        if not partners:
            return Partner
        self.env.flush_all()
        ids = self._lock_ids(
            SQL(
                """SELECT id FROM res_partner
                    WHERE id = ANY(%s) AND sms_center_citizen
                      AND sms_center_pseudonymised_at IS NULL
                    ORDER BY id %s""",
                partners.ids,
                SQL("FOR NO KEY UPDATE" if wait else "FOR NO KEY UPDATE SKIP LOCKED"),
            )
        )
        if ids and not wait:
            # The lock inbound routing takes for a number: a contact whose
            # number is being routed right now is left for the next run.
            ids = self._lock_ids(
                SQL(
                    """SELECT id FROM res_partner
                        WHERE id = ANY(%s)
                          AND (phone_sanitized IS NULL OR pg_try_advisory_xact_lock(
                                   hashtext('sms_center:' || phone_sanitized)))
                        ORDER BY id""",
                    ids,
                )
            )
        if not ids:
            return Partner
        # A number written by hand in the name: masked through the ORM, which
        # keeps the contact's display name in step.
        for partner in Partner.browse(ids):
            numbers = {partner.phone_sanitized, partner.mobile, partner.phone}
            numbers = [phone.to_e164(n) or n for n in numbers if n]
            name = self._mask_value(partner.name, numbers)
            if name and name != partner.name:
                partner.with_context(tracking_disable=True).name = name
        self.env.flush_all()
        self._execute(
            SQL(
                """UPDATE res_partner
                      SET sms_center_number_key = sms_center_pseudonym(
                              COALESCE(phone_sanitized, mobile, phone)),
                          mobile = NULL, phone = NULL, phone_sanitized = NULL,
                          sms_center_pseudonymised_at = %(now)s,
                          write_uid = %(uid)s, write_date = %(now)s
                    WHERE id = ANY(%(ids)s)""",
                now=fields.Datetime.now(),
                uid=self.env.uid,
                ids=ids,
            )
        )
        Partner.browse(ids).invalidate_recordset()
        return Partner.browse(ids)

    # ------------------------------------------------------------------
    # Old transport logs (retention by age)
    # ------------------------------------------------------------------

    def _pseudonymise_old_logs(self, cutoff):
        """Numbers in transport logs older than ``cutoff``: modem parts and
        reports, Odoo's queue rows and SMS notifications, gateway errors,
        gateway chatter and activities. Returns the rows changed."""
        cr = self.env.cr
        changed = 0
        for table, column, condition in (
            (
                "sms_center_modem_part",
                "sender",
                SQL("message_id IS NULL AND first_seen_at < %s", cutoff),
            ),
            (
                "sms_center_modem_report",
                "recipient",
                SQL("first_seen_at < %s", cutoff),
            ),
            (
                "sms_sms",
                "number",
                SQL(
                    "create_date < %s AND state NOT IN ('outgoing', 'process')",
                    cutoff,
                ),
            ),
            (
                "sms_center_simulator_message",
                "number",
                SQL("create_date < %s", cutoff),
            ),
            (
                "mail_notification",
                "sms_number",
                SQL(
                    """mail_message_id IN (
                           SELECT id FROM mail_message WHERE date < %s)""",
                    cutoff,
                ),
            ),
        ):
            cr.execute(
                SQL(
                    """SELECT id, %(column)s FROM %(table)s
                        WHERE %(condition)s AND %(column)s ~ '[0-9]{7}'
                          AND %(not_pseudonym)s
                        ORDER BY id LIMIT %(limit)s""",
                    column=SQL.identifier(column),
                    table=SQL.identifier(table),
                    condition=condition,
                    not_pseudonym=_not_pseudonym(column),
                    limit=LOG_SWEEP_BATCH,
                )
            )
            changed += self._pseudonymise_column(table, column, cr.fetchall())
        for table, column, condition in (
            ("sms_center_gateway", "last_error", SQL("last_error_at < %s", cutoff)),
            (
                "mail_message",
                "body",
                SQL("model = 'sms_center.gateway' AND date < %s", cutoff),
            ),
            (
                "mail_activity",
                "note",
                SQL("res_model = 'sms_center.gateway' AND create_date < %s", cutoff),
            ),
            ("sms_sms", "sms_center_failure_reason", SQL("create_date < %s", cutoff)),
            (
                "sms_center_gateway_outage",
                "first_error",
                SQL("started_at < %s", cutoff),
            ),
            (
                "sms_center_simulator_message",
                "body",
                SQL("direction = 'out' AND create_date < %s", cutoff),
            ),
            (
                "sms_center_simulator_message",
                "failure_reason",
                SQL("create_date < %s", cutoff),
            ),
            (
                "mail_notification",
                "failure_reason",
                SQL(
                    """mail_message_id IN (
                           SELECT id FROM mail_message WHERE date < %s)""",
                    cutoff,
                ),
            ),
        ):
            changed += self._mask_old_texts(table, column, condition)
        changed += self.env["sms_center.data.request"]._pseudonymise_old(cutoff)
        return changed

    def _mask_old_texts(self, table, column, condition):
        cr = self.env.cr
        cr.execute(
            SQL(
                """SELECT id, %(column)s FROM %(table)s
                    WHERE %(condition)s AND %(column)s ~ %(hint)s
                    ORDER BY id LIMIT %(limit)s""",
                column=SQL.identifier(column),
                table=SQL.identifier(table),
                condition=condition,
                hint=SQL_NUMBER_HINT,
                limit=LOG_SWEEP_BATCH,
            )
        )
        return self._write_masked(table, column, cr.fetchall())

    # ------------------------------------------------------------------
    # One number, at a citizen's request
    # ------------------------------------------------------------------

    @api.model
    def _records_of_number(self, number, key=None):
        """Everything held for ``number`` (E.164, or its pseudonym once it was
        pseudonymised), before or after its pseudonymisation: ``{"messages",
        "replies", "tickets", "partners"}``, as sudo recordsets (callers check
        the user's right first)."""
        key = key or self._pseudonym(number)
        numbers = [n for n in (number,) if n and not pseudonym_lib.is_pseudonym(n)]
        # sudo: a data protection request covers every unit's records.
        env = self.sudo().with_context(active_test=False).env
        messages = env["sms_center.message"].search(
            ["|", ("sender_e164", "in", numbers), ("sender_key", "=", key)],
            order="received_at, id",
        )
        partners = env["res.partner"].search(
            [
                ("sms_center_citizen", "=", True),
                "|",
                ("phone_sanitized", "in", numbers),
                ("sms_center_number_key", "=", key),
            ],
            order="id",
        )
        tickets = messages.ticket_id | env["helpdesk.ticket"].search(
            [("partner_id", "in", partners.ids), ("sms_keyword_id", "!=", False)]
        )
        replies = env["sms_center.reply"].search(
            ["|", ("ticket_id", "in", tickets.ids), ("number", "in", [*numbers, key])],
            order="create_date, id",
        )
        return {
            "messages": messages,
            "replies": replies,
            "tickets": tickets.sorted("id"),
            "partners": partners,
        }

    @api.model
    def _pseudonymise_number(self, number):
        """Pseudonymise everything held for ``number`` (E.164) now, whatever
        the retention period. Returns ``(records, counts)``: the records
        concerned (see :meth:`_records_of_number`) and what changed."""
        # Inbound SMS of this number wait until this is done (routing takes
        # the same lock), so that none slips in with the full number.
        self.env["sms_center.message"]._lock_number(number)
        self.env.flush_all()
        records = self._records_of_number(number)
        messages = records["messages"]
        tickets = records["tickets"]
        self._lock_ids(
            SQL(
                "SELECT id FROM helpdesk_ticket WHERE id = ANY(%s) FOR NO KEY UPDATE",
                tickets.ids,
            )
        )
        self._lock_ids(
            SQL(
                """SELECT id FROM sms_center_message WHERE id = ANY(%s)
                   FOR NO KEY UPDATE""",
                messages.ids,
            )
        )
        done = self._pseudonymise_records(messages, tickets)
        partners = self._pseudonymise_partners(records["partners"], wait=True)
        logs = 0
        if not pseudonym_lib.is_pseudonym(number):
            logs = self._pseudonymise_number_everywhere(number)
        self.env.invalidate_all()
        return records, {
            "messages": done,
            "replies": len(records["replies"]),
            "tickets": len(tickets),
            "partners": len(partners),
            "logs": logs,
        }

    def _pseudonymise_number_everywhere(self, number):
        """The rest of ``number``'s traces, wherever they are: queue rows,
        notifications, modem parts and reports, and the texts the center
        wrote (failure reasons, gateway errors, notes, activities)."""
        cr = self.env.cr
        numbers = [number]
        changed = self._pseudonymise_sms_queue(SQL("number = %s", number), numbers)
        changed += self._pseudonymise_notifications(
            SQL("sms_number = %s", number), numbers
        )
        changed += self._pseudonymise_simulator(SQL("number = %s", number), numbers)
        digits = number.lstrip("+")[-9:]
        for table, column in (
            ("sms_center_modem_part", "sender"),
            ("sms_center_modem_report", "recipient"),
        ):
            cr.execute(
                SQL(
                    """SELECT id, %(column)s FROM %(table)s
                        WHERE %(not_pseudonym)s
                          AND regexp_replace(%(column)s, '[^0-9]', '', 'g')
                              LIKE %(like)s""",
                    column=SQL.identifier(column),
                    table=SQL.identifier(table),
                    not_pseudonym=_not_pseudonym(column),
                    like=f"%{digits}",
                )
            )
            rows = [
                (row_id, value)
                for row_id, value in cr.fetchall()
                if phone.to_e164(value) == number
            ]
            changed += self._pseudonymise_column(table, column, rows)
        # Texts: a cheap digits filter in SQL, the exact match in Python.
        citizen_copy = SQL(
            """(author_id IS NULL OR author_id NOT IN (
                   SELECT id FROM res_partner WHERE sms_center_citizen))"""
        )
        for table, column, condition in (
            ("sms_center_message", "sms_failure_reason", SQL("TRUE")),
            ("sms_center_reply", "sms_failure_reason", SQL("TRUE")),
            ("sms_center_reply", "body", SQL("TRUE")),
            ("helpdesk_ticket", "sms_answer_failure_reason", SQL("TRUE")),
            ("helpdesk_ticket", "sms_question_wording", SQL("TRUE")),
            ("sms_center_gateway", "last_error", SQL("TRUE")),
            ("sms_center_gateway_outage", "first_error", SQL("TRUE")),
            (
                "sms_center_simulator_message",
                "body",
                SQL("direction = 'out'"),
            ),
            ("sms_center_simulator_message", "failure_reason", SQL("TRUE")),
            ("sms_sms", "sms_center_failure_reason", SQL("TRUE")),
            ("mail_notification", "failure_reason", SQL("TRUE")),
            ("mail_activity", "note", SQL("TRUE")),
            ("mail_tracking_value", "old_value_char", SQL("TRUE")),
            ("mail_tracking_value", "new_value_char", SQL("TRUE")),
            # Dialogs still open or not vacuumed yet (Odoo deletes them
            # within hours): the answer being written, Odoo's SMS composer
            # and resend dialog.
            ("sms_center_reply_wizard", "body", SQL("TRUE")),
            ("sms_composer", "body", SQL("TRUE")),
            ("sms_composer", "numbers", SQL("TRUE")),
            ("sms_composer", "recipient_single_number_itf", SQL("TRUE")),
            ("sms_resend_recipient", "sms_number", SQL("TRUE")),
            # Notes and answers anywhere; never a citizen's own SMS copied on
            # a ticket (Pasal 11 huruf e).
            ("mail_message", "body", citizen_copy),
        ):
            cr.execute(
                SQL(
                    """SELECT id FROM %(table)s
                        WHERE %(condition)s
                          AND regexp_replace(%(column)s, '[^0-9]', '', 'g')
                              LIKE %(like)s""",
                    table=SQL.identifier(table),
                    column=SQL.identifier(column),
                    condition=condition,
                    like=f"%{digits}%",
                )
            )
            ids = [row[0] for row in cr.fetchall()]
            changed += self._mask_texts(table, [column], ids, numbers)
        changed += self._drop_live_notifications(digits, numbers)
        return changed

    def _drop_live_notifications(self, digits, numbers):
        """Odoo's live notifications to open browsers (``bus_bus``) that
        quote the number, e.g. an answer just posted: delivered within
        seconds, kept by Odoo for a day for reconnecting browsers. Their JSON
        cannot be masked piecemeal; they are deleted (a browser that missed
        one reloads the record)."""
        cr = self.env.cr
        cr.execute(
            SQL(
                """SELECT id, message FROM bus_bus
                    WHERE regexp_replace(message, '[^0-9]', '', 'g') LIKE %s""",
                f"%{digits}%",
            )
        )
        ids = [
            row_id
            for row_id, message in cr.fetchall()
            if self._mask_value(message, numbers) != message
        ]
        if not ids:
            return 0
        return self._execute(SQL("DELETE FROM bus_bus WHERE id = ANY(%s)", ids))
