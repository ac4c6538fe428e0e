"""Fixtures of the personal data tests: aged records, the reveal of numbers
and a scan of the database for a number's digits."""

from datetime import timedelta

from psycopg2 import sql

from odoo import fields
from odoo.tests import new_test_user

from .common import SmsCenterCase

# Column types that can hold a written number.
TEXT_TYPES = ("character varying", "text", "jsonb", "character")


def tables_holding(cr, digits):
    """``{(table, column): [values]}`` of every text column, in every table
    of the database, whose value holds ``digits`` (separators ignored)."""
    cr.execute(
        """SELECT c.table_name, c.column_name
             FROM information_schema.columns c
             JOIN information_schema.tables t
               ON t.table_schema = c.table_schema AND t.table_name = c.table_name
            WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
              AND c.data_type = ANY(%s)
            ORDER BY 1, 2""",
        [list(TEXT_TYPES)],
    )
    found = {}
    # A quick regular expression on the last digits (with up to 8 other
    # characters between them: separators, markup) selects the candidates;
    # the exact test drops every non-digit.
    quick = "[^0-9]{0,8}".join(digits[-4:])
    for table, column in cr.fetchall():
        cr.execute(
            sql.SQL(
                """SELECT {column}::text FROM {table}
                    WHERE {column}::text ~ %s
                      AND regexp_replace({column}::text, '[^0-9]', '', 'g') LIKE %s
                    LIMIT 3"""
            ).format(column=sql.Identifier(column), table=sql.Identifier(table)),
            [quick, f"%{digits}%"],
        )
        values = [row[0] for row in cr.fetchall()]
        if values:
            found[(table, column)] = values
    return found


class PersonalDataCase(SmsCenterCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_dpo = new_test_user(
            cls.env,
            login="t_data_protection",
            name="Data Protection Officer",
            groups="sms_center.group_data_protection",
        )
        cls.PersonalData = cls.env["sms_center.personal.data"]
        cls.Request = cls.env["sms_center.data.request"]
        cls.Reply = cls.env["sms_center.reply"]
        cls.stage_answered = cls.env.ref("sms_center.helpdesk_ticket_stage_answered")
        cls.env["ir.config_parameter"].sudo().set_param(
            "sms_center.retention_months", "24"
        )

    @classmethod
    def months_ago(cls, months):
        return fields.Datetime.now() - timedelta(days=31 * months)

    def answer(self, ticket, body="Terima kasih, sudah kami tindak lanjuti."):
        self.env["sms_center.reply.wizard"].with_user(ticket.user_id).create(
            {"ticket_id": ticket.id, "body": body}
        ).action_send()
        return ticket.sms_reply_ids.sorted("id")[-1:]

    def close(self, ticket, months_ago):
        """Close ``ticket`` (Answered stage), ``months_ago`` months back."""
        ticket.write({"stage_id": self.stage_answered.id})
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE helpdesk_ticket SET closed_date = %s WHERE id = %s",
            [self.months_ago(months_ago), ticket.id],
        )
        ticket.invalidate_recordset(["closed_date"])

    def fail_sms(self, record, reason):
        """Fail the last SMS of ``record``'s status with ``reason``, the way
        the outbound worker does (queue row, durable status, notification)."""
        sms = self.env["sms.sms"].search([("uuid", "=", record.sms_uuid)])
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
        return sms

    def retention(self):
        result = self.PersonalData._cron_apply_retention()
        self.env.invalidate_all()
        return result
