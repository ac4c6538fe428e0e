"""The answer deadline, its escalation and compliance (R9, Pasal 13)."""

from datetime import timedelta

from odoo.tests import freeze_time, tagged
from odoo.tools import mute_logger

from .common import SmsCenterCase
from .test_reminders import CommittedFixtureMixin, ReminderCaseMixin, utc

LIVE_FIELDS = ["sms_time_left", "sms_deadline_state", "sms_overdue"]


@tagged("post_install", "-at_install")
class TestDeadline(ReminderCaseMixin, CommittedFixtureMixin, SmsCenterCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.use_english()
        cls.Ticket = cls.env["helpdesk.ticket"]
        cls.activity_type = cls.env.ref("sms_center.mail_activity_type_sms_overdue")
        # Office hours 08:00-16:00 Monday to Friday. The calendar's own time
        # zone is UTC on purpose: deadlines use the regency's time zone.
        cls.office = cls.env["resource.calendar"].create(
            {
                "name": "Regency office hours",
                "tz": "UTC",
                "attendance_ids": [(5, 0, 0)]
                + [
                    (
                        0,
                        0,
                        {
                            "name": f"Day {day}",
                            "dayofweek": str(day),
                            "hour_from": 8,
                            "hour_to": 16,
                            "day_period": "morning",
                        },
                    )
                    for day in range(5)
                ],
            }
        )

    def live(self, ticket, local):
        """Live deadline fields of ``ticket`` seen at a local time."""
        with freeze_time(utc(local)):
            ticket.invalidate_recordset(LIVE_FIELDS)
            values = (
                ticket.sms_deadline_state,
                ticket.sms_time_left,
                ticket.sms_overdue,
            )
            ticket.invalidate_recordset(LIVE_FIELDS)
            return values

    def calendar_mode(self, calendar=None):
        self.set_params(
            deadline_mode="calendar",
            deadline_calendar_id=calendar.id if calendar else "",
        )

    def holiday(self, day):
        """A public holiday: global time off (no resource) on a local day."""
        return self.env["resource.calendar.leaves"].create(
            {
                "name": "Public holiday",
                "calendar_id": False,
                "resource_id": False,
                "date_from": utc(f"{day} 00:00"),
                "date_to": utc(f"{day} 23:59:59"),
            }
        )

    # ------------------------------------------------------------------
    # Clock hours
    # ------------------------------------------------------------------

    def test_clock_deadline_and_time_left(self):
        ticket = self.sms_at("2026-12-03 10:00")
        self.assertEqual(ticket.sms_deadline, utc("2026-12-03 13:00"))
        self.assertFalse(ticket.sms_deadline_calendar_id)
        self.assertTrue(ticket.sms_awaiting_answer)
        self.assertEqual(ticket.sms_compliance, "open")
        self.assertEqual(
            self.live(ticket, "2026-12-03 11:40"), ("on_time", "1 h 20 min left", False)
        )
        self.assertEqual(
            self.live(ticket, "2026-12-03 12:25"), ("due_soon", "35 min left", False)
        )
        self.assertEqual(
            self.live(ticket, "2026-12-03 13:35"),
            ("overdue", "35 min late", True),
        )
        self.assertEqual(
            self.live(ticket, "2026-12-05 16:05"),
            ("overdue", "2 d 3 h late", True),
        )

    def test_overdue_filter(self):
        overdue = self.sms_at("2026-12-03 09:00")
        pending = self.sms_at("2026-12-03 11:00")
        answered = self.sms_at("2026-12-03 09:30")
        with freeze_time(utc("2026-12-03 10:00")):
            answered._sms_center_mark_answered()
        mine = [("sms_keyword_id", "=", self.kw_health.id)]
        with freeze_time(utc("2026-12-03 12:30")):
            self.assertEqual(
                self.Ticket.search(mine + [("sms_overdue", "=", True)]), overdue
            )
            self.assertEqual(
                self.Ticket.search(mine + [("sms_overdue", "=", False)]),
                pending | answered,
            )
            # The inbox's "Overdue" filter, as an officer.
            domain = mine + [("sms_overdue", "=", True)]
            self.assertEqual(
                self.Ticket.with_user(self.user_health).search(domain), overdue
            )
            self.assertFalse(self.Ticket.with_user(self.user_roads).search(domain))

    def test_deadline_hours_setting(self):
        self.set_params(deadline_hours="5")
        ticket = self.sms_at("2026-12-03 10:00")
        self.assertEqual(ticket.sms_deadline, utc("2026-12-03 15:00"))
        # A change applies to new SMS only, unless recomputed on purpose.
        self.set_params(deadline_hours="1.5")
        self.assertEqual(ticket.sms_deadline, utc("2026-12-03 15:00"))
        ticket._sms_center_recompute_deadlines()
        self.assertEqual(ticket.sms_deadline, utc("2026-12-03 11:30"))

    def test_compliance_in_clock_hours(self):
        in_time = self.sms_at("2026-12-03 10:00")
        late = self.sms_at("2026-12-03 10:05")
        with freeze_time(utc("2026-12-03 12:10")):
            in_time._sms_center_mark_answered()
        with freeze_time(utc("2026-12-03 13:20")):
            late._sms_center_mark_answered()
        self.assertEqual(in_time.sms_response_minutes, 130)
        self.assertTrue(in_time.sms_answered_in_time)
        self.assertEqual(in_time.sms_compliance, "in_time")
        self.assertFalse(in_time.sms_awaiting_answer)
        self.assertEqual(late.sms_response_minutes, 195)
        self.assertFalse(late.sms_answered_in_time)
        self.assertEqual(late.sms_compliance, "late")
        self.assertEqual(late.sms_response_working_minutes, 0)
        self.assertEqual(self.live(late, "2026-12-03 14:00"), ("done", False, False))

    # ------------------------------------------------------------------
    # Office working hours (calendar mode)
    # ------------------------------------------------------------------

    def test_calendar_weekend(self):
        self.calendar_mode(self.office)
        # Friday 15:00 + 3 working hours = Monday 10:00.
        friday = self.sms_at("2026-12-04 15:00")
        self.assertEqual(friday.sms_deadline, utc("2026-12-07 10:00"))
        self.assertEqual(friday.sms_deadline_calendar_id, self.office)
        saturday = self.sms_at("2026-12-05 10:00")
        self.assertEqual(saturday.sms_deadline, utc("2026-12-07 11:00"))
        early = self.sms_at("2026-12-03 06:30")
        self.assertEqual(early.sms_deadline, utc("2026-12-03 11:00"))
        evening = self.sms_at("2026-12-03 17:00")
        self.assertEqual(evening.sms_deadline, utc("2026-12-04 11:00"))
        # Friday 15:00 is not overdue on Saturday night.
        self.assertEqual(self.live(friday, "2026-12-05 23:00")[0], "on_time")

    def test_calendar_public_holiday(self):
        self.holiday("2026-12-07")  # Monday
        self.calendar_mode(self.office)
        friday = self.sms_at("2026-12-04 15:00")
        self.assertEqual(friday.sms_deadline, utc("2026-12-08 10:00"))

    def test_calendar_defaults_to_company_hours(self):
        self.env.company.resource_calendar_id = self.office
        self.calendar_mode()
        friday = self.sms_at("2026-12-04 15:00")
        self.assertEqual(friday.sms_deadline, utc("2026-12-07 10:00"))
        self.assertEqual(friday.sms_deadline_calendar_id, self.office)

    def test_calendar_without_working_time_falls_back_to_clock(self):
        empty = self.env["resource.calendar"].create(
            {"name": "Never open", "attendance_ids": [(5, 0, 0)]}
        )
        self.calendar_mode(empty)
        with mute_logger("odoo.addons.sms_center.models.helpdesk_ticket"):
            ticket = self.sms_at("2026-12-04 15:00")
        self.assertEqual(ticket.sms_deadline, utc("2026-12-04 18:00"))
        self.assertFalse(ticket.sms_deadline_calendar_id)

    def test_compliance_in_working_minutes(self):
        self.calendar_mode(self.office)
        friday = self.sms_at("2026-12-04 15:00")
        with freeze_time(utc("2026-12-07 09:00")):
            friday._sms_center_mark_answered()
        self.assertEqual(friday.sms_response_minutes, 66 * 60)
        self.assertEqual(friday.sms_response_working_minutes, 120)
        self.assertTrue(friday.sms_answered_in_time)
        late = self.sms_at("2026-12-04 15:30")  # deadline Monday 10:30
        with freeze_time(utc("2026-12-07 10:45")):
            late._sms_center_mark_answered()
        self.assertEqual(late.sms_response_working_minutes, 30 + 165)
        self.assertFalse(late.sms_answered_in_time)

    # ------------------------------------------------------------------
    # Escalation
    # ------------------------------------------------------------------

    def escalate(self, local):
        return self.run_cron(local, "_cron_escalate_overdue")

    def escalation_notes(self, ticket):
        return ticket.message_ids.filtered(
            lambda m: "Escalated to the secretariat" in (m.body or "")
        )

    def test_escalation_once_to_the_responsible(self):
        self.set_params(escalation_user_id=str(self.user_secretariat.id))
        ticket = self.sms_at("2026-12-03 10:00")
        self.escalate("2026-12-03 12:59")
        self.assertFalse(ticket.sms_escalated_at)
        self.escalate("2026-12-03 13:05")
        self.assertEqual(ticket.sms_escalated_at, utc("2026-12-03 13:05"))
        self.assertEqual(ticket.sms_compliance, "overdue")
        activity = ticket.activity_ids.filtered(
            lambda a: a.activity_type_id == self.activity_type
        )
        self.assertEqual(activity.user_id, self.user_secretariat)
        self.assertIn("Health Officer", activity.note)
        note = self.escalation_notes(ticket)
        self.assertEqual(len(note), 1)
        self.assertIn("03/12/2026 13:00 WIB", note.body)
        self.assertIn(self.user_secretariat.partner_id, note.partner_ids)
        self.assertIn(self.user_admin.partner_id, note.partner_ids)
        self.assertNotIn(self.user_health.partner_id, note.partner_ids)
        # Repeated and later runs: nothing more.
        self.escalate("2026-12-03 13:10")
        self.escalate("2026-12-04 09:00")
        self.assertEqual(len(self.escalation_notes(ticket)), 1)
        self.assertEqual(len(ticket.activity_ids), 1)
        # The late answer settles the activity and the compliance.
        with freeze_time(utc("2026-12-03 14:00")):
            self.env["sms_center.reply.wizard"].with_user(self.user_health).create(
                {"ticket_id": ticket.id, "body": "Maaf terlambat, stok datang besok."}
            ).action_send()
        self.assertFalse(ticket.activity_ids)
        self.assertEqual(ticket.sms_compliance, "late")

    def test_escalation_without_responsible_reaches_the_secretariat(self):
        ticket = self.sms_at("2026-12-03 10:00")
        self.escalate("2026-12-03 13:05")
        users = ticket.activity_ids.user_id
        self.assertIn(self.user_secretariat, users)
        self.assertIn(self.user_admin, users)
        self.assertNotIn(self.user_health, users)

    def test_escalation_skips_answered_closed_and_early(self):
        answered = self.sms_at("2026-12-03 09:00")
        with freeze_time(utc("2026-12-03 10:00")):
            answered._sms_center_mark_answered()
        closed = self.sms_at("2026-12-03 09:10")
        closed_stage = self.env["helpdesk.ticket.stage"].search(
            [("closed", "=", True)], limit=1
        )
        closed.stage_id = closed_stage
        self.assertEqual(closed.sms_compliance, "closed")
        early = self.sms_at("2026-12-03 11:00")
        self.escalate("2026-12-03 13:30")
        self.assertFalse(any((answered | closed | early).mapped("sms_escalated_at")))
        # Reopened unanswered, it is overdue and escalated.
        open_stage = self.env["helpdesk.ticket.stage"].search(
            [("closed", "=", False)], limit=1
        )
        closed.stage_id = open_stage
        self.assertTrue(closed.sms_awaiting_answer)
        self.escalate("2026-12-03 13:35")
        self.assertTrue(closed.sms_escalated_at)
        self.assertFalse(early.sms_escalated_at)

    def test_escalation_sms_to_superior(self):
        self.set_params(escalate_to_superior="True")
        self.officer_health.superior_id = self.officer_successor
        first = self.sms_at("2026-12-03 09:00")
        second = self.sms_at("2026-12-03 09:30", "TSEHAT puskesmas tutup")
        roads = self.sms_at("2026-12-03 09:45", "TJALAN lampu")  # no superior
        self.escalate("2026-12-03 13:00")
        superior = self.reminders_of(self.officer_successor, "escalation")
        self.assertEqual(len(superior), 1)
        self.assertEqual(superior.count, 2)
        self.assertEqual(superior.ticket_ids, first | second)
        self.assertEqual(
            superior.body,
            "SMS Center: 2 SMS for TDINKES (officer Health Officer) not answered by "
            "the deadline.",
        )
        sms = self.sms_for(superior)
        self.assertEqual(sms.number, self.officer_successor.sudo().notification_mobile)
        self.assertTrue(roads.sms_escalated_at)
        self.escalate("2026-12-03 13:30")
        self.assertEqual(len(self.reminders_of(self.officer_successor)), 1)
        # A later overdue SMS: a new escalation SMS for that one only.
        third = self.sms_at("2026-12-03 11:00")
        self.escalate("2026-12-03 14:05")
        superior = self.reminders_of(self.officer_successor, "escalation")
        self.assertEqual(superior.mapped("count"), [2, 1])
        self.assertEqual(superior[1].ticket_ids, third)

    def test_escalation_sms_disabled_by_default(self):
        # The demo data turns it on: back to the default.
        self.set_params(escalate_to_superior=False)
        self.officer_health.superior_id = self.officer_successor
        self.sms_at("2026-12-03 09:00")
        self.escalate("2026-12-03 13:00")
        self.assertFalse(self.reminders_of(self.officer_successor))

    def test_overlapping_escalation_runs(self):
        """Two runs at the same time on separate connections: the second one
        skips the tickets the first one holds."""
        ids = self.commit_fixture("esc", "2031-03-14 08:00")
        env_a, env_b = self.new_env(), self.new_env()
        with freeze_time(utc("2031-03-14 12:00")):
            env_a["sms_center.reminder"]._cron_escalate_overdue()
            ticket_a = env_a["helpdesk.ticket"].browse(ids["ticket"])
            self.assertTrue(ticket_a.sms_escalated_at)
            # Run B while A has not committed yet.
            locked = env_b["sms_center.reminder"]._lock_overdue_tickets(
                utc("2031-03-14 12:00"), 100000
            )
            self.assertNotIn(ids["ticket"], locked.ids)
            env_b.cr.rollback()
            env_b["sms_center.reminder"]._cron_escalate_overdue()
            ticket_b = env_b["helpdesk.ticket"].browse(ids["ticket"])
            self.assertFalse(ticket_b.sms_escalated_at)
            self.assertFalse(
                ticket_b.message_ids.filtered(
                    lambda m: "Escalated to the secretariat" in (m.body or "")
                )
            )
        # Neither run is committed: the committed fixture stays as it was.
        env_a.cr.rollback()
        env_b.cr.rollback()

    # ------------------------------------------------------------------
    # Views
    # ------------------------------------------------------------------

    def test_inbox_views_load_for_officers(self):
        action = self.env.ref("sms_center.action_sms_inbox")
        views = [(view.view_id.id, view.view_mode) for view in action.view_ids]
        Ticket = self.Ticket.with_user(self.user_health)
        result = Ticket.get_views(views + [(action.search_view_id.id, "search")])
        list_arch = result["views"]["list"]["arch"]
        self.assertIn("sms_time_left", list_arch)
        self.assertIn("sms_time_left", result["views"]["kanban"]["arch"])
        self.assertIn('name="overdue"', result["views"]["search"]["arch"])
        ticket = self.sms_at("2026-12-03 10:00")
        with freeze_time(utc("2026-12-03 12:00")):
            data = Ticket.browse(ticket.id).read(["sms_deadline", "sms_time_left"])
        self.assertEqual(data[0]["sms_time_left"], "1 h 00 min left")

    def test_deadline_after_timedelta_rounding(self):
        # Seconds of the reception time are kept.
        ticket = self.sms_at("2026-12-03 10:00:42")
        self.assertEqual(
            ticket.sms_deadline, utc("2026-12-03 10:00:42") + timedelta(hours=3)
        )
