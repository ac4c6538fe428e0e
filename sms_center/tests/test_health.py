"""The monitoring endpoint ``/sms_center/health``, called over real HTTP.

A monitoring tool (Zabbix, Nagios, Prometheus) calls it without a session,
with the monitoring token of the settings: token checks, the JSON and
Prometheus answers, the 200 / 503 switching on each alert condition, and
no personal data in either answer.
"""

import json
import re
from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged

from ..lib import prometheus
from .common import SmsCenterCase

PATH = "/sms_center/health"
# A sample line of the text exposition format: name, optional labels, value.
SAMPLE = re.compile(
    r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)"
    r"(?:\{(?P<labels>[^}]*)\})?"
    r" (?P<value>[-+]?(?:[0-9.]+(?:[eE][-+]?[0-9]+)?|NaN|Inf))$"
)
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)')


def parse_exposition(text):
    """Parse the Prometheus text format strictly: ``{family: {"help", "type",
    "samples": {labels tuple: value}}}``. Fails (AssertionError) on a line
    that is not a HELP, TYPE or sample line, on a sample before its family's
    HELP and TYPE, and on a duplicate series."""
    assert text.endswith("\n"), "the exposition must end with a newline"
    families = {}
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            _hash, kind, name, *rest = line.split(" ", 3)
            family = families.setdefault(name, {"samples": {}})
            key = kind.lower()
            assert key not in family, f"line {number}: second {kind} for {name}"
            assert not family["samples"], f"line {number}: {kind} after samples"
            family[key] = rest[0] if rest else ""
            if key == "type":
                assert family[key] in prometheus.TYPES, f"line {number}: {line}"
            continue
        match = SAMPLE.match(line)
        assert match, f"line {number} is not a sample: {line!r}"
        name = match["name"]
        family = families.get(name)
        assert (
            family and "help" in family and "type" in family
        ), f"line {number}: sample of {name} without # HELP and # TYPE first"
        labels_text = match["labels"] or ""
        labels = tuple(LABEL.findall(labels_text))
        assert (
            ",".join(f'{k}="{v}"' for k, v in labels) == labels_text
        ), f"line {number}: malformed labels {labels_text!r}"
        key = tuple(sorted(labels))
        assert key not in family["samples"], f"line {number}: duplicate series"
        family["samples"][key] = float(match["value"])
    return families


@tagged("post_install", "-at_install")
class TestHealthEndpoint(SmsCenterCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ICP = cls.env["ir.config_parameter"].sudo()
        cls.token = cls.ICP.get_param("sms_center.health_token")
        cls.Gateway = cls.env["sms_center.gateway"]
        cls.modem = cls.Gateway.create(
            {
                "name": "Modem Pak Sutrisno 081234500011",
                "code": "t-modem",
                "gateway_type": "gammu",
                "gammu_device": "/dev/null",
                "receiving_numbers": "081234500011",
                "alert_after_minutes": 15,
            }
        )
        cls.kannel = cls.Gateway.create(
            {
                "name": "Kannel Telkomsel 081234500022",
                "code": "t-kannel",
                "gateway_type": "kannel",
                "receiving_numbers": "+6281234500022",
                "alert_after_minutes": 10,
            }
        )

    def setUp(self):
        super().setUp()
        self.now = fields.Datetime.now()
        self.make_healthy()

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------

    def make_healthy(self):
        """Bring the database to a state without any alert condition."""
        cr = self.env.cr
        self.env.flush_all()
        cr.execute(
            """UPDATE sms_center_gateway
                  SET last_success_at = %s, failing_since = NULL""",
            [self.now],
        )
        cr.execute(
            """UPDATE sms_sms SET state = 'canceled'
                WHERE state IN ('outgoing', 'process')"""
        )
        cr.execute(
            """UPDATE ir_cron SET nextcall = %s, lastcall = %s, failure_count = 0
                WHERE id IN (SELECT res_id FROM ir_model_data
                              WHERE module = 'sms_center' AND model = 'ir.cron')""",
            [self.now + timedelta(minutes=10), self.now - timedelta(minutes=1)],
        )
        cr.execute(
            """DELETE FROM ir_cron_trigger
                WHERE cron_id IN (SELECT res_id FROM ir_model_data
                                   WHERE module = 'sms_center'
                                     AND model = 'ir.cron')"""
        )
        self.env.invalidate_all()
        overdue = self.env["helpdesk.ticket"].search_count([("sms_overdue", "=", True)])
        # Room for two more overdue SMS before the backlog alert.
        self.ICP.set_param("sms_center.health_overdue_tickets", str(overdue + 2))

    def get(self, token=None, params=None, bearer=True):
        self.env.flush_all()
        headers = {}
        query = dict(params or {})
        token = self.token if token is None else token
        if token is not False:
            if bearer:
                headers["Authorization"] = f"Bearer {token}"
            else:
                query["token"] = token
        url = PATH
        if query:
            url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
        return self.url_open(url, headers=headers)

    def report(self, expect_status=None):
        response = self.get()
        if expect_status:
            self.assertEqual(response.status_code, expect_status, response.text)
        self.assertEqual(response.headers["Content-Type"], "application/json")
        return response.json()

    def checks(self, report):
        return {alert["check"] for alert in report["alerts"]}

    def prometheus(self):
        response = self.get(params={"format": "prometheus"})
        self.assertEqual(response.status_code, 200, response.text)
        self.assertTrue(response.headers["Content-Type"].startswith("text/plain"))
        self.assertIn("version=0.0.4", response.headers["Content-Type"])
        return response.text

    # ------------------------------------------------------------------
    # token
    # ------------------------------------------------------------------

    def test_token_is_random_and_required(self):
        self.assertGreaterEqual(len(self.token), 40)
        missing = self.get(token=False)
        wrong = self.get(
            token=self.token[:-1] + ("A" if self.token[-1] != "A" else "B")
        )
        wrong_query = self.get(token="guess", bearer=False)
        empty_bearer = self.get(token="")
        for response in (missing, wrong, wrong_query, empty_bearer):
            self.assertEqual(response.status_code, 403)
            # The same answer whatever was wrong: no oracle.
            self.assertEqual(response.text, missing.text)
            self.assertNotIn("gateways", response.text)
        self.assertEqual(self.get().status_code, 200)
        self.assertEqual(self.get(bearer=False).status_code, 200)
        self.assertEqual(
            self.get(params={"format": "prometheus"}, bearer=False).status_code, 200
        )

    def test_without_a_configured_token_everything_is_refused(self):
        self.ICP.set_param("sms_center.health_token", False)
        self.assertEqual(self.get(token="").status_code, 403)
        self.assertEqual(self.get(token=False).status_code, 403)
        self.assertEqual(self.get(token="", bearer=False).status_code, 403)
        # An update of the module gives the database a token again.
        self.env["sms_center.settings"]._sms_center_ensure_health_token()
        self.assertTrue(self.ICP.get_param("sms_center.health_token"))

    def test_regenerated_token_replaces_the_old_one(self):
        settings = self.env["sms_center.settings"].with_user(self.user_admin)
        form = settings.create({})
        self.assertEqual(form.sms_center_health_token, self.token)
        self.assertTrue(form.sms_center_health_url.endswith(PATH))
        action = form.action_sms_center_regenerate_health_token()
        self.assertEqual(action["tag"], "reload")
        new_token = self.ICP.get_param("sms_center.health_token")
        self.assertNotEqual(new_token, self.token)
        self.assertEqual(self.get().status_code, 403)
        self.assertEqual(self.get(token=new_token).status_code, 200)
        # Saving the settings page leaves the token alone (it is shown only).
        form = settings.create({})
        form.execute()
        self.assertEqual(self.ICP.get_param("sms_center.health_token"), new_token)

    def test_only_administrators_regenerate_the_token(self):
        form = self.env["sms_center.settings"].with_user(self.user_admin).create({})
        for user in (self.user_health, self.user_secretariat, self.user_plain):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                form.with_user(user).action_sms_center_regenerate_health_token()
        self.assertEqual(self.ICP.get_param("sms_center.health_token"), self.token)

    def test_unknown_format_is_refused(self):
        response = self.get(params={"format": "xml"})
        self.assertEqual(response.status_code, 400)

    # ------------------------------------------------------------------
    # formats
    # ------------------------------------------------------------------

    def test_json_report_when_all_is_well(self):
        report = self.report(expect_status=200)
        self.assertEqual(report["status"], "ok")
        self.assertEqual(report["alerts"], [])
        gateways = {gateway["code"]: gateway for gateway in report["gateways"]}
        self.assertEqual(gateways["t-modem"]["state"], "ok")
        self.assertEqual(gateways["t-modem"]["type"], "gammu")
        self.assertLess(gateways["t-modem"]["seconds_since_success"], 60)
        self.assertEqual(
            report["inbound_sms"], {"to_route": 0, "oldest_to_route_seconds": None}
        )
        self.assertEqual(report["outgoing_sms"]["queued"], 0)
        actions = {action["id"]: action for action in report["scheduled_actions"]}
        self.assertIn("sms_center.ir_cron_sms_center_outbound", actions)
        self.assertIn("sms_center.ir_cron_hourly_reminder", actions)
        for action in actions.values():
            self.assertEqual(action["seconds_late"], 0)
            self.assertLess(action["seconds_since_last_run"], 120)
        self.assertEqual(report["thresholds"]["sms_wait_seconds"], 30 * 60)

    def test_prometheus_output_parses_without_duplicates(self):
        # Alert conditions on, so that every kind of series is present.
        self.env.cr.execute(
            "UPDATE sms_center_gateway SET failing_since = %s WHERE id = %s",
            [self.now - timedelta(hours=1), self.kannel.id],
        )
        text = self.prometheus()
        families = parse_exposition(text)
        # Prometheus's own parser reads the same families and samples.
        official = {
            family.name: family for family in text_string_to_metric_families(text)
        }
        self.assertEqual(set(official), set(families))
        for name, family in official.items():
            self.assertEqual(family.type, "gauge", name)
            self.assertEqual(len(family.samples), len(families[name]["samples"]), name)
        for name, family in families.items():
            self.assertTrue(name.startswith("sms_center_"), name)
            self.assertEqual(family["type"], "gauge")
            self.assertTrue(family["help"])
        self.assertEqual(families["sms_center_healthy"]["samples"], {(): 0.0})
        alert = families["sms_center_alert"]["samples"]
        self.assertEqual(alert[(("check", "gateway_down"),)], 1.0)
        self.assertEqual(alert[(("check", "overdue_backlog"),)], 0.0)
        states = families["sms_center_gateway_state"]["samples"]
        kannel_states = {
            dict(key)["state"]: value
            for key, value in states.items()
            if dict(key)["gateway"] == "t-kannel"
        }
        self.assertEqual(
            kannel_states, {"ok": 0.0, "failing": 0.0, "down": 1.0, "unknown": 0.0}
        )
        for name in (
            "sms_center_outgoing_sms",
            "sms_center_inbound_sms_to_route",
            "sms_center_inbound_oldest_to_route_seconds",
            "sms_center_tickets_open",
            "sms_center_tickets_overdue",
            "sms_center_reminders_failed_today",
            "sms_center_scheduled_action_seconds_since_last_run",
            "sms_center_scheduled_action_seconds_late",
            "sms_center_gateway_seconds_since_success",
        ):
            self.assertTrue(families[name]["samples"], name)
        # The JSON answer of the same state is a 503.
        self.assertEqual(self.get().status_code, 503)

    def test_parser_of_this_test_rejects_what_prometheus_rejects(self):
        bad = [
            "sms_center_x 1\n",  # no HELP / TYPE
            "# HELP a x\n# TYPE a gauge\na 1\na 2\n",  # duplicate series
            '# HELP a x\n# TYPE a gauge\na{b="1"} 1\na{b="1"} 2\n',
            "# HELP a x\n# TYPE a gauge\na one\n",  # not a number
            "# HELP a x\n# TYPE a gauge\na{b=1} 1\n",  # unquoted label value
            "# HELP a x\n# TYPE a gauge\na 1",  # no final newline
        ]
        for text in bad:
            with self.subTest(text=text), self.assertRaises(AssertionError):
                parse_exposition(text)
        family = prometheus.Family("a", "x").add(1, b="1")
        with self.assertRaises(ValueError):
            family.add(2, b="1")

    # ------------------------------------------------------------------
    # 200 / 503 switching
    # ------------------------------------------------------------------

    def test_stale_modem_switches_to_503_and_back(self):
        self.modem.last_success_at = self.now - timedelta(minutes=16)
        report = self.report(expect_status=503)
        self.assertEqual(report["status"], "alert")
        self.assertEqual(
            report["alerts"], [{"check": "gateway_stale", "gateway": "t-modem"}]
        )
        modem = next(g for g in report["gateways"] if g["code"] == "t-modem")
        self.assertEqual(modem["alert"], "gateway_stale")
        self.assertGreaterEqual(modem["seconds_since_success"], 16 * 60)
        # A Kannel gateway is contacted only when SMS flow: silence is no fault.
        self.kannel.last_success_at = self.now - timedelta(hours=8)
        self.assertEqual(self.checks(self.report()), {"gateway_stale"})
        self.modem._note_success()
        self.report(expect_status=200)

    def test_gateway_down_switches_to_503_and_back(self):
        self.kannel._note_error("connection refused")
        report = self.report(expect_status=200)  # failing, not down yet
        kannel = next(g for g in report["gateways"] if g["code"] == "t-kannel")
        self.assertEqual(kannel["state"], "failing")
        self.kannel.failing_since = self.now - timedelta(minutes=11)
        report = self.report(expect_status=503)
        self.assertEqual(
            report["alerts"], [{"check": "gateway_down", "gateway": "t-kannel"}]
        )
        self.kannel._note_success()
        self.report(expect_status=200)
        # An archived gateway is not watched.
        self.kannel.failing_since = self.now - timedelta(hours=1)
        self.kannel.active = False
        report = self.report(expect_status=200)
        self.assertNotIn("t-kannel", [g["code"] for g in report["gateways"]])

    def test_overdue_backlog_switches_to_503_and_back(self):
        before = self.report(expect_status=200)["tickets"]
        old = self.now - timedelta(hours=5)
        first = self.receive("TDINKES obat habis di puskesmas", received_at=old)
        report = self.report(expect_status=200)
        self.assertEqual(report["tickets"]["open"], before["open"] + 1)
        self.assertEqual(report["tickets"]["overdue"], before["overdue"] + 1)
        second = self.receive(
            "TJALAN jalan rusak", sender="085712345678", received_at=old
        )
        # A recent SMS is open, not overdue.
        self.receive("TJALAN lampu mati", sender="085712345679")
        report = self.report(expect_status=503)
        self.assertEqual(report["tickets"]["open"], before["open"] + 3)
        self.assertEqual(report["tickets"]["overdue"], before["overdue"] + 2)
        self.assertEqual(
            report["alerts"],
            [
                {
                    "check": "overdue_backlog",
                    "tickets": before["overdue"] + 2,
                    "threshold": before["overdue"] + 2,
                }
            ],
        )
        families = parse_exposition(self.prometheus())
        self.assertEqual(
            families["sms_center_tickets_overdue"]["samples"][()],
            before["overdue"] + 2,
        )
        self.assertEqual(families["sms_center_healthy"]["samples"][()], 0)
        # Answered: out of the backlog.
        second.ticket_id._sms_center_mark_answered()
        report = self.report(expect_status=200)
        self.assertEqual(report["tickets"]["overdue"], before["overdue"] + 1)
        self.assertTrue(first.ticket_id.sms_awaiting_answer)
        # 0: the backlog never alerts.
        self.receive("TJALAN jembatan putus", sender="085712345670", received_at=old)
        self.report(expect_status=503)
        self.ICP.set_param("sms_center.health_overdue_tickets", "0")
        self.report(expect_status=200)

    def test_waiting_outgoing_sms_switches_to_503(self):
        sms = self.env["sms.sms"].create(
            {"number": "+6281298765432", "body": "Jawaban", "state": "outgoing"}
        )
        report = self.report(expect_status=200)
        failed_before = report["outgoing_sms"]["failed"]
        self.assertEqual(report["outgoing_sms"]["queued"], 1)
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE sms_sms SET create_date = %s WHERE id = %s",
            [self.now - timedelta(minutes=31), sms.id],
        )
        report = self.report(expect_status=503)
        self.assertEqual(self.checks(report), {"outgoing_sms_waiting"})
        self.assertGreaterEqual(report["outgoing_sms"]["oldest_queued_seconds"], 1860)
        sms.write({"state": "error", "failure_type": "sms_server"})
        report = self.report(expect_status=200)
        self.assertEqual(report["outgoing_sms"]["failed"], failed_before + 1)
        self.assertEqual(report["outgoing_sms"]["queued"], 0)

    def test_inbound_sms_not_routed_are_counted_and_alert_when_old(self):
        message = self.env["sms_center.message"].create(
            {
                "sender": self.citizen,
                "text": "TDINKES belum disalurkan",
                "received_at": self.now - timedelta(minutes=5),
                "state": "to_route",
            }
        )
        self.assertEqual(
            self.env["sms_center.message"]._fields["state"].selection[0][0],
            "to_route",
        )
        report = self.report(expect_status=200)
        self.assertEqual(report["inbound_sms"]["to_route"], 1)
        self.assertGreaterEqual(report["inbound_sms"]["oldest_to_route_seconds"], 300)
        self.ICP.set_param("sms_center.health_wait_minutes", "4")
        report = self.report(expect_status=503)
        self.assertEqual(self.checks(report), {"inbound_sms_waiting"})
        message.state = "routed"
        report = self.report(expect_status=200)
        self.assertEqual(report["inbound_sms"]["to_route"], 0)

    def test_late_or_failing_scheduled_action_switches_to_503(self):
        cron = self.env.ref("sms_center.ir_cron_escalate_overdue")
        cron.nextcall = self.now - timedelta(minutes=31)
        report = self.report(expect_status=503)
        self.assertEqual(
            report["alerts"],
            [
                {
                    "check": "scheduled_action_late",
                    "scheduled_action": "sms_center.ir_cron_escalate_overdue",
                }
            ],
        )
        cron.nextcall = self.now + timedelta(minutes=5)
        self.report(expect_status=200)
        # A pending trigger that was not served counts as well.
        outbound = self.env.ref("sms_center.ir_cron_sms_center_outbound")
        self.env["ir.cron.trigger"].create(
            {"cron_id": outbound.id, "call_at": self.now - timedelta(hours=1)}
        )
        self.assertEqual(self.checks(self.report()), {"scheduled_action_late"})
        self.env["ir.cron.trigger"].search([("cron_id", "=", outbound.id)]).unlink()
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE ir_cron SET failure_count = 2 WHERE id = %s", [cron.id]
        )
        report = self.report(expect_status=503)
        self.assertEqual(self.checks(report), {"scheduled_action_failing"})
        action = next(
            a
            for a in report["scheduled_actions"]
            if a["id"] == cron.get_external_id()[cron.id]
        )
        self.assertEqual(action["consecutive_failures"], 2)
        # A deactivated scheduled action is reported, not judged.
        cron.active = False
        report = self.report(expect_status=200)
        action = next(
            a
            for a in report["scheduled_actions"]
            if a["id"] == cron.get_external_id()[cron.id]
        )
        self.assertFalse(action["active"])

    def test_reminders_failed_today(self):
        Reminder = self.env["sms_center.reminder"]
        yesterday = self.now - timedelta(days=2)
        for key, state, when in (
            ("h1", "failed", self.now),
            ("h2", "failed", self.now),
            ("h3", "sent", self.now),
            ("h4", "failed", yesterday),
        ):
            Reminder.create(
                {
                    "officer_id": self.officer_health.id,
                    "kind": "hourly",
                    "period_key": key,
                    "sms_state": state,
                    "sms_status_date": when,
                }
            )
        report = self.report(expect_status=200)
        self.assertEqual(report["reminders"]["failed_today"], 2)

    # ------------------------------------------------------------------
    # no personal data
    # ------------------------------------------------------------------

    def test_no_number_or_name_in_the_output(self):
        citizen = "081298760001"
        message = self.receive("TDINKES rahasia warga Ibu Sulastri", sender=citizen)
        self.assertTrue(message.ticket_id)
        message.ticket_id.partner_id.name = "Ibu Sulastri"
        self.env["sms.sms"].create(
            {"number": "+6281298760001", "body": "Jawaban untuk Ibu Sulastri"}
        )
        self.kannel._note_error("refused for +6281298760001")
        self.kannel.failing_since = self.now - timedelta(hours=1)
        answers = [self.get().text, self.prometheus()]
        forbidden = [
            citizen,
            "6281298760001",
            "81298760001",
            "Sulastri",
            "rahasia",
            "081234500011",
            "81234500022",
            "Sutrisno",
            "Telkomsel",
            self.user_health.name,
            self.user_roads.name,
            self.officer_health.notification_mobile,
            self.token,
        ]
        for text in answers:
            for value in forbidden:
                with self.subTest(value=value):
                    self.assertNotIn(value, text)
            # No phone number at all (Indonesian or E.164 form).
            self.assertIsNone(re.search(r"(\+?62|\b0)8\d{7,}", text), text)
        report = json.loads(answers[0])
        self.assertEqual(
            set(report["gateways"][0]),
            {
                "code",
                "type",
                "state",
                "seconds_since_success",
                "seconds_failing",
                "queued_sms",
                "alert",
            },
        )
