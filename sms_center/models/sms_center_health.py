"""What the monitoring endpoint reports (R14, R19).

``GET /sms_center/health`` (controllers/health.py) answers with
:meth:`SmsCenterHealth._health_report`: the state of each active gateway,
the outgoing queue, inbound SMS not yet routed, the SMS backlog, failed
reminders and the SMS Center's scheduled actions, plus the alert conditions
that hold. It reports figures and technical codes only: no phone number,
no SMS text, no person's or gateway's name.

Every figure comes from a query that reads an index of the live rows
(partial indexes on the backlog, the queues, the failed reminders), never
the history: the endpoint stays cheap with millions of tickets (see
``benchmarks/bench_health.py``, which prints the plans of these queries).
"""

from datetime import datetime, time, timedelta

from odoo import api, fields, models

from ..lib import prometheus
from ..tools.deadline import regency_tz, to_local, to_utc_naive

# Alert conditions, in the order they are reported.
CHECKS = (
    "gateway_down",
    "gateway_stale",
    "outgoing_sms_waiting",
    "inbound_sms_waiting",
    "overdue_backlog",
    "scheduled_action_late",
    "scheduled_action_failing",
)
GATEWAY_STATES = ("ok", "failing", "down", "unknown")
# A modem is polled every minute: without a success for its alert delay (at
# least this), its poller is stopped or cannot reach it.
MODEM_STALE_MINIMUM = timedelta(minutes=5)
# The gateway types the center contacts by itself at short intervals, so that
# a long silence is a fault. The others (Kannel, HTTP APIs) are contacted
# only when SMS flow: their silence is reported, not judged.
POLLED_GATEWAY_TYPES = ("gammu",)

# The queries of the report, by name; ``benchmarks/bench_health.py``
# EXPLAINs them. Parameters: now, day_start (UTC, naive).
QUERIES = {
    "gateways": """
        SELECT id, code, gateway_type, last_success_at, failing_since,
               alert_after_minutes
          FROM sms_center_gateway
         WHERE active
         ORDER BY sequence, id""",
    "outgoing_queued": """
        SELECT sms_center_gateway_id, count(*), min(create_date)
          FROM sms_sms
         WHERE state IN ('outgoing', 'process')
           AND NOT COALESCE(to_delete, FALSE)
         GROUP BY sms_center_gateway_id""",
    "outgoing_failed": """
        SELECT count(*)
          FROM sms_sms
         WHERE state = 'error' AND NOT COALESCE(to_delete, FALSE)""",
    "inbound_to_route": """
        SELECT count(*), min(received_at)
          FROM sms_center_message
         WHERE state = 'to_route'""",
    "tickets": """
        SELECT count(*), count(*) FILTER (WHERE sms_deadline <= %(now)s)
          FROM helpdesk_ticket
         WHERE sms_awaiting_answer""",
    "reminders_failed_today": """
        SELECT count(*)
          FROM sms_center_reminder
         WHERE sms_state = 'failed' AND sms_status_date >= %(day_start)s""",
    "scheduled_actions": """
        SELECT d.module || '.' || d.name, c.active, c.lastcall, c.nextcall,
               c.failure_count,
               (SELECT min(t.call_at) FROM ir_cron_trigger t
                 WHERE t.cron_id = c.id)
          FROM ir_model_data d
          JOIN ir_cron c ON c.id = d.res_id
         WHERE d.module = 'sms_center' AND d.model = 'ir.cron'
         ORDER BY d.name""",
}


def _seconds(delta):
    return max(0, int(delta.total_seconds()))


class SmsCenterHealth(models.AbstractModel):
    """The health report of the SMS Center, for monitoring tools."""

    _name = "sms_center.health"
    _description = "SMS Center health report"

    @api.model
    def _health_query_params(self, now=None):
        now = now or fields.Datetime.now()
        tz = regency_tz(self.env)
        local_day = to_local(now, tz).date()
        day_start = to_utc_naive(tz.localize(datetime.combine(local_day, time.min)))
        return {"now": now, "day_start": day_start}

    @api.model
    def _health_fetch(self, name, params):
        self.env.cr.execute(QUERIES[name], params)
        return self.env.cr.fetchall()

    @api.model
    def _health_report(self, now=None):
        """The report as a dict (the JSON answer of the endpoint)."""
        params = self._health_query_params(now)
        now = params["now"]
        settings = self.env["sms_center.settings"]
        wait = timedelta(minutes=settings._sms_center_setting("health_wait_minutes"))
        overdue_limit = settings._sms_center_setting("health_overdue_tickets")
        late = timedelta(
            minutes=settings._sms_center_setting("health_cron_late_minutes")
        )
        alerts = []

        def age(moment):
            return _seconds(now - moment) if moment else None

        # --- outgoing SMS (Odoo's queue, sms.sms) ---
        queued = 0
        oldest_queued = None
        queued_by_gateway = {}
        for gateway_id, count, oldest in self._health_fetch("outgoing_queued", params):
            queued += count
            queued_by_gateway[gateway_id] = count
            oldest_queued = min(filter(None, (oldest_queued, oldest)), default=None)
        ((failed,),) = self._health_fetch("outgoing_failed", params)

        # --- gateways ---
        gateways = []
        for (
            _gateway_id,
            code,
            gateway_type,
            last_success_at,
            failing_since,
            alert_after_minutes,
        ) in self._health_fetch("gateways", params):
            alert_after = timedelta(minutes=alert_after_minutes or 0)
            # Same rule as the gateway's health_state on its form.
            if failing_since:
                state = "down" if now - failing_since >= alert_after else "failing"
            elif last_success_at:
                state = "ok"
            else:
                state = "unknown"
            alert = None
            if state == "down":
                alert = "gateway_down"
            elif (
                gateway_type in POLLED_GATEWAY_TYPES
                and last_success_at
                and now - last_success_at > max(alert_after, MODEM_STALE_MINIMUM)
            ):
                alert = "gateway_stale"
            if alert:
                alerts.append({"check": alert, "gateway": code})
            gateways.append(
                {
                    "code": code,
                    "type": gateway_type,
                    "state": state,
                    "seconds_since_success": age(last_success_at),
                    "seconds_failing": age(failing_since),
                    "queued_sms": queued_by_gateway.get(_gateway_id, 0),
                    "alert": alert,
                }
            )

        oldest_queued_seconds = age(oldest_queued)
        if wait and oldest_queued and now - oldest_queued > wait:
            alerts.append(
                {
                    "check": "outgoing_sms_waiting",
                    "seconds": oldest_queued_seconds,
                    "threshold_seconds": _seconds(wait),
                }
            )

        # --- inbound SMS stored but not routed yet ---
        ((to_route, oldest_to_route),) = self._health_fetch("inbound_to_route", params)
        oldest_to_route_seconds = age(oldest_to_route)
        if wait and oldest_to_route and now - oldest_to_route > wait:
            alerts.append(
                {
                    "check": "inbound_sms_waiting",
                    "seconds": oldest_to_route_seconds,
                    "threshold_seconds": _seconds(wait),
                }
            )

        # --- the SMS backlog ---
        ((tickets_open, tickets_overdue),) = self._health_fetch("tickets", params)
        if overdue_limit and tickets_overdue >= overdue_limit:
            alerts.append(
                {
                    "check": "overdue_backlog",
                    "tickets": tickets_overdue,
                    "threshold": overdue_limit,
                }
            )
        ((reminders_failed,),) = self._health_fetch("reminders_failed_today", params)

        # --- scheduled actions ---
        actions = []
        for (
            xmlid,
            active,
            lastcall,
            nextcall,
            failures,
            trigger_at,
        ) in self._health_fetch("scheduled_actions", params):
            due = min(filter(None, (nextcall, trigger_at)), default=None)
            seconds_late = age(due) if due and due < now else 0
            alert = None
            if active and failures:
                alert = "scheduled_action_failing"
            elif active and late and due and now - due > late:
                alert = "scheduled_action_late"
            if alert:
                alerts.append({"check": alert, "scheduled_action": xmlid})
            actions.append(
                {
                    "id": xmlid,
                    "active": bool(active),
                    "seconds_since_last_run": age(lastcall),
                    "seconds_late": seconds_late if active else 0,
                    "consecutive_failures": failures or 0,
                    "alert": alert,
                }
            )

        alerts.sort(key=lambda alert: CHECKS.index(alert["check"]))
        return {
            "status": "alert" if alerts else "ok",
            "alerts": alerts,
            "checked_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "gateways": gateways,
            "outgoing_sms": {
                "queued": queued,
                "failed": failed,
                "oldest_queued_seconds": oldest_queued_seconds,
            },
            "inbound_sms": {
                "to_route": to_route,
                "oldest_to_route_seconds": oldest_to_route_seconds,
            },
            "tickets": {"open": tickets_open, "overdue": tickets_overdue},
            "reminders": {"failed_today": reminders_failed},
            "scheduled_actions": actions,
            "thresholds": {
                "sms_wait_seconds": _seconds(wait),
                "overdue_tickets": overdue_limit,
                "scheduled_action_late_seconds": _seconds(late),
            },
        }

    @api.model
    def _health_prometheus(self, report):
        """The report in the Prometheus text exposition format."""
        Family = prometheus.Family
        firing = {alert["check"] for alert in report["alerts"]}
        healthy = Family(
            "sms_center_healthy",
            "1 when no alert condition holds (the JSON endpoint answers 200), "
            "0 otherwise (503).",
        ).add(not report["alerts"])
        alert = Family(
            "sms_center_alert", "1 when the alert condition holds, per condition."
        )
        for check in CHECKS:
            alert.add(check in firing, check=check)

        gateway_state = Family(
            "sms_center_gateway_state",
            "Health state of each active gateway: 1 for its current state.",
        )
        gateway_age = Family(
            "sms_center_gateway_seconds_since_success",
            "Seconds since the gateway's last successful contact (absent: never).",
        )
        gateway_queued = Family(
            "sms_center_gateway_queued_sms", "Outgoing SMS queued for the gateway."
        )
        gateway_alert = Family(
            "sms_center_gateway_alert", "1 when the gateway is down or stale."
        )
        for gateway in report["gateways"]:
            labels = {"gateway": gateway["code"]}
            for state in GATEWAY_STATES:
                gateway_state.add(
                    gateway["state"] == state,
                    type=gateway["type"],
                    state=state,
                    **labels,
                )
            if gateway["seconds_since_success"] is not None:
                gateway_age.add(gateway["seconds_since_success"], **labels)
            gateway_queued.add(gateway["queued_sms"], **labels)
            gateway_alert.add(bool(gateway["alert"]), **labels)

        outgoing = report["outgoing_sms"]
        inbound = report["inbound_sms"]
        families = [
            healthy,
            alert,
            gateway_state,
            gateway_age,
            gateway_queued,
            gateway_alert,
            Family(
                "sms_center_outgoing_sms",
                "Outgoing SMS queued (in the queue or being handed over) and "
                "failed (waiting for a resend or a cancel).",
            )
            .add(outgoing["queued"], state="queued")
            .add(outgoing["failed"], state="failed"),
            Family(
                "sms_center_outgoing_oldest_queued_seconds",
                "Age of the oldest queued outgoing SMS (0: queue empty).",
            ).add(outgoing["oldest_queued_seconds"] or 0),
            Family(
                "sms_center_inbound_sms_to_route",
                "Inbound SMS stored but not routed yet.",
            ).add(inbound["to_route"]),
            Family(
                "sms_center_inbound_oldest_to_route_seconds",
                "Age of the oldest inbound SMS not routed yet (0: none).",
            ).add(inbound["oldest_to_route_seconds"] or 0),
            Family("sms_center_tickets_open", "SMS tickets awaiting an answer.").add(
                report["tickets"]["open"]
            ),
            Family(
                "sms_center_tickets_overdue",
                "SMS tickets past their answer deadline, unanswered.",
            ).add(report["tickets"]["overdue"]),
            Family(
                "sms_center_reminders_failed_today",
                "Reminder and escalation SMS to officers that failed today "
                "(regency time zone).",
            ).add(report["reminders"]["failed_today"]),
        ]
        action_active = Family(
            "sms_center_scheduled_action_active",
            "1 when the SMS Center scheduled action is active.",
        )
        action_age = Family(
            "sms_center_scheduled_action_seconds_since_last_run",
            "Seconds since the scheduled action last ran (absent: never).",
        )
        action_late = Family(
            "sms_center_scheduled_action_seconds_late",
            "Seconds the active scheduled action is overdue (0: on time).",
        )
        action_failures = Family(
            "sms_center_scheduled_action_consecutive_failures",
            "Consecutive failed runs of the scheduled action.",
        )
        for action in report["scheduled_actions"]:
            labels = {"action": action["id"]}
            action_active.add(action["active"], **labels)
            if action["seconds_since_last_run"] is not None:
                action_age.add(action["seconds_since_last_run"], **labels)
            action_late.add(action["seconds_late"], **labels)
            action_failures.add(action["consecutive_failures"], **labels)
        families += [action_active, action_age, action_late, action_failures]
        return prometheus.render(families)
