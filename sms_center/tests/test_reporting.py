"""Reporting (R13): the analysis views, who sees which rows, and the
periodic report to the Regent (figures, snapshot, once-only sending, PDF).

The data set is built through the real paths (``receive()``, the reply
wizard, moderation, the escalation and reminder crons, the outbound worker
against a real HTTP gateway on 127.0.0.1, delivery reports, gateway health)
with known figures for January 2025 in Asia/Jakarta, and December 2024 for
the trend. It has SMS on both sides of midnight and of the month
boundaries, where the UTC date differs from the local one.
"""

import re
import shutil
import subprocess
import tempfile
import threading
import time as systime
from datetime import date, datetime, timedelta

import psycopg2

from odoo import SUPERUSER_ID, api
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, HttpCase, freeze_time, tagged

from ..lib.dlr import DELIVERED, FAILED, DlrEvent
from ..models.sms_center_gateway import _drop_sessions
from ..models.sms_center_report import ANSWER_AGGREGATES, ANSWER_KEYS
from .common import SmsCenterCase
from .test_outbound_worker import ApiServer, gateway_vals

JAKARTA_OFFSET = timedelta(hours=7)
JANUARY = (date(2025, 1, 1), date(2025, 1, 31))
DECEMBER = (date(2024, 12, 1), date(2024, 12, 31))
MINUTES_IN_JANUARY = 31 * 24 * 60


def utc(local):
    """'2025-01-15 09:00' in Asia/Jakarta -> UTC naive datetime."""
    return datetime.fromisoformat(local) - JAKARTA_OFFSET


class ReportDataMixin:
    """The constructed data set (see the module docstring)."""

    @classmethod
    def build_report_data(cls):
        env = cls.env
        cls.Inbound = env["sms_center.inbound.analysis"]
        cls.Outgoing = env["sms_center.outgoing.analysis"]
        cls.Report = env["sms_center.report"]
        # Nothing queued by the demo data goes to the test gateway.
        env["sms.sms"].search([("state", "in", ("outgoing", "process"))]).write(
            {"to_delete": True}
        )
        cls.server = ApiServer()
        cls.addClassCleanup(cls.server.stop)
        cls.gateway = env["sms_center.gateway"].create(
            gateway_vals(cls.server, code="t-report-api", name="Report API")
        )
        cls.addClassCleanup(_drop_sessions, [cls.gateway.id])
        # The gateway existed long before the periods reported on (its
        # availability counts from its creation).
        env.cr.execute(
            "UPDATE sms_center_gateway SET create_date = %s WHERE id = %s",
            [datetime(2024, 6, 1), cls.gateway.id],
        )
        env.invalidate_all()
        complaint = env.ref("sms_center.category_complaint")
        question = env.ref("sms_center.category_question")

        # December 2024: the previous period.
        cls.d1 = cls.sms_at("2024-12-31 23:50", "TDINKES obat habis", "081200000001")
        cls.d2 = cls.sms_at("2024-12-15 10:00", "TJALAN jembatan rusak", "081200000002")
        # Answered 30 minutes later, after midnight: a January answer SMS.
        cls.answer_at(cls.d1, "2025-01-01 00:20")
        # January 2025. Ten minutes after midnight: still 31 December in UTC.
        cls.j1 = cls.sms_at(
            "2025-01-01 00:10", "TDINKES antrean panjang", "081200000011"
        )
        cls.j1.ticket_id.category_id = complaint
        cls.answer_at(cls.j1, "2025-01-01 00:55")  # 45 min, in time
        cls.j10 = cls.sms_at("2025-01-10 09:00", "TDINKES promo pulsa", "TELKOMSEL")
        cls.j2 = cls.sms_at(
            "2025-01-15 09:00", "TDINKES jadwal imunisasi", "081200000012"
        )
        cls.j2.ticket_id.category_id = question
        # Same number and keyword within the hour: appended, not a question.
        cls.j3 = cls.sms_at("2025-01-15 09:30", "TDINKES untuk balita", "081200000012")
        # Hourly reminder to the health officer for the 09:00 hour.
        with freeze_time(utc("2025-01-15 10:00")):
            cls.reminder = env["sms_center.reminder"]._cron_send_hourly_reminders()
        cls.answer_at(cls.j2, "2025-01-15 13:00")  # 240 min, late
        cls.j4 = cls.sms_at(
            "2025-01-20 14:00", "TJALAN lubang di jalan", "081200000014"
        )
        cls.j4.ticket_id.category_id = complaint
        # 90 min, in time; two SMS parts.
        cls.answer_at(cls.j4, "2025-01-20 15:30", "Terima kasih. " * 14)
        cls.j5 = cls.sms_at("2025-01-21 08:00", "TJALAN lampu mati", "081200000015")
        with freeze_time(utc("2025-01-21 11:30")):
            env["sms_center.reminder"]._cron_escalate_overdue()  # J5 and D2
        cls.j6 = cls.sms_at("2025-01-22 10:00", "TJALAN iklan judi", "081200000016")
        env["sms_center.message.moderate"].with_user(cls.user_secretariat).create(
            {
                "message_ids": [(6, 0, cls.j6.ids)],
                "moderation_state": "spam",
                "reason": "Iklan",
                # Left open: the figures of a spam ticket nobody closed.
                "close_tickets": False,
            }
        ).action_apply()
        cls.j7 = cls.sms_at("2025-01-23 11:00", "HALO apa kabar", "081200000017")
        # One minute before midnight: 31 January locally, answered in February.
        cls.j8 = cls.sms_at(
            "2025-01-31 23:59", "TDINKES posyandu tutup", "081200000018"
        )
        cls.answer_at(cls.j8, "2025-02-01 01:59")  # 120 min, in time
        # One minute after midnight: February, although 31 January in UTC.
        cls.j9 = cls.sms_at("2025-02-01 00:01", "TJALAN banjir", "081200000019")

        # Every SMS goes to the real HTTP gateway; delivery reports follow.
        env["sms.sms"]._sms_center_process_queue()
        env.invalidate_all()
        for message, status in (
            (cls.d1, DELIVERED),
            (cls.j1, DELIVERED),
            (cls.j2, FAILED),
            (cls.j8, DELIVERED),
        ):
            cls.dlr(message.ticket_id.sms_reply_ids.sms_uuid, status)
        cls.dlr(cls.j7.sms_uuid, DELIVERED)
        # Two outages: one across the new year (60 min in January), one of
        # 372 minutes on 10 January.
        for down, up in (
            ("2024-12-31 23:00", "2025-01-01 01:00"),
            ("2025-01-10 08:00", "2025-01-10 14:12"),
        ):
            with freeze_time(utc(down)):
                cls.gateway._note_error("connection refused")
            with freeze_time(utc(up)):
                cls.gateway._note_success()
        env.flush_all()
        env.invalidate_all()

    @classmethod
    def sms_at(cls, local, text, sender):
        with freeze_time(utc(local)):
            return cls.Message.receive(
                sender, text, received_at=utc(local), gateway=cls.gateway
            )

    @classmethod
    def answer_at(cls, message, local, body="Terima kasih, sudah kami tindak lanjuti."):
        ticket = message.ticket_id
        officer = ticket.sms_keyword_id.officer_ids.user_id[:1]
        with freeze_time(utc(local)):
            cls.env["sms_center.reply.wizard"].with_user(officer).create(
                {"ticket_id": ticket.id, "body": body}
            ).action_send()

    @classmethod
    def dlr(cls, uuid, status):
        cls.env["sms.sms"]._sms_center_apply_dlr(
            cls.gateway, DlrEvent(ref=uuid, status=status)
        )

    def period_domain(self, fname="received_date", period=JANUARY):
        return [(fname, ">=", period[0]), (fname, "<=", period[1])]

    def new_report(self, period=JANUARY, period_type="month", user=None):
        report = self.Report.with_user(user or self.user_secretariat).create(
            {"period_type": period_type, "date_from": period[0]}
        )
        report.action_generate()
        return report


@tagged("post_install", "-at_install")
class TestReporting(ReportDataMixin, SmsCenterCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.build_report_data()

    # ------------------------------------------------------------------
    # The figures
    # ------------------------------------------------------------------

    def test_known_figures(self):
        snap = self.new_report().snapshot
        self.assertEqual(
            snap["totals"],
            {
                "received": 9,
                "routed": 7,
                "unknown": 1,
                "rejected": 1,
                "requests": 0,
                "spam": 1,
                "questions": 5,
                "answered": 4,
                "unanswered": 1,
                "in_time": 3,
                "late": 1,
                "overdue": 1,
                "in_time_rate": 60.0,
                "response_avg": 123.75,
                "response_median": 105.0,
                "response_working_avg": None,
                "response_working_median": None,
                # 081200000012 wrote twice; TELKOMSEL is no citizen's number.
                "senders": 7,
                "repeat_senders": 1,
            },
        )
        previous = snap["previous"]
        self.assertEqual(
            (previous["received"], previous["questions"], previous["answered"]),
            (2, 2, 1),
        )
        self.assertEqual((previous["senders"], previous["repeat_senders"]), (2, 0))
        self.assertEqual(previous["in_time_rate"], 50.0)
        self.assertEqual(previous["response_avg"], 30.0)
        self.assertEqual(previous["overdue"], 1)

        units = {row["id"]: row for row in snap["units"]}
        health, roads = units[self.team_health.id], units[self.team_roads.id]
        self.assertEqual([row["id"] for row in snap["units"]][:2], list(units)[:2])
        self.assertEqual(
            {k: health[k] for k in ("received", "questions", "answered", "in_time")},
            {"received": 5, "questions": 3, "answered": 3, "in_time": 2},
        )
        self.assertAlmostEqual(health["in_time_rate"], 200 / 3)
        self.assertEqual(
            (health["response_avg"], health["response_median"]), (135, 120)
        )
        self.assertEqual(health["overdue"], 0)
        self.assertEqual(health["name"]["id_ID"], "Test Health Unit")
        self.assertEqual(
            {k: roads[k] for k in ("received", "questions", "answered", "overdue")},
            {"received": 3, "questions": 2, "answered": 1, "overdue": 1},
        )
        self.assertEqual((roads["in_time_rate"], roads["response_avg"]), (50.0, 90.0))

        categories = {row["id"]: row for row in snap["categories"]}
        complaint = self.env.ref("sms_center.category_complaint").id
        question = self.env.ref("sms_center.category_question").id
        self.assertEqual(
            {
                key: (row["questions"], row["answered"])
                for key, row in categories.items()
            },
            {complaint: (2, 2), question: (1, 1), False: (2, 1)},
        )
        self.assertEqual(categories[complaint]["in_time_rate"], 100.0)
        self.assertEqual(categories[False]["in_time_rate"], 50.0)

        # Local days: J1 (UTC 31 December) on 1 January, J8 on 31 January,
        # J9 (UTC 31 January) not at all.
        daily = dict(snap["daily"])
        self.assertEqual(len(daily), 31)
        self.assertEqual(sum(daily.values()), 9)
        self.assertEqual(
            {day: n for day, n in daily.items() if n},
            {
                "2025-01-01": 1,
                "2025-01-10": 1,
                "2025-01-15": 2,
                "2025-01-20": 1,
                "2025-01-21": 1,
                "2025-01-22": 1,
                "2025-01-23": 1,
                "2025-01-31": 1,
            },
        )
        # Still open at generation, oldest first, masked numbers.
        self.assertEqual(
            [row["ticket_id"] for row in snap["longest_open"]],
            [self.d2.ticket_id.id, self.j5.ticket_id.id],
        )
        self.assertEqual(snap["longest_open"][1]["sender"], "0812****015")
        self.assertTrue(all(row["overdue"] for row in snap["longest_open"]))

        outgoing = {row["kind"]: row for row in snap["outgoing"]}
        self.assertEqual(
            {
                kind: (row["sms"], row["parts"], row["delivered"], row["failed"])
                for kind, row in outgoing.items()
            },
            {
                # D1 (answered after midnight), J1, J2, J4; J8's is February's.
                "answer": (4, 5, 2, 1),
                # Receipts (issue 10) of the SMS that opened a ticket: J1, J2,
                # J4, J5, J6 (before it was marked spam), J8.
                "receipt": (6, 6, 0, 0),
                "unknown_keyword": (1, 1, 1, 0),
                "reminder_hourly": (1, 1, 0, 0),
            },
        )
        (gateway,) = snap["gateways"]
        self.assertEqual(gateway["id"], self.gateway.id)
        self.assertEqual(
            {
                key: gateway[key]
                for key in ("received", "sent", "delivered", "failed", "delivery_rate")
            },
            {
                "received": 9,
                "sent": 12,
                "delivered": 3,
                "failed": 1,
                "delivery_rate": 25.0,
            },
        )
        self.assertEqual(gateway["downtime_minutes"], 432)
        self.assertEqual(
            gateway["availability"],
            round(100 * (MINUTES_IN_JANUARY - 432) / MINUTES_IN_JANUARY, 2),
        )

    def test_report_equals_pivot(self):
        """What the PDF shows is what the pivot shows for the same period."""
        report = self.new_report()
        snap = report.snapshot
        measures = [spec.split(":")[0] for spec in ANSWER_AGGREGATES]
        Inbound = self.Inbound.with_user(self.user_secretariat)
        domain = self.period_domain()

        def as_snapshot(group):
            return {
                key: group[measure] if group[measure] is not False else 0
                for key, measure in zip(ANSWER_KEYS, measures, strict=True)
            }

        (total,) = Inbound.read_group(domain, measures, [])
        self.assertEqual(
            as_snapshot(total),
            {key: snap["totals"][key] or 0 for key in ANSWER_KEYS},
        )
        # The default pivot: units x months.
        pivot = Inbound.read_group(
            domain, measures, ["team_id", "received_date:month"], lazy=False
        )
        by_unit = {row["id"]: row for row in snap["units"]}
        self.assertEqual(
            {group["team_id"][0] for group in pivot if group["team_id"]}, set(by_unit)
        )
        for group in pivot:
            if not group["team_id"]:
                continue
            self.assertEqual(
                group["__range"]["received_date:month"]["from"], "2025-01-01"
            )
            expected = {
                key: by_unit[group["team_id"][0]][key] or 0 for key in ANSWER_KEYS
            }
            self.assertEqual(as_snapshot(group), expected)
        for group in Inbound.read_group(
            domain + [("is_question", "=", True)], measures, ["category_id"]
        ):
            row = next(
                row
                for row in snap["categories"]
                if row["id"] == (group["category_id"] and group["category_id"][0])
            )
            self.assertEqual(
                as_snapshot(group), {key: row[key] or 0 for key in ANSWER_KEYS}
            )
        states = {
            group["state"]: group["sms_count"]
            for group in Inbound.read_group(domain, ["sms_count"], ["state"])
        }
        self.assertEqual(
            states["routed"] + states["appended"], snap["totals"]["routed"]
        )
        self.assertEqual(states["unknown"], snap["totals"]["unknown"])
        Outgoing = self.Outgoing.with_user(self.user_secretariat)
        kinds = Outgoing.read_group(
            self.period_domain("sent_date"),
            ["sms_count", "parts", "delivered_count", "failed_count"],
            ["kind"],
        )
        self.assertEqual(
            {
                group["kind"]: (
                    group["sms_count"],
                    group["parts"],
                    group["delivered_count"],
                    group["failed_count"],
                )
                for group in kinds
            },
            {
                row["kind"]: (row["sms"], row["parts"], row["delivered"], row["failed"])
                for row in snap["outgoing"]
            },
        )
        # The headline figures of the list view come from the snapshot.
        self.assertEqual(
            (report.received_count, report.question_count, report.answered_count),
            (9, 5, 4),
        )
        self.assertEqual(report.in_time_rate, 60.0)

    def test_quarter_and_year(self):
        quarter = self.new_report((date(2025, 1, 1),), "quarter")
        self.assertEqual(quarter.date_to, date(2025, 3, 31))
        self.assertEqual(quarter.snapshot["totals"]["received"], 10)  # + J9
        self.assertEqual(quarter.snapshot["previous_from"], "2024-10-01")
        self.assertEqual(quarter.snapshot["previous"]["received"], 2)
        self.assertEqual(len(quarter.snapshot["daily"]), 90)
        year = self.new_report((date(2024, 1, 1),), "year")
        self.assertEqual(year.date_to, date(2024, 12, 31))
        self.assertEqual(year.snapshot["totals"]["received"], 2)
        self.assertIn("2024", year.name)
        with self.assertRaises(ValidationError):
            self.Report.create(
                {"period_type": "quarter", "date_from": date(2025, 2, 1)}
            )

    def test_ticket_and_question_counts(self):
        (total,) = self.Inbound.read_group(
            self.period_domain(), ["sms_count", "ticket_count", "question_count"], []
        )
        # J1, J2, J4, J5, J6 (spam), J8 opened a ticket; J6 is no question.
        self.assertEqual(
            (total["sms_count"], total["ticket_count"], total["question_count"]),
            (9, 6, 5),
        )

    def test_median_in_the_pivot(self):
        groups = self.Inbound.read_group(
            self.period_domain(),
            ["response_minutes_median:median", "response_minutes:avg"],
            [],
        )
        self.assertEqual(groups[0]["response_minutes_median"], 105)
        self.assertEqual(groups[0]["response_minutes"], 123.75)
        fields_info = self.Inbound.fields_get(["response_minutes_median"])
        self.assertEqual(fields_info["response_minutes_median"]["aggregator"], "median")

    def test_dimensions(self):
        rows = {
            row.message_id: row for row in self.Inbound.search(self.period_domain())
        }
        self.assertEqual(rows[self.j1].received_date, date(2025, 1, 1))
        self.assertEqual(rows[self.j1].deadline_outcome, "in_time")
        self.assertEqual(rows[self.j2].deadline_outcome, "late")
        self.assertEqual(rows[self.j5].deadline_outcome, "overdue")
        self.assertTrue(rows[self.j5].is_escalated)
        self.assertFalse(rows[self.j4].is_escalated)
        self.assertEqual(rows[self.j3].state, "appended")
        self.assertTrue(rows[self.j3].is_answered)
        self.assertFalse(rows[self.j3].is_question)
        self.assertEqual(rows[self.j6].moderation_state, "spam")
        self.assertFalse(rows[self.j6].is_question)
        self.assertEqual(rows[self.j7].state, "unknown")
        self.assertFalse(rows[self.j7].team_id)
        self.assertEqual(rows[self.j10].state, "rejected")
        self.assertEqual(rows[self.j10].team_id, self.team_health)
        self.assertEqual(rows[self.j2].user_id, self.user_health)
        self.assertEqual(rows[self.j2].gateway_id, self.gateway)
        self.assertNotIn(self.j9, rows)
        outgoing = self.Outgoing.search(self.period_domain("sent_date"))
        answer_j4 = outgoing.filtered(
            lambda row: row.kind == "answer" and row.keyword_id == self.kw_roads
        )
        self.assertEqual(
            (answer_j4.parts, answer_j4.status, answer_j4.gateway_id),
            (2, "sent", self.gateway),
        )
        self.assertEqual(answer_j4.author_id, self.user_roads)
        failed = outgoing.filtered(lambda row: row.status == "failed")
        self.assertEqual(failed.kind, "answer")
        self.assertTrue(failed.failure_reason)

    # ------------------------------------------------------------------
    # Who sees what
    # ------------------------------------------------------------------

    def test_officers_see_their_keywords_only(self):
        domain = self.period_domain()
        for user, expected in (
            (self.user_health, self.j1 | self.j2 | self.j3 | self.j8),
            (self.user_roads, self.j4 | self.j5 | self.j6),
            (self.user_secretariat, None),
        ):
            Inbound = self.Inbound.with_user(user)
            rows = Inbound.search(domain)
            if expected is None:
                self.assertEqual(len(rows), 9)
                continue
            self.assertEqual(rows.message_id, expected, user.login)
            (total,) = Inbound.read_group(domain, ["sms_count"], [])
            self.assertEqual(total["sms_count"], len(expected))
            groups = Inbound.read_group(domain, ["sms_count"], ["team_id"])
            self.assertEqual(len(groups), 1, "one unit: their own")
        # Outgoing: answers of their keywords and the notifications they got.
        sent = self.period_domain("sent_date")
        health = self.Outgoing.with_user(self.user_health).search(sent)
        self.assertEqual(
            sorted(health.mapped("kind")),
            ["answer"] * 3 + ["receipt"] * 3 + ["reminder_hourly"],
        )
        self.assertEqual(
            health.filtered("recipient_user_id").recipient_user_id, self.user_health
        )
        roads = self.Outgoing.with_user(self.user_roads).search(sent)
        self.assertEqual(sorted(roads.mapped("kind")), ["answer"] + ["receipt"] * 3)
        everything = self.Outgoing.with_user(self.user_secretariat).search(sent)
        self.assertEqual(len(everything), 12)
        self.assertIn("unknown_keyword", everything.mapped("kind"))

    def test_other_users_see_nothing(self):
        for model in (self.Inbound, self.Outgoing, self.Report):
            with self.assertRaises(AccessError):
                model.with_user(self.user_plain).search([])
        report = self.new_report()
        with self.assertRaises(AccessError):
            self.Report.with_user(self.user_health).search([])
        with self.assertRaises(AccessError):
            report.with_user(self.user_health).read(["snapshot"])
        with self.assertRaises(AccessError):
            self.Inbound.with_user(self.user_health).browse(
                self.Inbound.search([("message_id", "=", self.j4.id)]).id
            ).read(["team_id"])
        menu = self.env.ref("sms_center.menu_reports")
        visible = self.env["ir.ui.menu"].with_user(self.user_health)._visible_menu_ids()
        self.assertNotIn(menu.id, visible)
        self.assertIn(self.env.ref("sms_center.menu_inbound_analysis").id, visible)

    def test_views_load(self):
        for user in (self.user_health, self.user_secretariat):
            for action in (
                "sms_center.action_sms_center_inbound_analysis",
                "sms_center.action_sms_center_performance_analysis",
                "sms_center.action_sms_center_outgoing_analysis",
            ):
                values = self.env.ref(action).sudo().read()[0]
                model = self.env[values["res_model"]].with_user(user)
                for view_type in ("graph", "pivot", "list", "search"):
                    model.get_views([(False, view_type)])
        Report = self.Report.with_user(self.user_secretariat)
        Report.get_views([(False, "form"), (False, "list"), (False, "search")])

    # ------------------------------------------------------------------
    # The snapshot
    # ------------------------------------------------------------------

    def test_sent_report_never_changes(self):
        report = self.new_report()
        report.recipient_ids = self.env["res.partner"].create(
            {"name": "Bagian Umum Setda", "email": "setda@example.com"}
        )
        report.action_send()
        self.assertEqual(report.state, "sent")
        before = dict(report.snapshot)
        # Tickets change later: J5 answered, J1 marked spam, new SMS.
        self.answer_at(self.j5, "2025-02-10 09:00")
        self.j1.write({"moderation_state": "spam", "moderation_reason": "Iklan"})
        self.sms_at("2025-01-25 10:00", "TDINKES pertanyaan baru", "081200000031")
        self.env.invalidate_all()
        self.assertEqual(report.snapshot, before)
        fresh = self.Report._compute_snapshot("month", *JANUARY)
        self.assertEqual(
            {key: fresh["totals"][key] for key in ("received", "questions", "spam")},
            {"received": 10, "questions": 5, "spam": 2},
        )
        with self.assertRaises(UserError):
            report.action_generate()
        with self.assertRaises(UserError):
            report.write({"snapshot": fresh})
        with self.assertRaises(UserError):
            report.write({"date_from": date(2024, 12, 1)})
        with self.assertRaises(UserError):
            report.unlink()
        with self.assertRaises(UserError):
            report.action_send()
        # Not even through SQL.
        with (
            self.assertRaises(psycopg2.errors.IntegrityConstraintViolation),
            self.env.cr.savepoint(),
        ):
            self.env.cr.execute(
                "UPDATE sms_center_report SET snapshot = '{}' WHERE id = %s",
                [report.id],
                log_exceptions=False,
            )
        with (
            self.assertRaises(psycopg2.errors.IntegrityConstraintViolation),
            self.env.cr.savepoint(),
        ):
            self.env.cr.execute(
                "DELETE FROM sms_center_report WHERE id = %s",
                [report.id],
                log_exceptions=False,
            )
        # Comments on a sent report are still possible.
        report.message_post(body="Diterima oleh Sekda.")

    def test_signature_frozen_when_sent(self):
        """The signatory printed on a sent report is the one of the day it
        was sent, whatever the settings say later; a draft follows them."""
        ICP = self.env["ir.config_parameter"].sudo()
        ICP.set_param("sms_center.report_signatory_name", "Drs. Budi Santoso")
        ICP.set_param("sms_center.report_signatory_title", "Kepala Bagian Humas")
        report = self.new_report()
        draft = self.new_report((date(2024, 12, 1),))
        report.recipient_ids = self.env["res.partner"].create(
            {"name": "Kantor Bupati", "email": "bupati@example.com"}
        )
        report.action_send()
        ICP.set_param("sms_center.report_signatory_name", "Siti Aminah, S.H.")
        ICP.set_param("sms_center.report_signatory_title", "")
        self.assertEqual(
            report._signatory(),
            {"name": "Drs. Budi Santoso", "title": "Kepala Bagian Humas"},
        )
        self.assertEqual(draft._signatory(), {"name": "Siti Aminah, S.H.", "title": ""})
        Pdf = self.env["ir.actions.report"].with_user(self.user_secretariat)
        html = Pdf._render_qweb_html(
            "sms_center.action_report_sms_center_report", report.ids
        )[0].decode()
        self.assertIn("Drs. Budi Santoso", html)
        self.assertIn("Kepala Bagian Humas", html)
        self.assertNotIn("Siti Aminah", html)
        html = Pdf._render_qweb_html(
            "sms_center.action_report_sms_center_report", draft.ids
        )[0].decode()
        self.assertIn("Siti Aminah, S.H.", html)

    def test_trend_colours(self):
        """Green for good news, red for bad news, no colour for how many
        citizens wrote (neither)."""
        rows = {
            row[0]: (row[4], row[5])
            for row in self.new_report().with_context(lang="en_US")._trend_rows()
        }
        self.assertEqual(
            rows,
            {
                "SMS received": ("↑", None),  # 9 against 2
                "Questions": ("↑", None),  # 5 against 2
                "Questions answered": ("↑", True),  # 4 against 1
                "Answered within the deadline": ("↑", True),  # 60 % against 50 %
                "Average time to first answer": ("↑", False),  # 124 against 30 min
                "Unknown keyword": ("↑", False),  # 1 against 0
            },
        )

    def test_draft_regenerates(self):
        report = self.new_report()
        self.assertEqual(report.snapshot["totals"]["answered"], 4)
        self.answer_at(self.j5, "2025-02-10 09:00")
        self.env.invalidate_all()
        self.assertEqual(report.snapshot["totals"]["answered"], 4, "frozen until asked")
        report.action_generate()
        self.assertEqual(report.snapshot["totals"]["answered"], 5)
        self.assertEqual(report.snapshot["totals"]["overdue"], 0)
        # Another period: figures must be generated again.
        report.date_from = date(2024, 12, 1)
        self.assertFalse(report.snapshot)
        self.assertFalse(report.generated_at)
        report.action_generate()
        self.assertEqual(report.snapshot["totals"]["received"], 2)

    def test_one_report_per_period(self):
        self.new_report()
        with self.assertRaises(ValidationError):
            self.Report.create({"period_type": "month", "date_from": JANUARY[0]})
        # The same month as part of a quarter is another report.
        self.new_report((JANUARY[0],), "quarter")

    def test_send_now_needs_recipients(self):
        report = self.new_report()
        report.recipient_ids = False
        with self.assertRaises(UserError):
            report.action_send()
        self.assertEqual(report.state, "draft")

    # ------------------------------------------------------------------
    # Scheduled sending
    # ------------------------------------------------------------------

    def set_schedule(self, **params):
        ICP = self.env["ir.config_parameter"].sudo()
        for key, value in params.items():
            ICP.set_param(f"sms_center.{key}", value)

    def run_cron(self, local):
        with freeze_time(utc(local)):
            return self.Report._cron_send_scheduled()

    def test_scheduled_report_sent_once(self):
        regent = self.env["res.partner"].create(
            {"name": "Kantor Bupati", "email": "bupati@example.com"}
        )
        sekda = self.env["res.partner"].create(
            {"name": "Sekretaris Daerah", "email": "sekda@example.com"}
        )
        self.set_schedule(
            report_day="2",
            report_time="07:30",
            report_partner_ids=f"{regent.id},{sekda.id}",
        )
        self.assertFalse(self.run_cron("2025-02-02 07:29"))
        report = self.run_cron("2025-02-02 07:30")
        self.assertEqual((report.period_type, report.date_from), ("month", JANUARY[0]))
        self.assertEqual(report.state, "sent")
        self.assertEqual(report.snapshot["totals"]["received"], 9)
        self.assertEqual(report.recipient_ids, regent | sekda)
        self.assertTrue(report.scheduled_at)
        # Later, repeated runs: nothing more.
        for local in ("2025-02-02 07:30", "2025-02-02 09:00", "2025-02-20 07:30"):
            self.assertFalse(self.run_cron(local))
        mails = report.message_ids.filtered(lambda m: m.message_type == "comment")
        self.assertEqual(len(mails), 1, "one e-mail, in the report's chatter")
        self.assertEqual(mails.partner_ids, regent | sekda)
        self.assertEqual(len(mails.attachment_ids), 1, "the report attached")
        outgoing = (
            self.env["mail.mail"].sudo().search([("mail_message_id", "=", mails.id)])
        )
        self.assertEqual(outgoing.recipient_ids, regent | sekda)
        self.assertEqual(self.Report.search_count([("date_from", "=", JANUARY[0])]), 1)
        # Indonesian by default, whoever runs the cron.
        self.assertIn("Januari 2025", mails.subject)
        # Next month: February's report.
        report_feb = self.run_cron("2025-03-02 08:00")
        self.assertEqual(report_feb.date_from, date(2025, 2, 1))
        self.assertEqual(report_feb.snapshot["totals"]["received"], 1)  # J9

    def test_scheduled_report_sends_an_existing_draft(self):
        draft = self.new_report()
        draft.recipient_ids = self.env["res.partner"].create(
            {"name": "Kantor Bupati", "email": "bupati@example.com"}
        )
        self.answer_at(self.j5, "2025-01-31 10:00")
        report = self.run_cron("2025-02-01 07:00")
        self.assertEqual(report, draft)
        self.assertEqual(report.state, "sent")
        self.assertEqual(report.snapshot["totals"]["answered"], 5, "regenerated")
        # A report sent by hand is never sent again by the schedule.
        february = self.new_report((date(2025, 2, 1),))
        february.recipient_ids = draft.recipient_ids
        february.action_send()
        self.assertFalse(self.run_cron("2025-03-01 07:00"))
        self.assertEqual(
            len(february.message_ids.filtered(lambda m: m.message_type == "comment")),
            1,
        )

    def test_scheduled_without_recipients_stays_draft(self):
        self.set_schedule(report_partner_ids="")
        report = self.run_cron("2025-02-01 07:00")
        self.assertEqual(report.state, "draft")
        self.assertTrue(report.snapshot)
        self.assertIn("no recipients", report.message_ids[0].body)
        # Handled once: the next runs leave it for the secretariat.
        self.assertFalse(self.run_cron("2025-02-01 08:00"))

    def test_report_settings(self):
        """Recipients, day and time saved by an SMS Center administrator, read
        back by both settings pages and by the reports."""
        regent = self.env["res.partner"].create(
            {"name": "Kantor Bupati", "email": "bupati@example.com"}
        )
        sekda = self.env["res.partner"].create(
            {"name": "Sekretaris Daerah", "email": "sekda@example.com"}
        )
        Settings = self.env["sms_center.settings"].with_user(self.user_admin)
        with Form(Settings) as form:
            self.assertEqual(
                (form.sms_center_report_period, form.sms_center_report_day),
                ("month", 1),
            )
            self.assertEqual(form.sms_center_report_time, "07:00")
            form.sms_center_report_partner_ids.add(regent)
            form.sms_center_report_partner_ids.add(sekda)
            form.sms_center_report_day = 3
            form.sms_center_report_time = "08:30"
            form.sms_center_report_signatory_name = "Drs. Budi Santoso"
        form.record.execute()
        ICP = self.env["ir.config_parameter"].sudo()
        self.assertEqual(
            ICP.get_param("sms_center.report_partner_ids"), f"{regent.id},{sekda.id}"
        )
        reopened = Settings.create({})
        self.assertEqual(reopened.sms_center_report_partner_ids, regent | sekda)
        self.assertEqual(reopened.sms_center_report_day, 3)
        self.assertEqual(
            self.env["res.config.settings"].create({}).sms_center_report_partner_ids,
            regent | sekda,
        )
        # A new report is addressed to them; the schedule follows day and time.
        report = self.Report.with_user(self.user_secretariat).create(
            {"date_from": JANUARY[0]}
        )
        self.assertEqual(report.recipient_ids, regent | sekda)
        self.assertEqual(report._settings()["signatory_name"], "Drs. Budi Santoso")
        report.unlink()
        self.assertFalse(self.run_cron("2025-02-03 08:29"))
        self.assertEqual(self.run_cron("2025-02-03 08:30").state, "sent")
        # Emptied: the parameter is removed; a deleted contact is dropped.
        sekda.unlink()
        self.assertEqual(Settings.create({}).sms_center_report_partner_ids, regent)
        reopened = Settings.create({})
        reopened.sms_center_report_partner_ids = False
        reopened.execute()
        self.assertFalse(ICP.get_param("sms_center.report_partner_ids"))
        for day in (0, 29):
            with self.assertRaises(ValidationError):
                Settings.create({"sms_center_report_day": day})

    def test_quarterly_schedule(self):
        self.set_schedule(report_period="quarter", report_partner_ids="")
        # Due since 1 January 07:00: the last quarter of 2024.
        report = self.run_cron("2025-03-31 23:00")
        self.assertEqual(
            (report.period_type, report.date_from), ("quarter", date(2024, 10, 1))
        )
        self.assertFalse(self.run_cron("2025-04-01 06:59"))
        report = self.run_cron("2025-04-01 07:00")
        self.assertEqual(
            (report.period_type, report.date_from), ("quarter", date(2025, 1, 1))
        )
        self.assertFalse(self.run_cron("2025-05-01 07:00"))


@tagged("post_install", "-at_install")
class TestReportConcurrency(SmsCenterCase):
    """Two cron runs on two database connections send one report."""

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            partner = env["res.partner"].create(
                {"name": "Concurrency Regent", "email": "regent@example.com"}
            )
            ICP = env["ir.config_parameter"]
            self.saved = {
                key: ICP.get_param(key)
                for key in ("sms_center.report_partner_ids", "sms_center.report_day")
            }
            ICP.set_param("sms_center.report_partner_ids", str(partner.id))
            ICP.set_param("sms_center.report_day", "1")
            self.partner_id = partner.id
        self.addCleanup(self._drop_committed)

    def _drop_committed(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            reports = env["sms_center.report"].search(
                [("date_from", "=", date(2031, 2, 1))]
            )
            messages = env["mail.message"].search(
                [("model", "=", "sms_center.report"), ("res_id", "in", reports.ids)]
            )
            env["mail.mail"].search([("mail_message_id", "in", messages.ids)]).unlink()
            messages.unlink()
            # A sent report is protected by a trigger; this test's own data
            # goes without firing it.
            cr.execute("SET LOCAL session_replication_role = replica")
            cr.execute(
                "DELETE FROM sms_center_report WHERE date_from = %s", [date(2031, 2, 1)]
            )
            cr.execute("SET LOCAL session_replication_role = DEFAULT")
            env["res.partner"].browse(self.partner_id).unlink()
            for key, value in self.saved.items():
                env["ir.config_parameter"].set_param(key, value or False)
            env["ir.cron.trigger"].search([("call_at", ">=", "2031-01-01")]).unlink()

    def new_env(self):
        cr = self.registry.cursor()
        self.addCleanup(cr.close)
        cr.execute("SET lock_timeout = '30s'")
        return api.Environment(cr, SUPERUSER_ID, {})

    def test_concurrent_runs_send_once(self):
        env_a, env_b = self.new_env(), self.new_env()
        result = {}

        def run_b():
            try:
                result["b"] = env_b["sms_center.report"]._cron_send_scheduled().ids
                env_b.cr.commit()
            except Exception as exc:  # noqa: BLE001 - reported to the main thread
                result["error"] = exc
                env_b.cr.rollback()

        with freeze_time(utc("2031-03-01 07:05")):
            report_a = env_a["sms_center.report"]._cron_send_scheduled()
            self.assertEqual(report_a.state, "sent")
            env_b.cr.execute("SELECT pg_backend_pid()")
            pid_b = env_b.cr.fetchone()[0]
            worker = threading.Thread(target=run_b)
            worker.start()
            self.assertTrue(self._wait_lock(pid_b), "run B never waited on run A")
            env_a.cr.commit()
            worker.join(60)
        self.assertFalse(worker.is_alive())
        self.assertNotIn("error", result)
        self.assertEqual(result["b"], [], "run B must not send again")
        env_check = self.new_env()
        reports = env_check["sms_center.report"].search(
            [("date_from", "=", date(2031, 2, 1))]
        )
        self.assertEqual(len(reports), 1)
        mails = reports.message_ids.filtered(lambda m: m.message_type == "comment")
        self.assertEqual(len(mails), 1)
        # Send now while a run holds the report: refused, not sent twice.
        self.assertEqual(reports.state, "sent")

    def _wait_lock(self, pid, timeout=20):
        watch = self.new_env().cr
        deadline = systime.monotonic() + timeout
        while systime.monotonic() < deadline:
            watch.execute(
                "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid]
            )
            row = watch.fetchone()
            watch.rollback()
            if row and row[0] == "Lock":
                return True
            systime.sleep(0.05)
        return False


@tagged("post_install", "-at_install")
class TestReportPdf(ReportDataMixin, SmsCenterCase, HttpCase):
    """The PDF rendered for real by wkhtmltopdf, read back with pdftotext."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.build_report_data()

    def setUp(self):
        super().setUp()
        missing = [
            tool for tool in ("wkhtmltopdf", "pdftotext") if not shutil.which(tool)
        ]
        if missing:
            self.fail(
                f"{' and '.join(missing)} not found: install the Debian packages "
                "wkhtmltopdf and poppler-utils (scripts/run-tests installs them)."
            )
        state = self.env["ir.actions.report"].get_wkhtmltopdf_state()
        if state != "ok":
            self.fail(f"Odoo cannot use wkhtmltopdf (state {state!r})")

    def pdf_text(self, pdf):
        self.assertTrue(pdf.startswith(b"%PDF"), "not a PDF")
        with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
            handle.write(pdf)
            handle.flush()
            text = subprocess.run(
                ["pdftotext", "-layout", handle.name, "-"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        return re.sub(r"[ \t]+", " ", text)

    def assert_line(self, text, label, *values):
        pattern = re.escape(label) + r" " + r" ".join(re.escape(v) for v in values)
        self.assertRegex(text, pattern)

    def test_emailed_pdf_in_indonesian(self):
        report = self.new_report()
        report.recipient_ids = self.env["res.partner"].create(
            {"name": "Kantor Bupati", "email": "bupati@example.com"}
        )
        report.with_context(force_report_rendering=True).action_send()
        mail = report.message_ids.filtered(lambda m: m.message_type == "comment")
        self.assertEqual(mail.attachment_ids.mimetype, "application/pdf")
        text = self.pdf_text(mail.attachment_ids.raw)
        self.assertIn("Laporan SMS Center Januari 2025", text)
        # "SMS masuk": the glossary's term ("diterima" is "delivered").
        self.assert_line(text, "SMS masuk", "9")
        self.assert_line(text, "Warga yang mengirim SMS (nomor ponsel berbeda)", "7")
        self.assert_line(text, "Di antaranya yang mengirim lebih dari sekali", "1")
        self.assert_line(text, "Pertanyaan yang harus dijawab", "5")
        self.assert_line(text, "Dijawab dalam batas waktu", "3", "(60,0 %)")
        self.assert_line(text, "Kata kunci tidak dikenal", "1")
        self.assert_line(text, "Test Health Unit", "5", "3", "3", "66,7 %")
        self.assert_line(text, "Test Roads Unit", "3", "2", "1", "50,0 %")
        self.assertIn("0812****015", text)  # the longest-open question, masked
        self.assertNotIn("081200000015", text)
        self.assertIn("Report API", text)
        self.assertIn("99,03 %", text)  # availability
        self.assertIn("Kepala SMS Center", text)

    def test_printed_in_english_for_english_users(self):
        self.env["res.lang"]._activate_lang("en_US")
        self.user_secretariat.lang = "en_US"
        report = self.new_report()
        pdf, kind = (
            self.env["ir.actions.report"]
            .with_user(self.user_secretariat)
            .with_context(force_report_rendering=True, lang="en_US")
            ._render_qweb_pdf("sms_center.action_report_sms_center_report", report.ids)
        )
        self.assertEqual(kind, "pdf")
        text = self.pdf_text(pdf)
        self.assertIn("SMS Center report January 2025", text)
        self.assert_line(text, "SMS received", "9")
        self.assert_line(text, "Questions to answer", "5")
        self.assert_line(text, "Answered within the deadline", "3", "(60.0 %)")
        self.assert_line(text, "Test Health Unit", "5", "3", "3", "66.7 %")
        self.assertIn("↑", text)  # trend against December
        self.assertIn("Head of the SMS Center", text)
