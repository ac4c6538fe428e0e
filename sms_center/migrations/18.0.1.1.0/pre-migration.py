"""Fill the new stored fields of SMS tickets in SQL before the update.

Odoo would compute ``sms_answer_status``, ``sms_answer_failure_reason`` and
``sms_needs_action`` ticket by ticket in Python when it creates their
columns: hours on a database with a million tickets. Created and filled
here, they are left as they are by the update.
"""


def fill_answer_status(cr):
    """Create and fill the answer delivery fields of every ticket."""
    cr.execute(
        """ALTER TABLE helpdesk_ticket
             ADD COLUMN IF NOT EXISTS sms_answer_status varchar,
             ADD COLUMN IF NOT EXISTS sms_answer_failure_reason varchar,
             ADD COLUMN IF NOT EXISTS sms_needs_action boolean,
             ADD COLUMN IF NOT EXISTS sms_simulated boolean"""
    )
    # The latest answer of each ticket (answers are ordered newest first).
    cr.execute(
        """WITH latest AS (
               SELECT DISTINCT ON (ticket_id)
                      ticket_id, sms_state, sms_delivered, sms_failure_reason
                 FROM sms_center_reply
                ORDER BY ticket_id, id DESC
           )
           UPDATE helpdesk_ticket t
              SET sms_answer_status = CASE
                      WHEN l.sms_state = 'sent' AND l.sms_delivered
                      THEN 'delivered' ELSE l.sms_state END,
                  sms_answer_failure_reason = CASE
                      WHEN l.sms_state = 'failed' THEN l.sms_failure_reason END
             FROM latest l
            WHERE l.ticket_id = t.id"""
    )
    cr.execute(
        """SELECT res_id FROM ir_model_data
            WHERE module = 'sms_center'
              AND name = 'helpdesk_ticket_stage_answered'"""
    )
    row = cr.fetchone()
    answered_stage = row[0] if row else 0
    cr.execute(
        """UPDATE helpdesk_ticket t
              SET sms_needs_action = COALESCE(t.sms_awaiting_answer, FALSE) OR (
                      t.sms_answer_status = 'failed'
                      AND COALESCE(t.active, FALSE)
                      AND (NOT COALESCE(s.closed, FALSE) OR s.id = %s))
             FROM helpdesk_ticket t2
             LEFT JOIN helpdesk_ticket_stage s ON s.id = t2.stage_id
            WHERE t2.id = t.id""",
        [answered_stage],
    )


def migrate(cr, version):
    cr.execute(
        """SELECT 1 FROM information_schema.columns
            WHERE table_name = 'helpdesk_ticket'
              AND column_name = 'sms_awaiting_answer'"""
    )
    if cr.fetchone():
        fill_answer_status(cr)
