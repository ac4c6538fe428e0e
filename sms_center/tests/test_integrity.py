import psycopg2

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import SmsCenterCase


@tagged("post_install", "-at_install")
class TestIntegrity(SmsCenterCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.message = cls.Message.receive("081255556666", "TDINKES pelayanan lambat")

    def test_nobody_changes_the_citizen_text(self):
        for user in (self.user_admin, self.user_secretariat):
            for vals in (
                {"text": "diubah"},
                {"sender": "081200000000"},
                {"received_at": "2020-01-01 00:00:00"},
            ):
                with (
                    self.subTest(user=user.login, vals=vals),
                    self.assertRaises(UserError),
                ):
                    self.message.with_user(user).write(vals)
        # Not even the superuser through the ORM.
        with self.assertRaises(UserError):
            self.message.sudo().write({"text": "diubah"})
        self.assertEqual(self.message.text, "TDINKES pelayanan lambat")
        self.assertEqual(self.message.sender, "081255556666")

    def test_database_refuses_direct_updates(self):
        with (
            self.assertRaises(psycopg2.Error),
            mute_logger("odoo.sql_db"),
            self.cr.savepoint(),
        ):
            self.cr.execute(
                "UPDATE sms_center_message SET text = 'diubah' WHERE id = %s",
                [self.message.id],
            )
        self.message.invalidate_recordset()
        self.assertEqual(self.message.text, "TDINKES pelayanan lambat")

    def test_messages_cannot_be_deleted(self):
        with self.assertRaises(UserError):
            self.message.sudo().unlink()
        self.assertTrue(self.message.exists())

    def test_ticket_description_of_sms_is_locked(self):
        with self.assertRaises(UserError):
            self.message.ticket_id.with_user(self.user_health).write(
                {"description": "<p>x</p>"}
            )
        with self.assertRaises(UserError):
            self.message.ticket_id.sudo().write({"description": "<p>x</p>"})

    def test_secretariat_moderates_with_reason(self):
        wizard = (
            self.env["sms_center.message.moderate"]
            .with_user(self.user_secretariat)
            .create(
                {
                    "message_ids": [(6, 0, self.message.ids)],
                    "moderation_state": "excluded",
                    "reason": "Mengandung nomor KTP warga",
                }
            )
        )
        wizard.action_apply()
        self.assertEqual(self.message.moderation_state, "excluded")
        self.assertTrue(self.message.ticket_id.sms_publication_excluded)
        self.env.flush_all()
        self.env.cr.precommit.run()
        tracked = self.message.message_ids.tracking_value_ids.mapped("field_id.name")
        self.assertIn("moderation_state", tracked)
        self.assertIn("moderation_reason", tracked)
        self.message.with_user(self.user_secretariat).action_restore_moderation()
        self.assertFalse(self.message.ticket_id.sms_publication_excluded)

    def moderate(self, messages, state, **values):
        self.env["sms_center.message.moderate"].with_user(self.user_secretariat).create(
            {
                "message_ids": [(6, 0, messages.ids)],
                "moderation_state": state,
                "reason": "Iklan judi",
                **values,
            }
        ).action_apply()

    def test_spam_closes_its_ticket(self):
        ticket = self.message.ticket_id
        self.assertFalse(ticket.stage_id.closed)
        self.moderate(self.message, "spam")
        rejected = self.env.ref("helpdesk_mgmt.helpdesk_ticket_stage_rejected")
        self.assertEqual(ticket.stage_id, rejected)
        self.assertFalse(ticket.sms_needs_action)
        # Restoring the SMS leaves the ticket as it is (reopened by hand).
        self.message.with_user(self.user_secretariat).action_restore_moderation()
        self.assertTrue(ticket.stage_id.closed)

    def test_spam_leaves_open_what_still_needs_an_answer(self):
        ticket = self.message.ticket_id
        follow_up = self.Message.receive("081255556666", "TDINKES tolong dibalas")
        self.assertEqual(follow_up.ticket_id, ticket)
        # One SMS of the ticket is spam, the other is not.
        self.moderate(self.message, "spam")
        self.assertFalse(ticket.stage_id.closed)
        # Not spam, or not asked to close: left open.
        self.moderate(follow_up, "not_substantive")
        self.assertFalse(ticket.stage_id.closed)
        other = self.Message.receive("081255557777", "TDINKES klik link ini")
        self.moderate(other, "spam", close_tickets=False)
        self.assertFalse(other.ticket_id.stage_id.closed)

    def test_moderation_needs_a_reason_and_the_secretariat(self):
        with (
            self.assertRaises(psycopg2.Error),
            mute_logger("odoo.sql_db"),
            self.cr.savepoint(),
        ):
            self.message.write({"moderation_state": "spam"})
            self.env.flush_all()
        self.message.invalidate_recordset()
        with self.assertRaises(AccessError):
            self.env["sms_center.message.moderate"].with_user(self.user_health).create(
                {
                    "message_ids": [(6, 0, self.message.ids)],
                    "moderation_state": "spam",
                    "reason": "x",
                }
            ).action_apply()
        self.assertEqual(self.message.moderation_state, "ok")
