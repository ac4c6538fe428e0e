import psycopg2

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import SmsCenterCase


@tagged("post_install", "-at_install")
class TestOfficer(SmsCenterCase):
    def test_indonesian_number_forms_stored_e164(self):
        for raw in (
            "0812-3456-7890",
            "6281234567890",
            "+62 812-3456-7890",
            "0812 3456 7890",
        ):
            with self.subTest(raw=raw):
                self.officer_successor.notification_mobile = raw
                self.assertEqual(
                    self.officer_successor.notification_mobile, "+6281234567890"
                )

    def test_malformed_number_refused(self):
        for raw in ("12345", "abc", "0812", "+62 000 0000 0000"):
            with self.subTest(raw=raw), self.assertRaises(ValidationError):
                self.officer_successor.notification_mobile = raw
        self.assertEqual(self.officer_successor.notification_mobile, "+6285755556666")

    def test_number_change_is_logged(self):
        self.officer_successor.with_user(
            self.user_admin
        ).notification_mobile = "081311112222"
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.officer_successor.invalidate_recordset(["message_ids"])
        tracking = self.officer_successor.message_ids.tracking_value_ids.filtered(
            lambda t: t.field_id.name == "notification_mobile"
        )
        self.assertTrue(tracking)
        self.assertEqual(tracking[:1].old_value_char, "+6285755556666")
        self.assertEqual(tracking[:1].new_value_char, "+6281311112222")

    def test_only_administrators_change_numbers(self):
        with self.assertRaises(AccessError):
            self.officer_health.with_user(self.user_health).write(
                {"notification_mobile": "081399998888"}
            )
        with self.assertRaises(AccessError):
            self.officer_health.with_user(self.user_secretariat).write(
                {"notification_mobile": "081399998888"}
            )
        # An officer cannot even read the number field of the profile.
        with self.assertRaises(AccessError):
            self.officer_health.with_user(self.user_health).read(
                ["notification_mobile"]
            )

    def test_one_profile_per_login(self):
        with (
            self.assertRaises(psycopg2.IntegrityError),
            mute_logger("odoo.sql_db"),
            self.cr.savepoint(),
        ):
            self.Officer.create({"user_id": self.user_health.id})


@tagged("post_install", "-at_install")
class TestOfficerCreate(SmsCenterCase):
    def _wizard(self, user, **values):
        vals = {
            "name": "Camat Baru",
            "login": "camat.baru",
            "password": "Rahasia-2026",
            "notification_mobile": "0813-1234-5678",
            "sender_id": "KECBARU",
            "team_id": self.team_roads.id,
            "keyword_ids": [(6, 0, self.kw_roads.ids)],
        }
        vals.update(values)
        return self.env["sms_center.officer.create"].with_user(user).create(vals)

    def test_administrator_creates_an_officer_login(self):
        action = self._wizard(self.user_admin).action_create()
        officer = self.Officer.browse(action["res_id"])
        user = officer.user_id
        self.assertEqual(user.login, "camat.baru")
        self.assertTrue(user.has_group("sms_center.group_officer"))
        self.assertFalse(user.has_group("sms_center.group_secretariat"))
        self.assertFalse(user.has_group("base.group_erp_manager"))
        self.assertEqual(officer.notification_mobile, "+6281312345678")
        self.assertIn(officer, self.kw_roads.officer_ids)
        # The new officer sees the keyword's SMS at once.
        message = self.receive("TJALAN jembatan retak", sender="081311110000")
        self.assertTrue(message.ticket_id.with_user(user).read(["name"]))

    def test_only_administrators_and_no_duplicate_login(self):
        with self.assertRaises(AccessError):
            self._wizard(self.user_secretariat).action_create()
        self._wizard(self.user_admin).action_create()
        with self.assertRaises(UserError):
            self._wizard(self.user_admin).action_create()
        with self.assertRaises(ValidationError):
            self._wizard(
                self.user_admin, login="x.y", notification_mobile="123"
            ).action_create()
