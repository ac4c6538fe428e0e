from odoo import api, fields, models, tools
from odoo.tools import SQL

# Outcome of the answer deadline (R9) as the analysis shows it, live.
DEADLINE_OUTCOMES = [
    ("in_time", "Answered in time"),
    ("late", "Answered late"),
    ("overdue", "Open and overdue"),
    ("open", "Open in time"),
    ("closed", "Closed unanswered"),
]


# The three branches of the view: the SMS that opened a ticket are read from
# the ticket; the others from the message table, follow-ups (joined to their
# ticket) apart from the SMS without a ticket, each through a partial index
# on the local day (see init()).
# ``{m}``: the table alias and a dot, or nothing (index predicates).
APPENDED = "{m}state = 'appended' AND {m}ticket_id IS NOT NULL"
WITHOUT_TICKET = "{m}state NOT IN ('routed', 'appended') OR {m}ticket_id IS NULL"


class SmsCenterInboundAnalysis(models.Model):
    """One row per inbound SMS for the secretariat's pivot and graph views
    (R13). An SQL view, like Odoo's own ``*.report`` models.

    Questions are the SMS that opened a ticket and were not marked spam or
    not substantive: the answer measures (answered, in time, overdue,
    first-answer times) count questions only, once per ticket, so that
    follow-up SMS appended to a ticket never count it twice.
    """

    _name = "sms_center.inbound.analysis"
    _description = "Inbound SMS Analysis"
    _auto = False
    _order = "received_at desc, id desc"
    _rec_name = "message_id"
    # What the view reads: flushed to the database before each query.
    _depends = {
        "helpdesk.ticket": [
            "category_id",
            "sms_answered",
            "sms_answered_in_time",
            "sms_awaiting_answer",
            "sms_deadline",
            "sms_deadline_calendar_id",
            "sms_escalated_at",
            "sms_keyword_id",
            "sms_message_id",
            "sms_not_substantive",
            "sms_received_at",
            "sms_received_date",
            "sms_response_minutes",
            "sms_response_working_minutes",
            "team_id",
            "user_id",
        ],
        "sms_center.keyword": ["team_id"],
        "sms_center.message": [
            "gateway_id",
            "keyword_id",
            "moderation_state",
            "received_at",
            "received_date",
            "state",
            "ticket_id",
        ],
    }

    message_id = fields.Many2one("sms_center.message", string="SMS", readonly=True)
    ticket_id = fields.Many2one("helpdesk.ticket", string="Ticket", readonly=True)
    received_at = fields.Datetime(string="Received at", readonly=True)
    received_date = fields.Date(
        string="Received on",
        readonly=True,
        help="Day of reception in the regency's time zone.",
    )
    team_id = fields.Many2one("helpdesk.ticket.team", string="Unit", readonly=True)
    keyword_id = fields.Many2one("sms_center.keyword", string="Keyword", readonly=True)
    category_id = fields.Many2one(
        "helpdesk.ticket.category", string="Category", readonly=True
    )
    user_id = fields.Many2one("res.users", string="Officer", readonly=True)
    gateway_id = fields.Many2one("sms_center.gateway", string="Gateway", readonly=True)
    state = fields.Selection(
        selection="_selection_state", string="Routing", readonly=True
    )
    moderation_state = fields.Selection(
        selection="_selection_moderation_state", string="Moderation", readonly=True
    )
    is_question = fields.Boolean(
        string="Question to answer",
        readonly=True,
        help="The SMS opened a ticket and was not marked spam or not substantive.",
    )
    is_answered = fields.Boolean(string="Answered", readonly=True)
    is_escalated = fields.Boolean(string="Escalated", readonly=True)
    deadline_outcome = fields.Selection(
        DEADLINE_OUTCOMES, string="Deadline outcome", readonly=True
    )
    # --- measures ---
    sms_count = fields.Integer(string="SMS received", readonly=True)
    ticket_count = fields.Integer(
        string="Tickets",
        readonly=True,
        help="SMS that opened a ticket, spam and not substantive included.",
    )
    question_count = fields.Integer(string="Questions", readonly=True)
    answered_count = fields.Integer(string="Questions answered", readonly=True)
    in_time_count = fields.Integer(string="Answered in time", readonly=True)
    late_count = fields.Integer(string="Answered late", readonly=True)
    overdue_count = fields.Integer(string="Open and overdue", readonly=True)
    in_time_rate = fields.Float(
        string="Answered in time (%)",
        readonly=True,
        aggregator="avg",
        help="Share of the questions whose deadline outcome is known (answered, "
        "overdue or closed) that were answered in time.",
    )
    response_minutes = fields.Float(
        string="First answer (minutes)",
        readonly=True,
        aggregator="avg",
        help="Clock minutes from reception to the first answer; average.",
    )
    response_minutes_median = fields.Float(
        string="First answer, median (minutes)",
        readonly=True,
        aggregator="median",
    )
    response_working_minutes = fields.Float(
        string="First answer (working minutes)",
        readonly=True,
        aggregator="avg",
        help="Working minutes of the deadline calendar; only for questions whose "
        "deadline counted office working hours.",
    )
    response_working_minutes_median = fields.Float(
        string="First answer, median (working minutes)",
        readonly=True,
        aggregator="median",
    )

    @api.model
    def _selection_state(self):
        return (
            self.env["sms_center.message"]
            ._fields["state"]
            ._description_selection(self.env)
        )

    @api.model
    def _selection_moderation_state(self):
        return (
            self.env["sms_center.message"]
            ._fields["moderation_state"]
            ._description_selection(self.env)
        )

    def _read_group_select(self, aggregate_spec, query):
        """Adds the ``median`` aggregate (not among Odoo's) for the pivot."""
        fname, __, func = models.parse_read_group_spec(aggregate_spec)
        if func != "median":
            return super()._read_group_select(aggregate_spec, query)
        if fname not in self._fields or self._fields[fname].type not in (
            "integer",
            "float",
        ):
            raise ValueError(f"Invalid median aggregate {aggregate_spec!r}")
        expr = self._field_to_sql(self._table, fname, query)
        return SQL("percentile_cont(0.5) WITHIN GROUP (ORDER BY %s)", expr)

    def init(self):
        cr = self.env.cr
        for name, where in (
            ("sms_center_message_appended_date_idx", APPENDED),
            ("sms_center_message_without_ticket_date_idx", WITHOUT_TICKET),
        ):
            cr.execute(
                SQL(
                    "CREATE INDEX IF NOT EXISTS %s ON sms_center_message"
                    " (received_date) WHERE %s",
                    SQL.identifier(name),
                    SQL(where.format(m="")),
                )
            )
        # The opening SMS's branch, index-only for the default measures:
        # a pivot of a year reads 40 bytes per ticket, not the whole row.
        cr.execute(
            """CREATE INDEX IF NOT EXISTS helpdesk_ticket_sms_analysis_idx
               ON helpdesk_ticket (sms_received_date)
               INCLUDE (team_id, sms_keyword_id, sms_message_id,
                        sms_not_substantive, sms_answered, sms_answered_in_time,
                        sms_awaiting_answer, sms_deadline)
               WHERE sms_message_id IS NOT NULL"""
        )
        tools.drop_view_if_exists(cr, self._table)
        cr.execute(
            SQL("CREATE VIEW %s AS (%s)", SQL.identifier(self._table), self._query())
        )

    @api.model
    def _query(self):
        """Three branches, each read through its own index on the local day:
        the SMS that opened a ticket, from the ticket (its local day, unit
        and answer facts are on the ticket: no join of two million-row
        tables); follow-up SMS, with one primary-key lookup of their ticket
        each; SMS without a ticket (unknown keyword, cannot be answered).
        Columns of the opening SMS itself are read by primary key, only
        when a query uses them."""
        # Expressions are written to be evaluated once per row, with the
        # current time read once per query: the pivot sums them over a
        # year of SMS.
        now = "(SELECT now() AT TIME ZONE 'UTC')"
        overdue = (
            # sms_answered is NULL until the first answer.
            f"(t.sms_answered IS NOT TRUE AND t.sms_awaiting_answer"
            f" AND t.sms_deadline <= {now})"
        )
        outcome = f"""CASE
              WHEN t.id IS NULL THEN NULL
              WHEN t.sms_answered AND t.sms_answered_in_time THEN 'in_time'
              WHEN t.sms_answered THEN 'late'
              WHEN NOT t.sms_awaiting_answer THEN 'closed'
              WHEN t.sms_deadline <= {now} THEN 'overdue'
              ELSE 'open'
            END"""
        question = "NOT t.sms_not_substantive"
        answered = f"({question} AND t.sms_answered)"
        calendar = "t.sms_deadline_calendar_id IS NOT NULL"
        # The measures of the rows that are not questions.
        none = """1, 0, 0, 0, 0, 0, 0, NULL::double precision,
                   NULL::integer, NULL::integer, NULL::integer, NULL::integer"""

        def opening(column):
            return (
                f"(SELECT o.{column} FROM sms_center_message o"
                " WHERE o.id = t.sms_message_id)"
            )

        return SQL(
            f"""SELECT t.sms_message_id AS id,
                   t.sms_message_id AS message_id,
                   t.id AS ticket_id,
                   t.sms_received_at AS received_at,
                   t.sms_received_date AS received_date,
                   t.team_id AS team_id,
                   t.sms_keyword_id AS keyword_id,
                   t.category_id AS category_id,
                   t.user_id AS user_id,
                   {opening("gateway_id")} AS gateway_id,
                   'routed'::varchar AS state,
                   {opening("moderation_state")} AS moderation_state,
                   {question} AS is_question,
                   COALESCE(t.sms_answered, FALSE) AS is_answered,
                   (t.sms_escalated_at IS NOT NULL) AS is_escalated,
                   {outcome}::varchar AS deadline_outcome,
                   1 AS sms_count,
                   1 AS ticket_count,
                   CASE WHEN {question} THEN 1 ELSE 0 END AS question_count,
                   CASE WHEN {answered} THEN 1 ELSE 0 END AS answered_count,
                   CASE WHEN {answered} AND t.sms_answered_in_time
                        THEN 1 ELSE 0 END AS in_time_count,
                   CASE WHEN {answered} AND NOT t.sms_answered_in_time
                        THEN 1 ELSE 0 END AS late_count,
                   CASE WHEN {question} AND {overdue}
                        THEN 1 ELSE 0 END AS overdue_count,
                   CASE WHEN t.sms_not_substantive THEN NULL
                        WHEN t.sms_answered AND t.sms_answered_in_time
                        THEN 100.0::double precision
                        WHEN t.sms_answered OR NOT t.sms_awaiting_answer
                             OR t.sms_deadline <= {now}
                        THEN 0.0::double precision
                        END AS in_time_rate,
                   CASE WHEN {answered} THEN t.sms_response_minutes
                        END AS response_minutes,
                   CASE WHEN {answered} THEN t.sms_response_minutes
                        END AS response_minutes_median,
                   CASE WHEN {answered} AND {calendar}
                        THEN t.sms_response_working_minutes
                        END AS response_working_minutes,
                   CASE WHEN {answered} AND {calendar}
                        THEN t.sms_response_working_minutes
                        END AS response_working_minutes_median
              FROM helpdesk_ticket t
             WHERE t.sms_message_id IS NOT NULL
            UNION ALL
            SELECT m.id,
                   m.id,
                   m.ticket_id,
                   m.received_at,
                   m.received_date,
                   COALESCE(t.team_id, k.team_id),
                   m.keyword_id,
                   t.category_id,
                   t.user_id,
                   m.gateway_id,
                   m.state,
                   m.moderation_state,
                   FALSE,
                   COALESCE(t.sms_answered, FALSE),
                   (t.sms_escalated_at IS NOT NULL),
                   {outcome}::varchar,
                   {none}
              FROM sms_center_message m
              -- OFFSET 0: one primary-key lookup per follow-up SMS, never a
              -- scan of every ticket.
              LEFT JOIN LATERAL (
                   SELECT * FROM helpdesk_ticket tt WHERE tt.id = m.ticket_id OFFSET 0
              ) t ON TRUE
              LEFT JOIN sms_center_keyword k ON k.id = m.keyword_id
             WHERE {APPENDED.format(m='m.')}
            UNION ALL
            SELECT m.id,
                   m.id,
                   m.ticket_id,
                   m.received_at,
                   m.received_date,
                   k.team_id,
                   m.keyword_id,
                   NULL::integer,
                   NULL::integer,
                   m.gateway_id,
                   m.state,
                   m.moderation_state,
                   FALSE,
                   FALSE,
                   FALSE,
                   NULL::varchar,
                   {none}
              FROM sms_center_message m
              LEFT JOIN sms_center_keyword k ON k.id = m.keyword_id
             WHERE {WITHOUT_TICKET.format(m='m.')}"""
        )
