from odoo import api, fields, models
from odoo.exceptions import AccessError


class SmsCenterOverview(models.AbstractModel):
    """Figures of the secretariat's first screen (client action
    ``sms_center.overview``): the work across units, each figure one tap
    from its list."""

    _name = "sms_center.overview"
    _description = "SMS Center Overview"

    @api.model
    def _window(self, xmlid, name, domain, context=None):
        action = self.env["ir.actions.act_window"]._for_xml_id(xmlid)
        action.update(name=name, domain=domain, context=context or {})
        return action

    @api.model
    def get_overview(self):
        """Tiles and the table by unit, with the action behind each figure."""
        user = self.env.user
        if not user.has_group("sms_center.group_secretariat"):
            raise AccessError(
                self.env._("The overview is for the secretariat and administrators.")
            )
        Ticket = self.env["helpdesk.ticket"]
        Message = self.env["sms_center.message"]
        now = fields.Datetime.now()
        sms = [("sms_keyword_id", "!=", False)]
        to_answer = sms + [("sms_awaiting_answer", "=", True)]
        overdue = to_answer + [("sms_deadline", "<=", now)]
        failed = sms + [
            ("sms_needs_action", "=", True),
            ("sms_answer_status", "=", "failed"),
        ]
        waiting = sms + [("sms_answer_status", "=", "waiting")]
        unknown = [("state", "=", "unknown"), ("moderation_state", "=", "ok")]
        to_moderate = [("state", "=", "rejected"), ("moderation_state", "=", "ok")]
        tickets = "sms_center.action_sms_ticket_all"
        messages = "sms_center.action_sms_center_message"
        tiles = [
            {
                "key": "to_answer",
                "label": self.env._("To answer"),
                "help": self.env._("SMS of every unit waiting for an answer"),
                "count": Ticket.search_count(to_answer),
                "style": "primary",
                "action": self._window(tickets, self.env._("To answer"), to_answer),
            },
            {
                "key": "overdue",
                "label": self.env._("Past the deadline"),
                "help": self.env._("Still unanswered after the answer deadline"),
                "count": Ticket.search_count(overdue),
                "style": "danger",
                "action": self._window(
                    tickets, self.env._("Past the deadline"), overdue
                ),
            },
            {
                "key": "failed",
                "label": self.env._("Answers not delivered"),
                "help": self.env._("The officer has to resend them"),
                "count": Ticket.search_count(failed),
                "style": "danger",
                "action": self._window(
                    tickets, self.env._("Answers not delivered"), failed
                ),
            },
            {
                "key": "unknown",
                "label": self.env._("Unknown keywords"),
                "help": self.env._("Route them to a unit, or moderate them"),
                "count": Message.search_count(unknown),
                "style": "warning",
                "action": self._window(
                    messages,
                    self.env._("Unknown keywords"),
                    unknown,
                ),
            },
            {
                "key": "to_moderate",
                "label": self.env._("To moderate"),
                "help": self.env._(
                    "SMS from senders that cannot get an answer (operators, "
                    "short codes): mark them spam or not substantive"
                ),
                "count": Message.search_count(to_moderate),
                "style": "warning",
                "action": self._window(
                    messages, self.env._("To moderate"), to_moderate
                ),
            },
            {
                "key": "waiting",
                "label": self.env._("Waiting for a gateway"),
                "help": self.env._("Answers no active gateway can send"),
                "count": Ticket.search_count(waiting),
                "style": "warning",
                "action": self._window(
                    tickets, self.env._("Waiting for a gateway"), waiting
                ),
            },
        ]
        return {
            "tiles": tiles,
            "units": self._units(to_answer, overdue, failed),
            "gateways": self._gateways()
            if user.has_group("sms_center.group_admin")
            else False,
        }

    @api.model
    def _units(self, to_answer, overdue, failed):
        """One row per unit with open work: figures and their lists."""
        Ticket = self.env["helpdesk.ticket"]
        columns = {
            "to_answer": (to_answer, self.env._("To answer")),
            "overdue": (overdue, self.env._("Past the deadline")),
            "failed": (failed, self.env._("Answers not delivered")),
        }
        counts = {
            key: dict(Ticket._read_group(domain, ["team_id"], ["__count"]))
            for key, (domain, _label) in columns.items()
        }
        teams = set()
        for by_team in counts.values():
            teams |= {team for team in by_team if team}
        rows = []
        for team in sorted(teams, key=lambda t: (-counts["overdue"].get(t, 0), t.name)):
            row = {"id": team.id, "name": team.name, "cells": []}
            for key, (domain, label) in columns.items():
                count = counts[key].get(team, 0)
                row["cells"].append(
                    {
                        "key": key,
                        "count": count,
                        "action": count
                        and self._window(
                            "sms_center.action_sms_ticket_all",
                            f"{team.name}: {label}",
                            domain + [("team_id", "=", team.id)],
                        ),
                    }
                )
            rows.append(row)
        return {
            "columns": [
                {"key": key, "label": label} for key, (_d, label) in columns.items()
            ],
            "rows": rows,
        }

    @api.model
    def _gateways(self):
        """Administrators: gateways that do not work, SMS waiting for one."""
        Gateway = self.env["sms_center.gateway"]
        gateways = Gateway.search([])
        broken = gateways.filtered(lambda g: g.health_state in ("failing", "down"))
        # sudo: the queue is system-only; only a count leaves this method.
        waiting = (
            self.env["sms.sms"]
            .sudo()
            .search_count(
                [("state", "=", "outgoing"), ("sms_center_waiting", "=", True)]
            )
        )
        alerts = []
        if not gateways.filtered("outbound_enabled"):
            alerts.append(self.env._("No active gateway sends SMS."))
        alerts += [
            self.env._("%(gateway)s does not work.", gateway=gateway.name)
            for gateway in broken
        ]
        if waiting:
            alerts.append(
                self.env._("%(count)s SMS wait for a gateway.", count=waiting)
            )
        return {
            "alerts": alerts,
            "action": self.env["ir.actions.act_window"]._for_xml_id(
                "sms_center.action_sms_center_gateway"
            ),
        }
