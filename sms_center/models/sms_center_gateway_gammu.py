"""GSM modem gateways driven by Gammu from an Odoo cron (R7, R14, R15).

One cron job (``_cron_poll_modems``, every minute) polls every active modem
gateway in turn. A poll of one gateway:

0. takes a session-level PostgreSQL advisory lock on the gateway, so that
   one Odoo process polls it at a time (a second caller skips it), then the
   device's ``flock`` (``lib.gammu_modem``), which also keeps out another
   database or a diagnostic tool using the same modem;
1. commits, so that no database transaction is open while the modem is
   talked to; every database step below is a short transaction of its own;
2. reads all stored SMS and status reports from the modem;
3. saves them (``sms_center.modem.part`` / ``sms_center.modem.report``,
   ``ON CONFLICT DO NOTHING`` on the content-based key) and commits;
4. only then deletes them from the modem: a crash between 3 and 4 makes the
   next poll read them again, and the unique key makes that a no-op;
5. reassembles the waiting parts of the gateway (complete messages, or
   incomplete ones whose wait passed) and stores each message through
   ``sms_center.message.store()`` with the parts' ``message_key`` as
   idempotency key, marking its parts done in the same transaction; the
   inbound router routes them right after (its answers leave through the
   poll it wakes);
6. matches the saved delivery reports to the SMS they report on;
7. sends the queued SMS routed to the gateway, one claimed and committed at
   a time (``sms.sms._sms_center_claim``), then records each answer;
8. reads signal, battery and network, and records the gateway's health.

No web request ever opens a modem: buttons only queue SMS or wake the cron.
"""

import hashlib
import logging
import os
import re
import time
from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

from psycopg2 import errors as pg_errors

from odoo import api, fields, models, tools
from odoo.exceptions import UserError
from odoo.http import request

from ..lib import dlr as dlr_lib
from ..lib import phone
from ..lib.gammu_modem import GammuModem, ModemBusy, ModemError
from ..lib.multipart import InboundPart, reassemble
from .sms_sms import _testing

_logger = logging.getLogger(__name__)

#: First key of the advisory lock pair (gateway id is the second): "SMSG".
ADVISORY_LOCK_NAMESPACE = 0x534D5347
#: A poll stops sending after this many seconds and wakes the cron again, so
#: that other modems are read meanwhile and the cron stays well under
#: Odoo's time limits.
SEND_BUDGET_SECONDS = 60
#: Send errors after which the SMS may have left the modem: never retried
#: automatically (the answer to AT+CMGS may be what was lost).
UNCERTAIN_SEND_ERRORS = frozenset({"ERR_TIMEOUT", "ERR_DEVICEREADERROR"})
DEFAULT_TZ = "Asia/Jakarta"
#: Transient errors of concurrent transactions (REPEATABLE READ snapshots).
CONCURRENCY_ERRORS = (
    pg_errors.SerializationFailure,
    pg_errors.LockNotAvailable,
    pg_errors.DeadlockDetected,
)


class SmsCenterGateway(models.Model):
    _inherit = "sms_center.gateway"

    gammu_debug = fields.Boolean(
        string="Gammu debug log",
        groups="sms_center.group_admin",
        help="Gammu writes its whole conversation with the modem during the "
        "last poll (AT commands, PDUs) to the file shown. For troubleshooting "
        "only: it contains phone numbers and texts.",
    )
    gammu_waiting_part_count = fields.Integer(
        string="Waiting parts", compute="_compute_gammu_waiting_part_count"
    )
    gammu_lock_file = fields.Char(
        string="Lock file",
        compute="_compute_gammu_files",
        groups="sms_center.group_admin",
        help="Locked while the worker uses the modem; diagnostic tools must lock "
        "it too, e.g. flock -n <this file> gammu identify",
    )
    gammu_debug_path = fields.Char(
        string="Debug log file",
        compute="_compute_gammu_files",
        groups="sms_center.group_admin",
    )

    @api.depends("gateway_type", "gammu_device", "code", "gammu_debug")
    def _compute_gammu_files(self):
        for gateway in self:
            modem = gateway.gateway_type == "gammu"
            gateway.gammu_lock_file = (
                gateway._gammu_lock_path() if modem and gateway.gammu_device else False
            )
            gateway.gammu_debug_path = (
                gateway._gammu_debug_path()
                if modem and gateway.gammu_debug and gateway.code
                else False
            )

    def _compute_gammu_waiting_part_count(self):
        # sudo: administrators see the count, the raw parts are system data.
        counts = dict(
            self.env["sms_center.modem.part"]
            .sudo()
            ._read_group(
                [("gateway_id", "in", self.ids), ("state", "=", "pending")],
                ["gateway_id"],
                ["__count"],
            )
        )
        for gateway in self:
            gateway.gammu_waiting_part_count = counts.get(gateway, 0)

    # ------------------------------------------------------------------
    # Cron entry point
    # ------------------------------------------------------------------

    @api.model
    def _cron_poll_modems(self):
        """Poll every active modem gateway (cron entry point)."""
        if request:
            raise UserError(
                self.env._("Modems are polled by the scheduler, never by a request.")
            )
        # sudo: polling is system work, whichever user runs the cron.
        for gateway in self.sudo().search([("gateway_type", "=", "gammu")]):
            gateway._gammu_poll()
        return True

    def _gammu_poll(self):
        """Poll this modem gateway once; False when someone else polls it."""
        self.ensure_one()
        if not self._gammu_try_lock():
            _logger.info(
                "Modem gateway %s is being polled by another worker: skipped",
                self.code,
            )
            return False
        try:
            self._gammu_poll_locked()
        except CONCURRENCY_ERRORS as exc:
            # Another worker (the HTTP queue worker routing the same SMS)
            # committed a row this poll wanted: what was committed stays, the
            # rest is done by the next poll.
            _logger.info(
                "Modem gateway %s: concurrent update (%s); resumed at the next poll",
                self.code,
                exc.pgcode,
            )
            self._gammu_rollback()
        except Exception as exc:  # noqa: BLE001 - one gateway must not stop others
            _logger.exception("Polling modem gateway %s failed", self.code)
            self._gammu_rollback()
            self._note_error(
                self.env._("Unexpected error while polling: %(error)s", error=exc)
            )
            self._gammu_commit()
        finally:
            self._gammu_unlock()
        return True

    # ------------------------------------------------------------------
    # Locks and transactions
    # ------------------------------------------------------------------

    def _gammu_try_lock(self):
        # Session-level: it outlives the commits of the poll, and PostgreSQL
        # drops it if the Odoo process dies (its connection closes).
        self.env.cr.execute(
            "SELECT pg_try_advisory_lock(%s, %s)", [ADVISORY_LOCK_NAMESPACE, self.id]
        )
        return self.env.cr.fetchone()[0]

    def _gammu_unlock(self):
        self.env.cr.execute(
            "SELECT pg_advisory_unlock(%s, %s)", [ADVISORY_LOCK_NAMESPACE, self.id]
        )

    @api.model
    def _gammu_commit(self):
        # Skipped under tests, like the outbound worker's commits.
        self.env["sms.sms"]._sms_center_commit()

    @api.model
    def _gammu_rollback(self):
        # Only what the failed step did is lost: every finished step was
        # committed. Skipped under tests, like the commits.
        if not _testing():
            self.env.cr.rollback()

    # ------------------------------------------------------------------
    # Settings
    # ------------------------------------------------------------------

    def _gammu_timezone(self):
        name = (
            self.env["sms_center.settings"]._sms_center_setting("timezone")
            or DEFAULT_TZ
        )
        try:
            ZoneInfo(name)
        except (KeyError, ValueError):
            return DEFAULT_TZ
        return name

    def _gammu_config(self):
        """gammurc-style settings for :class:`lib.gammu_modem.GammuModem`."""
        self.ensure_one()
        # sudo: the debug file setting is restricted to administrators.
        gateway = self.sudo()
        config = {
            "Device": (gateway.gammu_device or "").strip(),
            "Connection": (gateway.gammu_connection or "").strip() or "at",
            "smsc": (gateway.gammu_smsc or "").strip() or None,
            "timezone": self._gammu_timezone(),
        }
        if (gateway.gammu_model or "").strip():
            config["Model"] = gateway.gammu_model.strip()
        if gateway.gammu_debug:
            config.update(
                DebugFile=self._gammu_debug_path(),
                DebugLevel="textall",
                UseGlobalDebugFile=False,
            )
        return config

    def _gammu_dir(self):
        """Directory of the worker's lock files and debug logs: system
        parameter ``sms_center.modem_dir``, else ``<data_dir>/sms_center``.
        Never a path typed in a gateway: Gammu truncates its debug file."""
        # sudo: system parameters are readable by the system only.
        return self.env["ir.config_parameter"].sudo().get_param(
            "sms_center.modem_dir"
        ) or os.path.join(tools.config["data_dir"], "sms_center")

    def _gammu_lock_path(self):
        """Lock file of this gateway's device.

        Named after the device itself (symbolic links resolved), not after
        the gateway: two gateways or two databases configured with the same
        modem share the lock.
        """
        self.ensure_one()
        device = os.path.realpath(self.gammu_device or self.code)
        slug = re.sub(r"[^A-Za-z0-9]+", "-", device).strip("-")[-60:]
        digest = hashlib.sha1(device.encode()).hexdigest()[:8]
        return os.path.join(self._gammu_dir(), f"modem-{slug}-{digest}.lock")

    def _gammu_debug_path(self):
        self.ensure_one()
        name = re.sub(r"[^A-Za-z0-9_-]+", "-", self.code or str(self.id))
        return os.path.join(self._gammu_dir(), f"gammu-{self.env.cr.dbname}-{name}.log")

    def _gammu_center_number(self):
        numbers = [n.strip() for n in (self.receiving_numbers or "").split(",")]
        numbers = [n for n in numbers if n]
        return (phone.to_e164(numbers[0]) or numbers[0]) if numbers else None

    def _gammu_settings(self):
        """Everything the poll needs, read before the modem is opened (no
        record may be read while no transaction should be open)."""
        self.ensure_one()
        return {
            "code": self.code,
            "config": self._gammu_config(),
            "lock_path": self._gammu_lock_path(),
            "timeout": max(self.gammu_multipart_timeout or 0, 0) * 60,
            "outbound": self.outbound_enabled,
            "recipient": self._gammu_center_number(),
            "batch_size": self.batch_size or 200,
        }

    # ------------------------------------------------------------------
    # The poll
    # ------------------------------------------------------------------

    def _gammu_open(self, settings):
        if not settings["config"]["Device"]:
            raise ModemError(
                self.env._("No modem device is configured."), temporary=False
            )
        os.makedirs(os.path.dirname(settings["lock_path"]), exist_ok=True)
        modem = GammuModem(settings["config"], settings["lock_path"])
        modem.open()
        return modem

    def _gammu_poll_locked(self):
        settings = self._gammu_settings()
        # From here until the modem is closed, the database sees only short
        # transactions, each committed before the modem is talked to again.
        self._gammu_commit()
        try:
            modem = self._gammu_open(settings)
        except ModemBusy as exc:
            self._gammu_busy(exc, settings)
            return
        except (ModemError, OSError) as exc:
            self._gammu_unreachable(exc, settings)
            return
        figures, problems = None, []
        try:
            figures, problems = self._gammu_session(modem, settings)
        except ModemError as exc:
            problems = [exc.message]
        finally:
            modem.close()
        if figures is None:
            # Reading stopped half-way: parts saved earlier still become
            # messages once complete or when their wait is over.
            self._gammu_deliver_parts(settings)
        if problems:
            self._note_error(problems[-1])
        else:
            self._note_success(
                signal_percent=(figures or {}).get("signal_percent") or False,
                battery_percent=(figures or {}).get("battery_percent") or False,
                network_name=(figures or {}).get("network") or False,
            )
        self._gammu_commit()

    def _gammu_session(self, modem, settings):
        """Steps 2-8 with an open modem; returns ``(status figures, problems)``."""
        problems = []
        parts, reports = modem.read_all()
        problems.extend(error.message for error in modem.read_errors)
        if parts or reports:
            seen_at = fields.Datetime.now()
            with self.env.cr.savepoint():
                new_parts = self.env["sms_center.modem.part"]._store(
                    self, [part for _location, part in parts], seen_at
                )
                new_reports = self.env["sms_center.modem.report"]._store(
                    self, reports, seen_at
                )
            self._gammu_commit()
            _logger.info(
                "Modem %s: %s SMS part(s) (%s new) and %s report(s) (%s new) read",
                settings["code"],
                len(parts),
                new_parts,
                len(reports),
                new_reports,
            )
            # Saved and committed: now they may leave the modem.
            for location, part in parts:
                modem.delete(location, raw_key=part.raw_key)
            for report in reports:
                modem.delete_status_report(report)
        self._gammu_deliver_parts(settings)
        self._gammu_apply_reports()
        if settings["outbound"]:
            problems.extend(self._gammu_send_queue(modem, settings))
        self._gammu_commit()
        figures = modem.status()
        return figures, problems

    def _gammu_busy(self, exc, settings):
        """Another process holds the device: skip, unless it lasts."""
        since = self.last_success_at or self.create_date
        limit = timedelta(minutes=self.alert_after_minutes or 0)
        if since and fields.Datetime.now() - since < limit:
            _logger.info("Modem gateway %s skipped: %s", self.code, exc.message)
            return
        holder = ""
        try:
            with open(settings["lock_path"], encoding="ascii") as lock_file:
                holder = lock_file.read(32).strip()
        except (OSError, UnicodeDecodeError):
            holder = ""
        self._note_error(
            self.env._(
                "The modem is used by another process (lock %(path)s, pid "
                "%(pid)s); this gateway cannot poll it.",
                path=settings["lock_path"],
                pid=holder if holder.isdigit() else "?",
            )
        )
        self._gammu_commit()

    def _gammu_unreachable(self, exc, settings):
        """The modem cannot be opened: note it, and let the due SMS of this
        gateway wait with back-off (their attempt counts)."""
        message = getattr(exc, "message", None) or str(exc)
        self._note_error(self.env._("Cannot open the modem: %(error)s", error=message))
        self._gammu_commit()
        self._gammu_deliver_parts(settings)
        if not settings["outbound"]:
            return
        Sms = self.env["sms.sms"]
        Sms._sms_center_route_new(self._outbound_gateways())
        batch = Sms._sms_center_claim(self, limit=settings["batch_size"])
        if batch:
            result = dlr_lib.SendResult(
                False,
                temporary=True,
                detail=self.env._("Cannot open the modem: %(error)s", error=message),
            )
            batch._sms_center_apply_results(self, dict.fromkeys(batch.ids, result))
            self._gammu_commit()

    # ------------------------------------------------------------------
    # Inbound: waiting parts -> messages
    # ------------------------------------------------------------------

    def _gammu_deliver_parts(self, settings):
        """Store every message whose parts are all here (or whose wait is
        over) through ``store()``; one transaction per message. The inbound
        router routes them."""
        self.ensure_one()
        Part = self.env["sms_center.modem.part"]
        pending = Part.search(
            [("gateway_id", "=", self.id), ("state", "=", "pending")], order="id"
        )
        if not pending:
            return 0
        by_key = {part.raw_key: part for part in pending}
        now = fields.Datetime.now()
        messages, waiting = reassemble(
            [_inbound_part(part) for part in pending],
            now.replace(tzinfo=UTC),
            settings["timeout"],
        )
        if waiting:
            _logger.info(
                "Modem %s: %s part(s) wait for the rest of their message",
                self.code,
                len(waiting),
            )
        Message = self.env["sms_center.message"]
        for message in messages:
            parts = Part.browse([by_key[key].id for key in message.part_keys])
            duplicates = Part.browse([by_key[k].id for k in message.duplicate_keys])
            try:
                with self.env.cr.savepoint():
                    record = Message.store(
                        message.sender,
                        message.text,
                        recipient=settings["recipient"],
                        received_at=message.received_at,
                        gateway=self,
                        gateway_message_id=message.message_key,
                    )
                    parts.write(
                        {"state": "done", "message_id": record.id, "processed_at": now}
                    )
                    duplicates.write(
                        {
                            "state": "duplicate",
                            "message_id": record.id,
                            "processed_at": now,
                        }
                    )
            except UserError as exc:
                # A message store() refuses (no sender...) must not block
                # the others at every poll: kept, visible, and skipped.
                _logger.warning(
                    "Modem %s: SMS %s not deliverable: %s",
                    self.code,
                    message.message_key,
                    exc,
                )
                (parts | duplicates).write(
                    {"state": "error", "error": str(exc)[:500], "processed_at": now}
                )
            except Exception:  # noqa: BLE001 - e.g. a serialization failure
                # Unexpected: the parts stay waiting and are tried again at the
                # next poll; the other messages go on.
                _logger.exception(
                    "Modem %s: storing SMS %s failed; retried at the next poll",
                    self.code,
                    message.message_key,
                )
                continue
            if not message.complete:
                _logger.info(
                    "Modem %s: message %s delivered with %s of its parts after "
                    "waiting %s minutes",
                    self.code,
                    message.message_key,
                    len(message.part_keys),
                    settings["timeout"] // 60,
                )
            self._gammu_commit()
        return len(messages)

    # ------------------------------------------------------------------
    # Delivery reports
    # ------------------------------------------------------------------

    def _gammu_apply_reports(self):
        Report = self.env["sms_center.modem.report"]
        reports = Report.search(
            [("gateway_id", "=", self.id), ("state", "=", "new")], order="id"
        )
        for report in reports:
            try:
                with self.env.cr.savepoint():
                    report._apply()
            except Exception:  # noqa: BLE001 - one report must not stop the poll
                _logger.exception(
                    "Modem %s: applying delivery report %s failed; retried at "
                    "the next poll",
                    self.code,
                    report.id,
                )
        if reports:
            self._gammu_commit()

    # ------------------------------------------------------------------
    # Outbound
    # ------------------------------------------------------------------

    def _gammu_send_queue(self, modem, settings):
        """Send the due SMS of this gateway; returns the problems met."""
        Sms = self.env["sms.sms"]
        # SMS a crash left "in process" are failed, never sent again.
        Sms._sms_center_fail_stale()
        Sms._sms_center_route_new(self._outbound_gateways())
        deadline = time.monotonic() + SEND_BUDGET_SECONDS
        problems = []
        while True:
            if time.monotonic() >= deadline:
                self._gammu_wake_cron()
                break
            # One SMS per claim: if the process dies while sending, only that
            # SMS is left "in process" (and later failed, never resent).
            batch = Sms._sms_center_claim(self, limit=1)
            if not batch:
                break
            jobs = [(sms.id, sms.number, sms.body) for sms in batch]
            self._gammu_commit()  # close the transaction the reads opened
            results = {}
            stop = False
            for sms_id, number, body in jobs:
                result = self._gammu_send_one(modem, number, body)
                results[sms_id] = result
                if not result.accepted and (result.temporary or result.uncertain):
                    stop = True
                    problems.append(result.detail)
            batch._sms_center_apply_results(self, results)
            self._gammu_commit()
            if stop:
                break
        return problems

    def _gammu_send_one(self, modem, number, body):
        """Send one SMS through ``modem``; a :class:`lib.dlr.SendResult`."""
        try:
            refs = modem.send(number, body or "", request_delivery_report=True)
        except ModemError as exc:
            if exc.sent_references:
                return dlr_lib.SendResult(
                    False,
                    temporary=True,
                    uncertain=True,
                    detail=self.env._(
                        "%(error)s after %(count)s part(s) had been sent",
                        error=exc.message,
                        count=len(exc.sent_references),
                    ),
                )
            if exc.code in UNCERTAIN_SEND_ERRORS:
                return dlr_lib.SendResult(
                    False, temporary=True, uncertain=True, detail=exc.message
                )
            return dlr_lib.SendResult(
                False, temporary=exc.temporary, detail=exc.message
            )
        except Exception as exc:  # noqa: BLE001 - the SMS may have left
            _logger.exception("Unexpected error while sending through a modem")
            return dlr_lib.SendResult(
                False, temporary=True, uncertain=True, detail=str(exc)
            )
        return dlr_lib.SendResult(
            True,
            gateway_ref=",".join(str(ref) for ref in refs),
            detail=self.env._("%(count)s part(s) sent", count=len(refs)),
        )

    def _gammu_wake_cron(self):
        cron = self.env.ref(
            "sms_center.ir_cron_sms_center_gammu_poll", raise_if_not_found=False
        )
        if cron:
            # sudo: waking the modem worker needs no rights on ir.cron.
            cron.sudo()._trigger()

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_gammu_poll_now(self):
        """Ask the scheduler to poll the modems now (never polls here)."""
        self.check_access("write")
        self._gammu_wake_cron()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "message": self.env._(
                    "The modem will be polled within a minute; reload the form "
                    "to see the result."
                ),
            },
        }

    def action_gammu_view_parts(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("SMS read from the modem"),
            "res_model": "sms_center.modem.part",
            "view_mode": "list,form",
            "domain": [("gateway_id", "=", self.id)],
            "context": {"search_default_pending": 1},
        }

    def action_gammu_view_reports(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Delivery reports from the modem"),
            "res_model": "sms_center.modem.report",
            "view_mode": "list,form",
            "domain": [("gateway_id", "=", self.id)],
        }


def _aware(value):
    return value.replace(tzinfo=UTC) if value else None


def _inbound_part(part):
    """:class:`lib.multipart.InboundPart` of a stored ``sms_center.modem.part``."""
    concatenated = (part.part_count or 0) > 1
    return InboundPart(
        sender=part.sender or "",
        text=part.text or "",
        received_at=_aware(part.received_at or part.first_seen_at),
        concat_ref=part.concat_ref if concatenated else None,
        part_no=part.part_no if concatenated else None,
        part_count=part.part_count if concatenated else None,
        smsc=part.smsc or None,
        raw_key=part.raw_key,
        first_seen_at=_aware(part.first_seen_at),
    )
