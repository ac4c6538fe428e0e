from odoo import api, fields, models


class SmsCenterGatewayOutage(models.Model):
    """One interval during which a gateway kept failing (R13, R14).

    Opened when the gateway's ``failing_since`` is set, closed at its next
    successful contact. The periodic report derives each gateway's
    availability over a period from these intervals.
    """

    _name = "sms_center.gateway.outage"
    _description = "SMS Gateway Outage"
    _order = "started_at desc, id desc"

    gateway_id = fields.Many2one(
        "sms_center.gateway",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
    )
    started_at = fields.Datetime(string="Failing since", required=True, readonly=True)
    ended_at = fields.Datetime(
        string="Working again at",
        readonly=True,
        help="Empty while the gateway is still failing.",
    )
    duration_minutes = fields.Integer(
        string="Duration (minutes)", compute="_compute_duration_minutes"
    )
    first_error = fields.Char(string="First error", readonly=True)

    @api.depends("started_at", "ended_at")
    def _compute_duration_minutes(self):
        now = fields.Datetime.now()
        for outage in self:
            end = outage.ended_at or now
            outage.duration_minutes = (
                max(0, round((end - outage.started_at).total_seconds() / 60))
                if outage.started_at
                else 0
            )

    @api.model
    def _downtime_seconds(self, gateway_ids, start, end):
        """``{gateway_id: seconds}`` of failing time within [start, end)
        (UTC naive); an outage still open counts until ``end``."""
        if not gateway_ids or end <= start:
            return {}
        self.flush_model()
        self.env.cr.execute(
            """SELECT gateway_id,
                      SUM(EXTRACT(EPOCH FROM
                          LEAST(COALESCE(ended_at, %(end)s), %(end)s)
                          - GREATEST(started_at, %(start)s)))
                 FROM sms_center_gateway_outage
                WHERE gateway_id = ANY(%(ids)s)
                  AND started_at < %(end)s
                  AND COALESCE(ended_at, %(end)s) > %(start)s
                GROUP BY gateway_id""",
            {"ids": list(gateway_ids), "start": start, "end": end},
        )
        return {
            gateway_id: float(seconds) for gateway_id, seconds in self.env.cr.fetchall()
        }
