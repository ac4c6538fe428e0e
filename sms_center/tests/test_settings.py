from lxml import etree

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import Form, tagged

from .common import SmsCenterCase


@tagged("post_install", "-at_install")
class TestSettings(SmsCenterCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ICP = cls.env["ir.config_parameter"].sudo()
        cls.Settings = cls.env["sms_center.settings"]

    def save_as_admin(self, **values):
        """Open the settings page as an SMS Center administrator, change
        ``values``, save, and return the page opened again."""
        with Form(self.Settings.with_user(self.user_admin)) as form:
            for name, value in values.items():
                setattr(form, name, value)
        form.record.execute()
        return self.Settings.with_user(self.user_admin).create({})

    def test_administrator_reads_and_saves_without_odoo_settings_right(self):
        self.assertFalse(self.user_admin.has_group("base.group_system"))
        self.ICP.set_param("sms_center.auto_reply_daily_limit", "5")
        self.ICP.set_param("sms_center.escalate_to_superior", "True")
        form = self.Settings.with_user(self.user_admin).create({})
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
        action = form.execute()
        self.assertEqual(action["tag"], "reload")
        self.assertEqual(self.ICP.get_param("sms_center.auto_reply_daily_limit"), "2")
        self.assertEqual(self.ICP.get_param("sms_center.escalate_to_superior"), "False")
        # The center's numbers take effect at once (loop protection).
        self.assertIn(
            "+6281144445555", self.env["sms_center.gateway"]._get_center_numbers()
        )

    def test_officers_and_secretariat_cannot_change_settings(self):
        for user in (self.user_health, self.user_secretariat):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.env["sms_center.settings"].with_user(user).create({})

    # --- issue 16: a number 0 is a value, not "unset" ---

    def test_append_window_zero_is_kept_and_gives_every_sms_a_ticket(self):
        reopened = self.save_as_admin(sms_center_append_window_minutes=0)
        self.assertEqual(reopened.sms_center_append_window_minutes, 0)
        self.assertEqual(self.ICP.get_param("sms_center.append_window_minutes"), "0")
        self.assertEqual(self.Settings._sms_center_setting("append_window_minutes"), 0)
        first = self.receive("TDINKES obat habis")
        follow_up = self.receive("TDINKES di puskesmas kota")
        self.assertEqual(follow_up.state, "routed")
        self.assertNotEqual(follow_up.ticket_id, first.ticket_id)

    def test_auto_reply_limit_zero_is_kept_and_stops_automatic_replies(self):
        reopened = self.save_as_admin(sms_center_auto_reply_daily_limit=0)
        self.assertEqual(reopened.sms_center_auto_reply_daily_limit, 0)
        self.assertEqual(self.ICP.get_param("sms_center.auto_reply_daily_limit"), "0")
        message = self.receive("HALO pak")
        self.assertEqual(message.state, "unknown")
        self.assertFalse(message.auto_reply_body)
        self.assertIn("limit", message.auto_reply_skipped)
        self.assertFalse(self.sms_for(message))

    def test_deadline_of_zero_hours_is_refused_not_reset(self):
        self.save_as_admin(sms_center_deadline_hours=2.0)
        with self.assertRaisesRegex(ValidationError, "240 hours"):
            self.save_as_admin(sms_center_deadline_hours=0.0)
        self.assertEqual(self.ICP.get_param("sms_center.deadline_hours"), "2.0")

    def test_negative_numbers_are_refused(self):
        for name in (
            "sms_center_append_window_minutes",
            "sms_center_auto_reply_daily_limit",
            "sms_center_retention_months",
        ):
            with self.subTest(setting=name), self.assertRaises(ValidationError):
                self.save_as_admin(**{name: -1})

    def test_retention_zero_is_kept_and_keeps_the_numbers(self):
        reopened = self.save_as_admin(sms_center_retention_months=0)
        self.assertEqual(reopened.sms_center_retention_months, 0)
        self.assertIsNone(self.env["sms_center.personal.data"]._retention_cutoff())
        self.ICP.set_param("sms_center.retention_months", False)
        self.assertEqual(
            self.Settings._sms_center_setting("retention_months"), 24, "default"
        )

    def test_booleans_are_stored_both_ways(self):
        reopened = self.save_as_admin(sms_center_escalate_to_superior=True)
        self.assertTrue(reopened.sms_center_escalate_to_superior)
        reopened = self.save_as_admin(sms_center_escalate_to_superior=False)
        self.assertFalse(reopened.sms_center_escalate_to_superior)
        # Stored as False, not removed: a boolean whose default is True can
        # be switched off too.
        self.assertEqual(self.ICP.get_param("sms_center.escalate_to_superior"), "False")
        field = self.Settings._fields["sms_center_escalate_to_superior"]
        self.assertFalse(self.Settings._sms_center_parse(field, "False"))
        self.assertTrue(self.Settings._sms_center_parse(field, "True"))

    def test_emptied_record_and_text_settings_fall_back_to_their_default(self):
        calendar = self.env["resource.calendar"].create({"name": "Office hours"})
        reopened = self.save_as_admin(
            sms_center_deadline_mode="calendar",
            sms_center_deadline_calendar_id=calendar,
            sms_center_escalation_user_id=self.user_secretariat,
            sms_center_public_keywords_url="https://sms.example.go.id/kata-kunci",
        )
        self.assertEqual(reopened.sms_center_deadline_calendar_id, calendar)
        hours, used = self.env["helpdesk.ticket"]._sms_center_deadline_settings()
        self.assertEqual(used, calendar)
        reopened = self.save_as_admin(
            sms_center_deadline_calendar_id=self.env["resource.calendar"],
            sms_center_escalation_user_id=self.env["res.users"],
            sms_center_public_keywords_url="  ",
        )
        self.assertFalse(reopened.sms_center_deadline_calendar_id)
        self.assertFalse(reopened.sms_center_escalation_user_id)
        self.assertFalse(reopened.sms_center_public_keywords_url)
        for key in (
            "deadline_calendar_id",
            "escalation_user_id",
            "public_keywords_url",
        ):
            self.assertFalse(self.ICP.get_param(f"sms_center.{key}"), key)
        # The defaults the help texts promise: the company's calendar, every
        # secretariat member, this website's keyword page.
        hours, used = self.env["helpdesk.ticket"]._sms_center_deadline_settings()
        self.assertFalse(used)
        responsible, _partners = self.env[
            "sms_center.reminder"
        ]._escalation_recipients()
        self.assertIn(self.user_secretariat, responsible)
        reply = self.receive("ZZZ halo").auto_reply_body
        self.assertNotIn("example.go.id", reply)

    def test_malformed_stored_values_read_as_default(self):
        self.ICP.set_param("sms_center.append_window_minutes", "sixty")
        self.ICP.set_param("sms_center.deadline_calendar_id", "999999999")
        self.assertEqual(self.Settings._sms_center_setting("append_window_minutes"), 60)
        self.assertFalse(self.Settings._sms_center_setting("deadline_calendar_id"))

    def test_language_and_time_zone_are_choices(self):
        fields_info = self.Settings.fields_get(
            ["sms_center_citizen_lang", "sms_center_timezone"]
        )
        self.assertEqual(fields_info["sms_center_citizen_lang"]["type"], "selection")
        self.assertIn(
            "id_ID",
            dict(fields_info["sms_center_citizen_lang"]["selection"]),
        )
        self.assertIn(
            "Asia/Jakarta", dict(fields_info["sms_center_timezone"]["selection"])
        )

    # --- one source of truth: Odoo's Settings show the same settings ---

    def test_odoo_settings_and_sms_center_settings_share_the_values(self):
        self.save_as_admin(
            sms_center_append_window_minutes=0, sms_center_quiet_hours=True
        )
        odoo_settings = self.env["res.config.settings"].create({})
        self.assertEqual(odoo_settings.sms_center_append_window_minutes, 0)
        self.assertTrue(odoo_settings.sms_center_quiet_hours)
        odoo_settings.sms_center_auto_reply_daily_limit = 0
        odoo_settings.sms_center_quiet_hours = False
        odoo_settings.execute()
        reopened = self.Settings.with_user(self.user_admin).create({})
        self.assertEqual(reopened.sms_center_auto_reply_daily_limit, 0)
        self.assertEqual(reopened.sms_center_append_window_minutes, 0)
        self.assertFalse(reopened.sms_center_quiet_hours)

    def test_sms_center_administrators_cannot_use_odoo_settings(self):
        form = self.env["res.config.settings"].with_user(self.user_admin)
        with self.assertRaises(AccessError):
            form.create({}).execute()

    def test_both_settings_pages_show_every_setting(self):
        names = {f.name for f in self.Settings._sms_center_param_fields()}
        self.assertGreater(len(names), 10)
        for model in ("sms_center.settings", "res.config.settings"):
            with self.subTest(model=model):
                arch = self.env[model].get_view(view_type="form")["arch"]
                app = etree.fromstring(arch).xpath("//app[@name='sms_center']")
                self.assertEqual(len(app), 1)
                shown = {node.get("name") for node in app[0].iter("field")}
                self.assertEqual(names - shown, set())
