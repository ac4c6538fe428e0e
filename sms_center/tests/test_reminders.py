"""Hourly and daily SMS reminders to officers (R8), exactly once."""

import threading
import time as systime
from datetime import datetime, time, timedelta

from odoo import SUPERUSER_ID, api
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import freeze_time, tagged

from .common import SmsCenterCase

JAKARTA_OFFSET = timedelta(hours=7)
INBOX_URL_PATH = "/odoo/sms-inbox"


def utc(local):
    """'2026-12-03 13:20' in Asia/Jakarta -> UTC naive datetime."""
    return datetime.fromisoformat(local) - JAKARTA_OFFSET


class ReminderCaseMixin:
    """Helpers shared by the reminder and deadline tests."""

    @classmethod
    def use_english(cls):
        """Texts are checked in English, the source language, even when the
        database has Indonesian installed (the users' default then)."""
        users = (
            cls.user_health
            | cls.user_roads
            | cls.user_successor
            | cls.user_secretariat
            | cls.user_admin
        )
        users.lang = "en_US"
        cls.env.company.partner_id.lang = "en_US"

    def sms_at(self, local, text="TDINKES jalan rusak di desa", sender=None):
        """Receive an SMS at a Jakarta local time; return its ticket."""
        self._sender_seq = getattr(self, "_sender_seq", 0) + 1
        # A distinct sender each time: the same number and keyword within the
        # hour would join the earlier ticket.
        sender = sender or f"0812900{self._sender_seq:05d}"
        with freeze_time(utc(local)):
            return self.receive(text, sender=sender).ticket_id

    def run_cron(self, local, method):
        with freeze_time(utc(local)):
            return getattr(self.env["sms_center.reminder"], method)()

    def set_params(self, **params):
        ICP = self.env["ir.config_parameter"].sudo()
        for key, value in params.items():
            ICP.set_param(f"sms_center.{key}", value)

    def reminders_of(self, officer, kind=None):
        domain = [("officer_id", "=", officer.id)]
        if kind:
            domain.append(("kind", "=", kind))
        return self.env["sms_center.reminder"].search(domain, order="id")

    def sms_to(self, number):
        return self.env["sms.sms"].sudo().search([("number", "=", number)])


class CommittedFixtureMixin:
    """Concurrency needs data other cursors can see: create it in its own
    committed transaction and delete it afterwards."""

    def commit_fixture(self, tag, received_local):
        """Committed officer, keyword and SMS ticket; returns their ids."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            # An existing login: creating users would wait on the rows (e.g.
            # the digest's) this test class's own transaction has locked.
            user = env["res.users"].search(
                [
                    ("share", "=", False),
                    ("id", "not in", env["sms_center.officer"].search([]).user_id.ids),
                ],
                order="id",
                limit=1,
            )
            self.assertTrue(user, "no committed internal user without an officer")
            team = env["helpdesk.ticket.team"].create({"name": f"Unit {tag}"})
            officer = env["sms_center.officer"].create(
                {"user_id": user.id, "notification_mobile": "+6281977700001"}
            )
            keyword = env["sms_center.keyword"].create(
                {
                    "name": f"I4{tag.upper()}",
                    "team_id": team.id,
                    "officer_ids": [(6, 0, officer.ids)],
                }
            )
            ticket = env["helpdesk.ticket"].create(
                {
                    "name": f"{tag} ticket",
                    "number": f"I4-{tag}",
                    "description": "<p>committed fixture</p>",
                    "team_id": team.id,
                    "user_id": user.id,
                    "sms_keyword_id": keyword.id,
                    "sms_received_at": utc(received_local),
                }
            )
            ids = {
                "team": team.id,
                "officer": officer.id,
                "keyword": keyword.id,
                "ticket": ticket.id,
                "number": "+6281977700001",
            }
        self.addCleanup(self._drop_committed_fixture, ids)
        return ids

    def _drop_committed_fixture(self, ids):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"active_test": False})
            env["sms.sms"].search([("number", "=", ids["number"])]).unlink()
            env["sms_center.reminder"].search(
                [("officer_id", "=", ids["officer"])]
            ).unlink()
            ticket = env["helpdesk.ticket"].browse(ids["ticket"])
            ticket.activity_ids.unlink()
            ticket.unlink()
            env["sms_center.keyword"].browse(ids["keyword"]).unlink()
            env["sms_center.officer"].browse(ids["officer"]).unlink()
            env["helpdesk.ticket.team"].browse(ids["team"]).unlink()
            # Queue triggers of the frozen future the runs asked for.
            env["ir.cron.trigger"].search([("call_at", ">=", "2031-01-01")]).unlink()

    def new_env(self):
        cr = self.registry.cursor()
        self.addCleanup(cr.close)
        # Never hang the suite: a lock not granted in time fails the test.
        cr.execute("SET lock_timeout = '30s'")
        return api.Environment(cr, SUPERUSER_ID, {})


@tagged("post_install", "-at_install")
class TestReminders(ReminderCaseMixin, CommittedFixtureMixin, SmsCenterCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].sudo().set_param(
            "web.base.url", "https://sms.example.go.id"
        )
        cls.use_english()
        cls.Reminder = cls.env["sms_center.reminder"]
        cls.health_number = cls.officer_health.sudo().notification_mobile
        cls.roads_number = cls.officer_roads.sudo().notification_mobile

    # ------------------------------------------------------------------
    # Hourly (R8a)
    # ------------------------------------------------------------------

    def test_hourly_counts_last_completed_hour(self):
        self.sms_at("2026-12-03 12:10")
        self.sms_at("2026-12-03 12:50", "TSEHAT obat habis")  # alias of TDINKES
        self.sms_at("2026-12-03 12:30", "TJALAN lubang")
        self.sms_at("2026-12-03 11:59")  # the hour before
        self.sms_at("2026-12-03 13:05")  # the current hour, not completed
        sent = self.run_cron("2026-12-03 13:20", "_cron_send_hourly_reminders")
        self.assertEqual(len(sent), 2)

        health = self.reminders_of(self.officer_health, "hourly")
        self.assertEqual(len(health), 1)
        self.assertEqual(health.period_key, "2026-12-03T12")
        self.assertEqual(health.count, 2)
        self.assertEqual(health.keyword_ids, self.kw_health)
        self.assertEqual(health.window_start, utc("2026-12-03 12:00"))
        self.assertEqual(health.window_end, utc("2026-12-03 13:00"))
        self.assertEqual(
            health.body,
            "SMS Center: 2 new SMS for TDINKES in the last hour. Answer at "
            "https://sms.example.go.id" + INBOX_URL_PATH,
        )
        # Through the outbound pipeline, with a tracked delivery status.
        sms = self.sms_for(health)
        self.assertEqual(len(sms), 1)
        self.assertEqual(sms.number, self.health_number)
        self.assertEqual(sms.state, "outgoing")
        self.assertEqual(sms.body, health.body)
        self.assertEqual(health.sms_uuid, sms.uuid)
        self.assertEqual(health.sms_state, "pending")

        roads = self.reminders_of(self.officer_roads, "hourly")
        self.assertEqual(roads.count, 1)
        self.assertEqual(self.sms_for(roads).number, self.roads_number)

    def test_hourly_nothing_when_nothing(self):
        self.sms_at("2026-12-03 10:15")
        sent = self.run_cron("2026-12-03 13:00", "_cron_send_hourly_reminders")
        self.assertFalse(sent)
        self.assertFalse(self.reminders_of(self.officer_health))
        self.assertFalse(self.sms_to(self.health_number))

    def test_hourly_repeated_and_late_runs_send_once(self):
        self.sms_at("2026-12-03 12:10")
        self.run_cron("2026-12-03 13:00", "_cron_send_hourly_reminders")
        self.run_cron("2026-12-03 13:00", "_cron_send_hourly_reminders")
        self.run_cron("2026-12-03 13:59", "_cron_send_hourly_reminders")  # late
        self.assertEqual(len(self.reminders_of(self.officer_health)), 1)
        self.assertEqual(len(self.sms_to(self.health_number)), 1)

    def test_hour_boundary_in_jakarta(self):
        # 23:30 local is 16:30 UTC: it belongs to the local hour 23 of the 3rd.
        late = self.sms_at("2026-12-03 23:30")
        self.run_cron("2026-12-04 00:05", "_cron_send_hourly_reminders")
        reminder = self.reminders_of(self.officer_health, "hourly")
        self.assertEqual(reminder.period_key, "2026-12-03T23")
        self.assertEqual(reminder.count, 1)
        # 00:10 local (17:10 UTC on the 3rd) belongs to the 4th, hour 00.
        early = self.sms_at("2026-12-04 00:10")
        self.assertEqual(early.sms_received_at.date().isoformat(), "2026-12-03")
        self.run_cron("2026-12-04 01:00", "_cron_send_hourly_reminders")
        reminders = self.reminders_of(self.officer_health, "hourly")
        self.assertEqual(
            reminders.mapped("period_key"), ["2026-12-03T23", "2026-12-04T00"]
        )
        self.assertEqual(reminders.mapped("count"), [1, 1])
        self.assertTrue(late and early)

    def test_officer_with_several_keywords_gets_one_reminder(self):
        self.kw_roads.officer_ids = [(4, self.officer_health.id)]
        self.sms_at("2026-12-03 12:05")
        self.sms_at("2026-12-03 12:15", "TJALAN jembatan")
        self.sms_at("2026-12-03 12:25", "TJALAN lampu")
        self.run_cron("2026-12-03 13:00", "_cron_send_hourly_reminders")
        health = self.reminders_of(self.officer_health)
        self.assertEqual(len(health), 1)
        self.assertEqual(health.count, 3)
        self.assertEqual(health.keyword_ids, self.kw_health | self.kw_roads)
        self.assertIn("3 new SMS for TDINKES, TJALAN", health.body)
        self.assertEqual(len(self.sms_to(self.health_number)), 1)
        # The other holder of TJALAN gets their own, with their count.
        self.assertEqual(self.reminders_of(self.officer_roads).count, 2)

    def test_officer_without_number_gets_no_sms(self):
        self.officer_roads.sudo().notification_mobile = False
        self.sms_at("2026-12-03 12:05")
        self.sms_at("2026-12-03 12:15", "TJALAN jembatan")
        self.run_cron("2026-12-03 13:00", "_cron_send_hourly_reminders")
        roads = self.reminders_of(self.officer_roads)
        self.assertEqual(len(roads), 1)
        self.assertEqual(roads.skip_reason, "No notification number")
        self.assertFalse(roads.sms_state)
        self.assertFalse(self.sms_for(roads))
        # Others are not held up.
        self.assertEqual(len(self.sms_to(self.health_number)), 1)

    def test_inactive_officer_gets_nothing(self):
        self.officer_health.active = False
        self.sms_at("2026-12-03 12:05")
        self.run_cron("2026-12-03 13:00", "_cron_send_hourly_reminders")
        self.assertFalse(self.reminders_of(self.officer_health))

    def test_outage_gives_one_catch_up_only(self):
        for local in ("2026-12-03 08:30", "2026-12-03 10:30", "2026-12-03 12:30"):
            self.sms_at(local)
        # The cron was down since 08:00 and comes back at 13:40.
        self.run_cron("2026-12-03 13:40", "_cron_send_hourly_reminders")
        reminder = self.reminders_of(self.officer_health)
        self.assertEqual(len(reminder), 1)
        self.assertEqual(reminder.period_key, "2026-12-03T12")
        self.assertEqual(reminder.count, 1)

    def test_quiet_hours_defer_to_the_morning(self):
        self.set_params(
            quiet_hours="True", quiet_hours_start="21:00", quiet_hours_end="06:00"
        )
        self.sms_at("2026-12-03 20:40")  # reported at 21:00: quiet
        self.sms_at("2026-12-03 22:30")
        self.sms_at("2026-12-04 05:10")
        for hour in ("21", "22", "23"):
            self.run_cron(f"2026-12-03 {hour}:00", "_cron_send_hourly_reminders")
        for hour in ("00", "03", "05"):
            self.run_cron(f"2026-12-04 {hour}:00", "_cron_send_hourly_reminders")
        self.assertFalse(self.reminders_of(self.officer_health))
        self.run_cron("2026-12-04 06:00", "_cron_send_hourly_reminders")
        reminder = self.reminders_of(self.officer_health)
        self.assertEqual(len(reminder), 1)
        self.assertEqual(reminder.count, 3)
        self.assertEqual(reminder.window_start, utc("2026-12-03 20:00"))
        self.assertEqual(reminder.window_end, utc("2026-12-04 06:00"))
        self.assertIn("3 new SMS for TDINKES since 20:00", reminder.body)
        # Back to normal the next hour.
        self.sms_at("2026-12-04 06:20")
        self.run_cron("2026-12-04 07:00", "_cron_send_hourly_reminders")
        self.assertEqual(self.reminders_of(self.officer_health).mapped("count"), [3, 1])

    def test_reminder_in_the_officer_language(self):
        self.env["res.lang"]._activate_lang("id_ID")
        self.user_health.lang = "id_ID"
        self.sms_at("2026-12-03 12:05")
        self.sms_at("2026-12-03 12:10", "TJALAN lampu")
        self.run_cron("2026-12-03 13:00", "_cron_send_hourly_reminders")
        source = (
            "SMS Center: %(count)s new SMS for %(keywords)s in the last hour. "
            "Answer at %(url)s"
        )
        params = {
            "count": 1,
            "url": "https://sms.example.go.id" + INBOX_URL_PATH,
        }
        # Each officer in their own language (the Indonesian text is whatever
        # sms_center/i18n/id.po says; the English source when untranslated).
        self.assertEqual(
            self.reminders_of(self.officer_health).body,
            self.env(context={"lang": "id_ID"})._(source, keywords="TDINKES", **params),
        )
        self.assertEqual(
            self.reminders_of(self.officer_roads).body,
            source % dict(params, keywords="TJALAN"),
        )

    # ------------------------------------------------------------------
    # Daily (R8b)
    # ------------------------------------------------------------------

    def test_daily_at_configured_time_counts_unanswered(self):
        old = self.sms_at("2026-12-02 09:00")  # yesterday, still unanswered
        self.sms_at("2026-12-03 10:00")
        answered = self.sms_at("2026-12-03 11:00")
        answered._sms_center_mark_answered()
        self.sms_at("2026-12-03 11:30", "TJALAN lampu")
        self.assertFalse(
            self.run_cron("2026-12-03 15:59", "_cron_send_daily_reminders")
        )
        self.run_cron("2026-12-03 16:00", "_cron_send_daily_reminders")
        health = self.reminders_of(self.officer_health, "daily")
        self.assertEqual(len(health), 1)
        self.assertEqual(health.period_key, "2026-12-03")
        self.assertEqual(health.count, 2)
        self.assertEqual(
            health.body,
            "SMS Center: 2 SMS for TDINKES still unanswered, 2 past the deadline. "
            "Answer at https://sms.example.go.id" + INBOX_URL_PATH,
        )
        self.assertEqual(len(self.sms_for(health)), 1)
        self.assertEqual(self.reminders_of(self.officer_roads, "daily").count, 1)
        self.assertTrue(old)

    def test_daily_once_a_day_in_jakarta(self):
        self.sms_at("2026-12-03 10:00")
        self.run_cron("2026-12-03 16:05", "_cron_send_daily_reminders")
        self.run_cron("2026-12-03 16:20", "_cron_send_daily_reminders")
        # An SMS after the reminder waits for tomorrow's.
        self.sms_at("2026-12-03 17:00", "TJALAN lampu")
        self.run_cron("2026-12-03 18:00", "_cron_send_daily_reminders")
        # 00:30 on the 4th in Jakarta is still the 3rd, 17:30, in UTC: not a
        # new day, and before the 4th's reminder time.
        self.run_cron("2026-12-04 00:30", "_cron_send_daily_reminders")
        self.assertEqual(len(self.reminders_of(self.officer_health, "daily")), 1)
        self.assertFalse(self.reminders_of(self.officer_roads, "daily"))
        self.run_cron("2026-12-04 16:00", "_cron_send_daily_reminders")
        reminders = self.reminders_of(self.officer_health, "daily")
        self.assertEqual(reminders.mapped("period_key"), ["2026-12-03", "2026-12-04"])
        self.assertEqual(self.reminders_of(self.officer_roads, "daily").count, 1)

    def test_daily_ledger_guards_overlapping_runs(self):
        # Even if the "done today" marker is lost, the ledger keeps it once.
        self.sms_at("2026-12-03 10:00")
        self.run_cron("2026-12-03 16:00", "_cron_send_daily_reminders")
        self.set_params(daily_reminder_last_period="")
        self.run_cron("2026-12-03 16:15", "_cron_send_daily_reminders")
        self.assertEqual(len(self.reminders_of(self.officer_health, "daily")), 1)
        self.assertEqual(len(self.sms_to(self.health_number)), 1)

    def test_daily_configured_time_and_nothing_to_report(self):
        self.set_params(daily_reminder_time="09:30")
        self.assertFalse(
            self.run_cron("2026-12-03 09:29", "_cron_send_daily_reminders")
        )
        # Time, but nothing unanswered in these officers' inboxes.
        self.run_cron("2026-12-03 09:31", "_cron_send_daily_reminders")
        self.assertFalse(self.reminders_of(self.officer_health))
        self.assertFalse(self.reminders_of(self.officer_roads))
        self.sms_at("2026-12-04 08:00")
        self.run_cron("2026-12-04 09:30", "_cron_send_daily_reminders")
        self.assertEqual(self.reminders_of(self.officer_health, "daily").count, 1)

    def test_settings_validation(self):
        Reminder = self.env["sms_center.reminder"]
        Reminder._check_settings(3, "16:00", ("21:00", "06:00"))
        with self.assertRaisesRegex(ValidationError, "quiet hours"):
            Reminder._check_settings(3, "22:00", ("21:00", "06:00"))
        with self.assertRaisesRegex(ValidationError, "240 hours"):
            Reminder._check_settings(0, "16:00", False)

    def test_settings_form_saves_parameters(self):
        # SMS Center administrators save them without Odoo's Settings right.
        self.assertFalse(self.user_admin.has_group("base.group_system"))
        Settings = self.env["sms_center.settings"].with_user(self.user_admin)
        Settings.create(
            {
                "sms_center_deadline_hours": 2.5,
                "sms_center_deadline_mode": "calendar",
                "sms_center_daily_reminder_time": "15:30",
                "sms_center_quiet_hours": True,
                "sms_center_quiet_hours_start": "22:00",
                "sms_center_quiet_hours_end": "00:00",
                "sms_center_escalation_user_id": self.user_secretariat.id,
                "sms_center_escalate_to_superior": True,
            }
        ).execute()
        ICP = self.env["ir.config_parameter"].sudo()
        self.assertEqual(ICP.get_param("sms_center.deadline_hours"), "2.5")
        self.assertEqual(ICP.get_param("sms_center.deadline_mode"), "calendar")
        self.assertEqual(ICP.get_param("sms_center.daily_reminder_time"), "15:30")
        # Midnight is a value like any other (not an empty setting).
        self.assertEqual(ICP.get_param("sms_center.quiet_hours_end"), "00:00")
        self.assertEqual(
            ICP.get_param("sms_center.escalation_user_id"),
            str(self.user_secretariat.id),
        )
        self.assertEqual(self.Reminder._quiet_hours(), (time(22, 0), time(0, 0)))
        with self.assertRaises(ValidationError):
            Settings.create(
                {
                    "sms_center_quiet_hours": True,
                    "sms_center_quiet_hours_start": "15:00",
                    "sms_center_quiet_hours_end": "18:00",
                    "sms_center_daily_reminder_time": "16:00",
                }
            )

    # ------------------------------------------------------------------
    # Access
    # ------------------------------------------------------------------

    def test_officers_read_only_their_own_notifications(self):
        self.sms_at("2026-12-03 12:05")
        self.sms_at("2026-12-03 12:15", "TJALAN jembatan")
        self.run_cron("2026-12-03 13:00", "_cron_send_hourly_reminders")
        mine = self.Reminder.with_user(self.user_health).search([])
        self.assertEqual(mine.officer_id, self.officer_health)
        everyone = self.Reminder.with_user(self.user_secretariat).search([])
        self.assertGreaterEqual(
            everyone.officer_id, self.officer_health | self.officer_roads
        )
        with self.assertRaises(AccessError):
            mine.with_user(self.user_health).write({"count": 99})
        with self.assertRaises(AccessError):
            self.Reminder.with_user(self.user_secretariat).create(
                {
                    "officer_id": self.officer_health.id,
                    "kind": "hourly",
                    "period_key": "x",
                }
            )

    # ------------------------------------------------------------------
    # Concurrency: real transactions on separate connections
    # ------------------------------------------------------------------

    def test_concurrent_runs_send_once(self):
        ids = self.commit_fixture("conc", "2031-03-14 12:20")
        env_a, env_b = self.new_env(), self.new_env()
        run_at = utc("2031-03-14 13:00")
        result = {}

        def run_b():
            # Time is still frozen by the main thread (freezegun is global).
            try:
                sent_b = env_b["sms_center.reminder"]._cron_send_hourly_reminders()
                result["b"] = sent_b.ids
                env_b.cr.commit()
            except Exception as exc:  # noqa: BLE001 - reported to the main thread
                result["error"] = exc
                env_b.cr.rollback()

        with freeze_time(run_at):
            sent_a = env_a["sms_center.reminder"]._cron_send_hourly_reminders()
            self.assertEqual(len(sent_a), 1)
            # B's transaction (and snapshot) starts before A commits.
            env_b.cr.execute("SELECT pg_backend_pid()")
            pid_b = env_b.cr.fetchone()[0]
            worker = threading.Thread(target=run_b)
            worker.start()
            # Wait until B is blocked on A's uncommitted ledger row.
            self.assertTrue(self._wait_lock(pid_b), "run B never waited on run A")
            env_a.cr.commit()
            worker.join(60)
        self.assertFalse(worker.is_alive())
        self.assertNotIn("error", result)
        self.assertEqual(result["b"], [], "run B must not send again")

        # A third, later run in yet another transaction: nothing either.
        env_c = self.new_env()
        with freeze_time(run_at + timedelta(minutes=30)):
            self.assertFalse(env_c["sms_center.reminder"]._cron_send_hourly_reminders())
        env_c.cr.commit()

        env_check = self.new_env()
        reminders = env_check["sms_center.reminder"].search(
            [("officer_id", "=", ids["officer"])]
        )
        self.assertEqual(len(reminders), 1)
        self.assertEqual(reminders.count, 1)
        sms = env_check["sms.sms"].search([("number", "=", ids["number"])])
        self.assertEqual(len(sms), 1)

    def _wait_lock(self, pid, timeout=20):
        watch = self.new_env().cr
        deadline = systime.monotonic() + timeout
        while systime.monotonic() < deadline:
            watch.execute(
                "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid]
            )
            row = watch.fetchone()
            watch.rollback()  # a fresh view of pg_stat_activity each time
            if row and row[0] == "Lock":
                return True
            systime.sleep(0.05)
        return False
