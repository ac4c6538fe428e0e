import logging
from datetime import timedelta

from odoo import api, fields, models

from ..lib import dlr as dlr_lib
from ..lib import phone

_logger = logging.getLogger(__name__)

# Applied reports are kept this long (auditing, recognising a report read
# again from the modem).
DONE_RETENTION_DAYS = 30
# How many recent SMS to the same number are considered when matching a
# report: message references are 8-bit and wrap around after 256 SMS.
MATCH_CANDIDATES = 20


class SmsCenterModemReport(models.Model):
    """One delivery (status) report read from a GSM modem.

    Saved like inbound SMS (keyed, committed, then deleted from the modem),
    then matched to the SMS it reports on: same gateway, same recipient
    number, a part with the report's message reference that has no final
    status yet, the most recent SMS first (references wrap around). A
    multi-part SMS is delivered when every part is, failed as soon as one
    part failed (:func:`lib.dlr.aggregate_status`).
    """

    _name = "sms_center.modem.report"
    # The citizen's number is shown masked, in full only through the
    # logged "Show number" action (UU 27/2022, accountability).
    _inherit = ["sms_center.number.mask.mixin"]
    _description = "SMS Center Modem Delivery Report"
    _order = "first_seen_at desc, id desc"
    _rec_name = "raw_key"

    gateway_id = fields.Many2one(
        "sms_center.gateway", required=True, readonly=True, ondelete="restrict"
    )
    raw_key = fields.Char(string="Unique key", required=True, readonly=True)
    reference = fields.Integer(
        string="Message reference",
        readonly=True,
        help="TP-MR of the part this report is about (0-255).",
    )
    recipient = fields.Char(readonly=True)
    status = fields.Selection(
        [
            (dlr_lib.DELIVERED, "Delivered"),
            (dlr_lib.PENDING, "Pending"),
            (dlr_lib.FAILED, "Failed"),
        ],
        readonly=True,
    )
    reason = fields.Char(readonly=True)
    tp_status = fields.Integer(string="TP-Status", readonly=True)
    reported_at = fields.Datetime(readonly=True)
    first_seen_at = fields.Datetime(required=True, readonly=True)
    sms_uuid = fields.Char(string="SMS UUID", readonly=True, index="btree_not_null")
    sms_gateway_ref = fields.Char(
        string="References of the SMS",
        readonly=True,
        help="Part references of the matched SMS when the report was matched.",
    )
    part_index = fields.Integer(string="Part", readonly=True)
    state = fields.Selection(
        [
            ("new", "Not applied yet"),
            ("applied", "Applied"),
            ("unmatched", "No matching SMS"),
        ],
        required=True,
        readonly=True,
        default="new",
    )
    processed_at = fields.Datetime(readonly=True)

    _sql_constraints = [
        (
            "raw_key_unique",
            "unique(gateway_id, raw_key)",
            "This delivery report was already saved from this modem.",
        ),
    ]

    @api.model
    def _sms_center_masked_fields(self):
        return ["recipient"]

    def init(self):
        self.env.cr.execute(
            """CREATE INDEX IF NOT EXISTS sms_center_modem_report_new_idx
               ON sms_center_modem_report (gateway_id, id) WHERE state = 'new'"""
        )

    @api.model
    def _store(self, gateway, reports, seen_at):
        """Insert ``reports`` (:class:`lib.gammu_modem.StatusReport`); a key
        already stored is skipped. Returns the number of new rows."""
        self.flush_model()
        uid = self.env.uid
        inserted = 0
        for report in reports:
            at = report.at.replace(tzinfo=None) if report.at else None
            self.env.cr.execute(
                """INSERT INTO sms_center_modem_report
                       (gateway_id, raw_key, reference, recipient, status, reason,
                        tp_status, reported_at, first_seen_at, state,
                        create_uid, create_date, write_uid, write_date)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, 'new',
                           %s, %s, %s, %s)
                   ON CONFLICT (gateway_id, raw_key) DO NOTHING""",
                [
                    gateway.id,
                    report.raw_key,
                    report.reference,
                    (report.recipient or "").replace("\x00", ""),
                    report.status,
                    report.reason,
                    report.delivery_status,
                    at,
                    seen_at,
                    uid,
                    seen_at,
                    uid,
                    seen_at,
                ],
            )
            inserted += self.env.cr.rowcount
        return inserted

    # ------------------------------------------------------------------
    # Matching
    # ------------------------------------------------------------------

    def _apply(self):
        """Match each new report to its SMS and update that SMS's status."""
        Sms = self.env["sms.sms"]
        for report in self.filtered(lambda r: r.state == "new"):
            sms, index = report._find_sms()
            values = {"processed_at": fields.Datetime.now()}
            if not sms:
                _logger.info(
                    "Delivery report %s (reference %s, %s) matches no SMS sent "
                    "through %s",
                    report.id,
                    report.reference,
                    report.recipient,
                    report.gateway_id.code,
                )
                report.write(dict(values, state="unmatched"))
                continue
            report.write(
                dict(
                    values,
                    state="applied",
                    sms_uuid=sms.uuid,
                    sms_gateway_ref=sms.sms_center_gateway_ref,
                    part_index=index,
                )
            )
            slots = report._slots_of(sms)
            status = dlr_lib.aggregate_status(
                slot.status if slot else dlr_lib.PENDING for slot in slots
            )
            if status == dlr_lib.PENDING:
                continue  # parts still on their way: nothing new to show
            failed = [s for s in slots if s and s.status == dlr_lib.FAILED]
            event = dlr_lib.DlrEvent(
                ref=sms.uuid,
                status=status,
                reason=failed[0].reason if failed else None,
                gateway_ref=sms.sms_center_gateway_ref,
                raw_status=f"0x{report.tp_status & 0xFF:02X}",
            )
            Sms._sms_center_apply_dlr(report.gateway_id, event)

    def _find_sms(self):
        """``(sms.sms, part index)`` this report is about, or empty."""
        self.ensure_one()
        # sudo: the queue is technical; reports arrive without a user.
        Sms = self.env["sms.sms"].sudo()
        number = phone.to_e164(self.recipient) or self.recipient
        candidates = Sms.search(
            [
                ("sms_center_gateway_id", "=", self.gateway_id.id),
                ("number", "=", number),
                ("sms_center_gateway_ref", "!=", False),
                ("state", "in", ("pending", "sent", "error")),
            ],
            order="id desc",
            limit=MATCH_CANDIDATES,
        )
        for sms in candidates:
            refs = parse_refs(sms.sms_center_gateway_ref)
            if self.reference not in refs:
                continue
            slots = self._slots_of(sms, exclude=self)
            for index, ref in enumerate(refs):
                slot = slots[index]
                if ref == self.reference and not (
                    slot and dlr_lib.is_final(slot.status)
                ):
                    return sms, index
        return Sms.browse(), None

    def _slots_of(self, sms, exclude=None):
        """Latest report of each part of ``sms`` (``None`` when none yet)."""
        refs = parse_refs(sms.sms_center_gateway_ref)
        slots = [None] * len(refs)
        reports = self.search(
            [
                ("gateway_id", "=", self.gateway_id.id),
                ("state", "=", "applied"),
                ("sms_uuid", "=", sms.uuid),
                ("sms_gateway_ref", "=", sms.sms_center_gateway_ref),
            ],
            order="id",
        )
        for report in reports - (exclude or self.browse()):
            if 0 <= report.part_index < len(slots):
                slots[report.part_index] = report
        return slots

    @api.autovacuum
    def _gc_processed_reports(self):
        limit = fields.Datetime.now() - timedelta(days=DONE_RETENTION_DAYS)
        self.search([("state", "!=", "new"), ("processed_at", "<", limit)]).unlink()


def parse_refs(value):
    """Part references stored as ``"12,13,14"``; junk is ignored."""
    refs = []
    for chunk in (value or "").split(","):
        chunk = chunk.strip()
        if chunk.isdigit():
            refs.append(int(chunk))
    return refs
