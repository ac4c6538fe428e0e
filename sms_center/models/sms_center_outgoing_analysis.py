from odoo import api, fields, models, tools
from odoo.tools import SQL

# Status of an outgoing SMS as the analysis shows it: the officers' three
# states (R7), with "sent" split by whether the gateway confirmed delivery.
OUTGOING_STATUS = [
    ("pending", "Pending"),
    ("sent", "Sent"),
    ("delivered", "Delivered"),
    ("failed", "Failed"),
]
REMINDER_KINDS = {
    "hourly": "reminder_hourly",
    "daily": "reminder_daily",
    "escalation": "escalation",
}


def status_sql(alias):
    return f"""CASE WHEN {alias}.sms_state = 'failed' THEN 'failed'
                    WHEN {alias}.sms_delivered THEN 'delivered'
                    WHEN {alias}.sms_state = 'sent' THEN 'sent'
                    ELSE 'pending' END"""


class SmsCenterOutgoingAnalysis(models.Model):
    """One row per SMS the center sent (R7, R13): officers' answers,
    automatic replies to inbound SMS (unknown keyword, receipts, status and
    information replies) and notifications to officers. An SQL view over the
    records that keep each SMS's status for good (the status mixin), since
    Odoo's ``sms.sms`` queue rows are deleted once settled.

    A resent answer is one row, with the status of its latest sending.
    """

    _name = "sms_center.outgoing.analysis"
    _description = "Outgoing SMS Analysis"
    _auto = False
    _order = "sent_at desc, id desc"
    # What the view reads: flushed to the database before each query.
    _depends = {
        model: [
            "sms_delivered",
            "sms_failure_reason",
            "sms_gateway_id",
            "sms_parts",
            "sms_queued_at",
            "sms_queued_date",
            "sms_state",
            "sms_uuid",
        ]
        + extra
        for model, extra in (
            ("sms_center.reply", ["author_id", "keyword_id", "parts", "ticket_id"]),
            (
                "sms_center.message",
                ["auto_reply_at", "auto_reply_kind", "keyword_id", "ticket_id"],
            ),
            ("sms_center.reminder", ["kind", "officer_id"]),
        )
    }
    _depends.update(
        {
            "helpdesk.ticket": ["team_id"],
            "sms_center.keyword": ["team_id"],
            "sms_center.officer": ["team_id", "user_id"],
        }
    )

    kind = fields.Selection(selection="_selection_kind", readonly=True)
    sent_at = fields.Datetime(string="Queued at", readonly=True)
    sent_date = fields.Date(
        string="Queued on",
        readonly=True,
        help="Day the SMS was queued, in the regency's time zone.",
    )
    team_id = fields.Many2one("helpdesk.ticket.team", string="Unit", readonly=True)
    keyword_id = fields.Many2one("sms_center.keyword", string="Keyword", readonly=True)
    gateway_id = fields.Many2one("sms_center.gateway", string="Gateway", readonly=True)
    author_id = fields.Many2one(
        "res.users",
        string="Answered by",
        readonly=True,
        help="The officer who wrote the answer (answers only).",
    )
    recipient_user_id = fields.Many2one(
        "res.users",
        string="Officer notified",
        readonly=True,
        help="The officer who received the notification (notifications only).",
    )
    status = fields.Selection(OUTGOING_STATUS, readonly=True)
    failure_reason = fields.Char(string="Failure reason", readonly=True)
    sms_count = fields.Integer(string="SMS", readonly=True)
    parts = fields.Integer(
        string="SMS parts",
        readonly=True,
        help="Parts of each SMS: what the operator bills.",
    )
    delivered_count = fields.Integer(string="Delivered", readonly=True)
    failed_count = fields.Integer(string="Failed", readonly=True)

    @api.model
    def _selection_kind(self):
        auto_kinds = (
            self.env["sms_center.message"]
            ._fields["auto_reply_kind"]
            ._description_selection(self.env)
        )
        reminder_kinds = dict(
            self.env["sms_center.reminder"]
            ._fields["kind"]
            ._description_selection(self.env)
        )
        return (
            [("answer", self.env._("Answer"))]
            + auto_kinds
            + [(code, reminder_kinds[kind]) for kind, code in REMINDER_KINDS.items()]
        )

    def init(self):
        cr = self.env.cr
        tools.drop_view_if_exists(cr, self._table)
        cr.execute(
            SQL("CREATE VIEW %s AS (%s)", SQL.identifier(self._table), self._query())
        )

    @api.model
    def _query(self):
        def measures(alias):
            return f"""{status_sql(alias)} AS status,
                   {alias}.sms_failure_reason AS failure_reason,
                   1 AS sms_count,
                   CASE WHEN {alias}.sms_delivered AND {alias}.sms_state != 'failed'
                        THEN 1 ELSE 0 END AS delivered_count,
                   CASE WHEN {alias}.sms_state = 'failed'
                        THEN 1 ELSE 0 END AS failed_count"""

        reminder_kind = " ".join(
            f"WHEN '{kind}' THEN '{code}'" for kind, code in REMINDER_KINDS.items()
        )
        # ids: 4 * source id + a number per source, unique across the union.
        return SQL(
            f"""SELECT 4 * r.id + 1 AS id,
                   'answer' AS kind,
                   COALESCE(r.sms_queued_at, r.create_date) AS sent_at,
                   r.sms_queued_date AS sent_date,
                   COALESCE(t.team_id, k.team_id) AS team_id,
                   r.keyword_id AS keyword_id,
                   r.sms_gateway_id AS gateway_id,
                   r.author_id AS author_id,
                   NULL::integer AS recipient_user_id,
                   COALESCE(r.sms_parts, r.parts) AS parts,
                   {measures("r")}
              FROM sms_center_reply r
              LEFT JOIN helpdesk_ticket t ON t.id = r.ticket_id
              LEFT JOIN sms_center_keyword k ON k.id = r.keyword_id
             WHERE r.sms_uuid IS NOT NULL
            UNION ALL
            SELECT 4 * m.id + 2,
                   COALESCE(m.auto_reply_kind, 'unknown_keyword'),
                   COALESCE(m.sms_queued_at, m.auto_reply_at),
                   m.sms_queued_date,
                   COALESCE(t.team_id, k.team_id),
                   m.keyword_id,
                   m.sms_gateway_id,
                   NULL::integer,
                   NULL::integer,
                   m.sms_parts,
                   {measures("m")}
              FROM sms_center_message m
              LEFT JOIN helpdesk_ticket t ON t.id = m.ticket_id
              LEFT JOIN sms_center_keyword k ON k.id = m.keyword_id
             WHERE m.sms_uuid IS NOT NULL
            UNION ALL
            SELECT 4 * n.id + 3,
                   CASE n.kind {reminder_kind} END,
                   COALESCE(n.sms_queued_at, n.create_date),
                   n.sms_queued_date,
                   o.team_id,
                   NULL::integer,
                   n.sms_gateway_id,
                   NULL::integer,
                   o.user_id,
                   n.sms_parts,
                   {measures("n")}
              FROM sms_center_reminder n
              JOIN sms_center_officer o ON o.id = n.officer_id
             WHERE n.sms_uuid IS NOT NULL"""
        )
