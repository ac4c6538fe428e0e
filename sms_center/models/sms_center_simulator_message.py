import random

import phonenumbers

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from ..lib import phone

# Conversation shown on the simulator screen: the latest SMS of a number.
CONVERSATION_LIMIT = 200


class SmsCenterSimulatorMessage(models.Model):
    """One SMS on a phone of the simulator: typed on the simulator screen as
    a citizen, or sent to the test number by the center (automatic replies,
    receipts, answers, reminders) through a simulator gateway (R19)."""

    _name = "sms_center.simulator.message"
    _description = "SMS Simulator Message"
    _order = "id"

    gateway_id = fields.Many2one(
        "sms_center.gateway",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
    )
    number = fields.Char(string="Test number", required=True, readonly=True, index=True)
    direction = fields.Selection(
        [("in", "Sent by the test phone"), ("out", "Received by the test phone")],
        required=True,
        readonly=True,
    )
    body = fields.Text(string="Text", readonly=True)
    sender_id = fields.Char(string="Sender ID", readonly=True)
    message_id = fields.Many2one(
        "sms_center.message",
        string="Inbound SMS",
        readonly=True,
        ondelete="set null",
        help="What the center made of an SMS sent by the test phone.",
    )
    sms_uuid = fields.Char(string="SMS UUID", readonly=True, index="btree_not_null")
    origin = fields.Selection(
        [
            ("answer", "Answer"),
            ("auto_reply", "Automatic reply"),
            ("receipt", "Receipt"),
            ("status", "Status (CEK)"),
            ("info", "Service information (INFO)"),
            ("reminder", "Reminder"),
            ("test", "Test SMS"),
        ],
        readonly=True,
    )
    state = fields.Selection(
        [("sent", "Sent"), ("delivered", "Delivered"), ("failed", "Not delivered")],
        readonly=True,
    )
    failure_reason = fields.Char(readonly=True)

    @api.model
    def _origin_of(self, sms):
        """Origin of an outgoing ``sms.sms``, from the record it was posted on."""
        post = sms.mail_message_id
        if post.model == "sms_center.message":
            # sudo: the simulator's phones are written by the queue worker.
            message = self.env["sms_center.message"].sudo().browse(post.res_id)
            return {
                "receipt": "receipt",
                "status": "status",
                "info": "info",
            }.get(message.exists().auto_reply_kind, "auto_reply")
        return {
            "helpdesk.ticket": "answer",
            "sms_center.reminder": "reminder",
            "sms_center.gateway": "test",
        }.get(post.model, False)

    # ------------------------------------------------------------------
    # The simulator screen (client action sms_center.simulator)
    # ------------------------------------------------------------------

    @api.model
    def _check_simulator_access(self):
        if not self.env.user.has_group("sms_center.group_secretariat"):
            raise AccessError(
                self.env._(
                    "Only the secretariat and the administrators use the simulator."
                )
            )

    @api.model
    def _simulator_gateways(self):
        # sudo: the secretariat reads gateways' names and test numbers only.
        return (
            self.env["sms_center.gateway"]
            .sudo()
            .search([("gateway_type", "=", "simulator"), ("active", "=", True)])
        )

    @api.model
    def _simulator_gateway(self, gateway_id):
        gateways = self._simulator_gateways()
        return gateways.filtered(lambda g: g.id == gateway_id)[:1] or gateways[:1]

    @api.model
    def _format_number(self, e164):
        try:
            parsed = phonenumbers.parse(e164, phone.DEFAULT_REGION)
        except phonenumbers.NumberParseException:
            return e164
        return phonenumbers.format_number(
            parsed, phonenumbers.PhoneNumberFormat.NATIONAL
        )

    @api.model
    def _simulator_numbers(self, gateway):
        """Test numbers to pick from: the listed ones, then the other test
        numbers used lately (a simulator that takes every number also
        delivers to citizens' numbers: those are not test phones)."""
        listed = sorted(phone.NumberList.parse(gateway.simulator_numbers).numbers)
        used = [
            number
            for number, _last_id in self._read_group(
                [("gateway_id", "=", gateway.id), ("direction", "=", "in")],
                ["number"],
                ["id:max"],
                order="id:max desc",
                limit=20,
            )
            if gateway._simulator_takes(number)
        ]
        numbers = list(dict.fromkeys(listed + used))
        return [{"number": n, "label": self._format_number(n)} for n in numbers]

    def _simulator_routing(self):
        """What the center made of this inbound SMS, for the screen."""
        self.ensure_one()
        # sudo: the secretariat reads every inbound SMS; the simulator shows
        # the routing fields only.
        message = self.message_id.sudo()
        if not message:
            return False
        states = dict(message._fields["state"]._description_selection(self.env))
        notes = []
        if message.keyword_id:
            notes.append(
                " · ".join(
                    filter(None, [message.keyword_id.name, message.team_id.name])
                )
            )
        if message.state_reason:
            notes.append(message.state_reason)
        if message.auto_reply_skipped:
            notes.append(
                self.env._(
                    "No automatic reply: %(reason)s", reason=message.auto_reply_skipped
                )
            )
        ticket = message.ticket_id
        return {
            "state": message.state or False,
            "label": states.get(message.state, ""),
            "notes": notes,
            "ticket_id": ticket.id or False,
            "ticket_name": ticket.number or False,
        }

    def _simulator_row(self, origins, states):
        self.ensure_one()
        return {
            "id": self.id,
            "direction": self.direction,
            "body": self.body or "",
            "date": fields.Datetime.to_string(self.create_date),
            "sender": self.sender_id or False,
            "origin": origins.get(self.origin, ""),
            "state": self.state or False,
            "state_label": states.get(self.state, ""),
            "failure_reason": self.failure_reason or False,
            "routing": self.direction == "in" and self._simulator_routing(),
        }

    @api.model
    def simulator_load(self, gateway_id=False, number=False):
        """Everything the simulator screen shows; delivers what the
        simulator's queue holds first."""
        self._check_simulator_access()
        gateway = self._simulator_gateway(gateway_id)
        result = {
            "gateways": [
                {"id": g.id, "name": g.name} for g in self._simulator_gateways()
            ],
            "gateway_id": gateway.id or False,
            "can_configure": self.env.user.has_group("sms_center.group_admin"),
            "numbers": [],
            "number": False,
            "number_label": False,
            "number_is_test": False,
            "center_number": False,
            "conversation": [],
            "ticket_view_id": self.env.ref("sms_center.view_ticket_sms_form").id,
        }
        if not gateway:
            return result
        gateway._simulator_flush()
        numbers = self._simulator_numbers(gateway)
        number = phone.to_e164(number) if number else False
        if not number and numbers:
            number = numbers[0]["number"]
        center = phone.to_e164((gateway.receiving_numbers or "").split(",")[0])
        result.update(
            numbers=numbers,
            number=number,
            number_label=number and self._format_number(number),
            number_is_test=bool(number and gateway._simulator_takes(number)),
            center_number=center and self._format_number(center),
        )
        if number:
            rows = self.search(
                [("gateway_id", "=", gateway.id), ("number", "=", number)],
                order="id desc",
                limit=CONVERSATION_LIMIT,
            )
            origins = dict(self._fields["origin"]._description_selection(self.env))
            states = dict(self._fields["state"]._description_selection(self.env))
            result["conversation"] = [
                row._simulator_row(origins, states) for row in rows.sorted("id")
            ]
        return result

    @api.model
    def simulator_send(self, gateway_id, number, text):
        """The test phone ``number`` sends ``text`` to the center."""
        self._check_simulator_access()
        gateway = self._simulator_gateway(gateway_id)
        if not gateway:
            raise UserError(self.env._("No active simulator gateway."))
        e164 = phone.to_e164(number)
        if not e164 or not gateway._simulator_takes(e164):
            raise UserError(
                self.env._(
                    "%(number)s is not a test number of the simulator %(gateway)s. "
                    "Pick one of its test numbers (an administrator adds more on "
                    "the gateway): simulated SMS never reach real phones.",
                    number=number or "-",
                    gateway=gateway.name,
                )
            )
        if not (text or "").strip():
            raise UserError(self.env._("Type the SMS first."))
        log = self.create(
            {
                "gateway_id": gateway.id,
                "number": e164,
                "direction": "in",
                "body": text,
            }
        )
        # sudo: store() is the gateways' entry point; the secretariat
        # injects an SMS as the simulator gateway would: stored, then routed
        # by the inbound router's code, here at once so that the screen
        # shows the result (a routing failure stays on the SMS, retried).
        message = (
            self.env["sms_center.message"]
            .sudo()
            .store(
                e164,
                text,
                recipient=gateway.receiving_numbers,
                gateway=gateway,
                gateway_message_id=f"sim-{log.id}",
            )
        )
        message.route_stored()
        log.sudo().message_id = message
        return self.simulator_load(gateway.id, e164)

    @api.model
    def simulator_new_number(self, gateway_id):
        """A test number not used yet, from the simulator's number blocks."""
        self._check_simulator_access()
        gateway = self._simulator_gateway(gateway_id)
        numbers = phone.NumberList.parse(gateway.simulator_numbers)
        used = set(
            self.search([("gateway_id", "=", gateway.id)]).mapped("number")
        ) | set(numbers.numbers)
        for prefix in numbers.prefixes:
            # +62 8xx xxxx xxxx: 14 characters in E.164.
            width = max(0, 14 - len(prefix))
            for _attempt in range(50):
                candidate = prefix + "".join(
                    random.choice("0123456789") for _ in range(width)
                )
                if candidate not in used and phone.to_e164(candidate) == candidate:
                    return candidate
        unused = sorted(numbers.numbers - used)
        return unused[0] if unused else False

    @api.model
    def simulator_clear(self, gateway_id, number):
        """Forget the simulated phone's conversation (its tickets stay)."""
        self._check_simulator_access()
        gateway = self._simulator_gateway(gateway_id)
        self.search(
            [("gateway_id", "=", gateway.id), ("number", "=", phone.to_e164(number))]
        ).unlink()
        return self.simulator_load(gateway.id, number)
