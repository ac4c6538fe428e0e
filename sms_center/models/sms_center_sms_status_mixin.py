from odoo import api, fields, models
from odoo.tools import SQL

from ..lib import gsm
from ..tools.deadline import regency_tz, to_local

# sms.sms states (Odoo's queue) -> the three states officers see (R7).
SMS_TO_CENTER_STATE = {
    "outgoing": "pending",
    "process": "pending",
    "pending": "sent",  # accepted by the gateway ("Sent" in Odoo)
    "sent": "sent",  # delivery report received ("Delivered" in Odoo)
    "error": "failed",
    "canceled": "failed",
}


class SmsCenterSmsStatusMixin(models.AbstractModel):
    """Durable status of one SMS the center sent.

    ``sms.sms`` rows are a queue that Odoo cleans up once sent; the records
    inheriting this mixin (answers, auto-replies, reminders) keep the status
    of their SMS for good, keyed by the SMS uuid.
    """

    _name = "sms_center.sms.status.mixin"
    _description = "SMS Center Outgoing SMS Status"

    sms_uuid = fields.Char(
        string="SMS UUID", index="btree_not_null", copy=False, readonly=True
    )
    sms_state = fields.Selection(
        [
            ("waiting", "Waiting for a gateway"),
            ("pending", "Pending"),
            ("sent", "Sent"),
            ("failed", "Failed"),
        ],
        string="SMS status",
        copy=False,
        readonly=True,
        index=True,
    )
    sms_delivered = fields.Boolean(
        string="Delivered",
        copy=False,
        readonly=True,
        help="The gateway confirmed delivery to the phone.",
    )
    sms_failure_type = fields.Char(string="Failure type", copy=False, readonly=True)
    sms_failure_reason = fields.Char(string="Failure reason", copy=False, readonly=True)
    sms_status_date = fields.Datetime(string="Status date", copy=False, readonly=True)
    sms_gateway_ref = fields.Char(
        string="Gateway reference",
        copy=False,
        readonly=True,
        index="btree_not_null",
        help="Message id given by the gateway; matches late delivery reports.",
    )
    # Kept for the outgoing SMS analysis: sms.sms rows, which hold the
    # gateway and the text, are deleted once the SMS is settled.
    sms_gateway_id = fields.Many2one(
        "sms_center.gateway",
        string="Sent through",
        copy=False,
        readonly=True,
        ondelete="set null",
        help="Gateway that took the SMS (or refused it).",
    )
    sms_queued_at = fields.Datetime(
        string="Queued at",
        copy=False,
        readonly=True,
        help="When the SMS (or its latest resending) was queued.",
    )
    sms_queued_date = fields.Date(
        string="Queued on",
        compute="_compute_sms_queued_date",
        store=True,
        index="btree_not_null",
        help="Day the SMS was queued, in the regency's time zone (reports count "
        "by it).",
    )
    sms_parts = fields.Integer(
        string="SMS parts sent",
        copy=False,
        readonly=True,
        help="Parts of the SMS as sent: the operator's billing unit.",
    )

    @api.depends("sms_queued_at", "sms_uuid")
    def _compute_sms_queued_date(self):
        tz = regency_tz(self.env)
        for record in self:
            # SMS queued before the queue time was kept: their creation.
            moment = record.sms_queued_at or (record.sms_uuid and record.create_date)
            record.sms_queued_date = to_local(moment, tz).date() if moment else False

    @api.model
    def _sms_status_models(self):
        names = self.env.registry.descendants([self._name], "_inherit")
        return [self.env[name] for name in names if not self.env[name]._abstract]

    @api.model
    def _sms_status_apply(self, uuids, values):
        """Write status ``values`` on every record tracking one of ``uuids``."""
        if not uuids:
            return
        for model in self._sms_status_models():
            # sudo: status updates come from gateways and crons, not from users.
            records = model.sudo().search([("sms_uuid", "in", list(uuids))])
            if records:
                records.write(values)

    @api.model
    def _sms_status_values(
        self, sms_state, failure_type=False, failure_reason=False, waiting=False
    ):
        """Status values of the records tracking an SMS in ``sms_state``
        (an ``sms.sms`` state); ``waiting``: queued, but no active gateway
        can send it (see ``sms.sms.sms_center_waiting``)."""
        state = SMS_TO_CENTER_STATE.get(sms_state, "pending")
        if waiting and state == "pending":
            state = "waiting"
        values = {
            "sms_state": state,
            "sms_status_date": fields.Datetime.now(),
            "sms_failure_type": failure_type if state == "failed" else False,
            "sms_failure_reason": failure_reason if state == "failed" else False,
        }
        if sms_state == "sent":
            values["sms_delivered"] = True
        if state == "failed" and not failure_reason:
            if sms_state == "canceled":
                values["sms_failure_reason"] = self.env._("Cancelled before sending")
            else:
                labels = dict(
                    self.env["sms.sms"]
                    ._fields["failure_type"]
                    ._description_selection(self.env)
                )
                values["sms_failure_reason"] = labels.get(failure_type) or failure_type
        return values

    @api.model
    def _sms_status_apply_dlr(self, event):
        """Late delivery report whose ``sms.sms`` row is gone.

        ``event`` is a :class:`lib.dlr.DlrEvent`; matched on our reference
        (the SMS uuid), then on the gateway's message id. Returns True when
        something was updated.
        """
        domain = [("sms_uuid", "=", event.ref)] if event.ref else []
        if not domain and event.gateway_ref:
            domain = [("sms_gateway_ref", "=", event.gateway_ref)]
        if not domain:
            return False
        found = False
        sms_state = {"delivered": "sent", "failed": "error"}.get(event.status)
        for model in self._sms_status_models():
            # sudo: delivery reports arrive without a user.
            records = model.sudo().search(domain)
            if records:
                # Reports for one SMS arrive together: one at a time (see
                # sms.sms._sms_center_lock_rows_for_report).
                self.env.cr.execute(
                    SQL(
                        "SELECT id FROM %s WHERE id IN %s ORDER BY id FOR UPDATE",
                        SQL.identifier(model._table),
                        tuple(records.ids),
                    ),
                    log_exceptions=False,  # a concurrency error Odoo retries
                )
                records.invalidate_recordset()
            # A final status is never replaced by a late "pending".
            records = records.filtered(
                lambda r: not (r.sms_delivered or r.sms_state == "failed")
                or event.status != "pending"
            )
            if records and sms_state:
                values = self._sms_status_values(
                    sms_state,
                    "sms_not_delivered" if sms_state == "error" else False,
                    event.reason if sms_state == "error" else False,
                )
                records.write(values)
                # sudo: trackers are technical records only system users read.
                self.env["sms.tracker"].sudo().search(
                    [("sms_uuid", "in", records.mapped("sms_uuid"))]
                )._action_update_from_sms_state(
                    sms_state,
                    failure_type=values["sms_failure_type"],
                    failure_reason=values["sms_failure_reason"],
                )
            found = found or bool(records)
        return found

    @api.model
    def _sms_status_release_waiting(self, uuids):
        """The SMS of ``uuids`` found a gateway: "waiting" becomes "pending"."""
        if not uuids:
            return
        values = self._sms_status_values("outgoing")
        for model in self._sms_status_models():
            # sudo: status updates come from the queue worker, not from users.
            model.sudo().search(
                [("sms_uuid", "in", list(uuids)), ("sms_state", "=", "waiting")]
            ).write(values)

    def _sms_status_track(self, sms):
        """Start tracking ``sms`` (an ``sms.sms`` record) on ``self``."""
        self.ensure_one()
        self.write(
            dict(
                self._sms_status_values(
                    sms.state, sms.failure_type, waiting=sms.sms_center_waiting
                ),
                sms_uuid=sms.uuid,
                sms_delivered=False,
                sms_gateway_ref=False,
                sms_gateway_id=sms.sms_center_gateway_id.id,
                sms_parts=gsm.measure(sms.body).parts,
                sms_queued_at=fields.Datetime.now(),
            )
        )
