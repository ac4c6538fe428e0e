from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import SmsCenterCase


@tagged("post_install", "-at_install")
class TestSettings(SmsCenterCase):
    def test_administrator_reads_and_saves_without_odoo_settings_right(self):
        ICP = self.env["ir.config_parameter"].sudo()
        ICP.set_param("sms_center.auto_reply_daily_limit", "5")
        ICP.set_param("sms_center.escalate_to_superior", "True")
        Settings = self.env["sms_center.settings"].with_user(self.user_admin)
        form = Settings.create({})
        self.assertEqual(form.sms_center_auto_reply_daily_limit, 5)
        self.assertEqual(form.sms_center_append_window_minutes, 60)
        self.assertTrue(form.sms_center_escalate_to_superior)
        form.write(
            {
                "sms_center_auto_reply_daily_limit": 2,
                "sms_center_center_numbers": "+6281144445555",
                "sms_center_escalate_to_superior": False,
            }
        )
        form.execute()
        self.assertEqual(ICP.get_param("sms_center.auto_reply_daily_limit"), "2")
        self.assertFalse(ICP.get_param("sms_center.escalate_to_superior"))
        # The center's numbers take effect at once (loop protection).
        self.assertIn(
            "+6281144445555", self.env["sms_center.gateway"]._get_center_numbers()
        )
        # Emptying a value goes back to the default.
        form.sms_center_center_numbers = False
        form.execute()
        self.assertFalse(ICP.get_param("sms_center.center_numbers"))

    def test_officers_and_secretariat_cannot_change_settings(self):
        for user in (self.user_health, self.user_secretariat):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.env["sms_center.settings"].with_user(user).create({})
