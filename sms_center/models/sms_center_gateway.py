import dataclasses
import hmac
import json
import logging
import re
import secrets
import threading
from datetime import timedelta

import requests

from odoo import api, fields, models, tools
from odoo.exceptions import UserError, ValidationError
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY

from ..lib import dlr as dlr_lib
from ..lib import http_gateway, http_transport, kannel, phone
from ..tools.mail import author_email_from

_logger = logging.getLogger(__name__)

# Keep-alive HTTP sessions per gateway and worker process: a burst of
# thousands of SMS reuses a few connections instead of one per SMS.
_SESSIONS = {}
_SESSIONS_LOCK = threading.Lock()
# Health fields written by workers and webhooks: they must not reset the
# keep-alive sessions, and a success is recorded at most this often (every
# webhook call and worker round reports one; see _note_success).
HEALTH_FIELDS = frozenset(
    {
        "last_success_at",
        "last_error",
        "last_error_at",
        "failing_since",
        "signal_percent",
        "battery_percent",
        "network_name",
        "alert_sent_at",
    }
)
HEALTH_SUCCESS_INTERVAL = timedelta(seconds=60)
# Changing these decides anew which gateway sends to which number: SMS
# waiting for a gateway are routed again.
ROUTING_FIELDS = frozenset(
    {
        "active",
        "outbound_enabled",
        "outbound_prefixes",
        "gateway_type",
        "sequence",
        "simulator_numbers",
        "simulator_all_numbers",
    }
)
# Transport errors quote the URL they called, and its query string holds
# Kannel's sendsms or status password, the citizen's number and the text:
# it is cut from every error stored (failure reasons reach officers, R5).
# Gateways' own error texts may quote the number too ("invalid destination
# +62812..."): it is masked (UU 27/2022, data minimisation).
_URL_QUERY = re.compile(r"(?<=[\w/.~-])\?(?=[\w.~%-]+=)[^\s'\"()<>]*")


def _redact(text):
    """``text`` without the query strings of the URLs it quotes, and with
    the phone numbers it quotes masked."""
    return phone.mask_any_number_in_text(_URL_QUERY.sub("?…", text or ""))


class SmsCenterGateway(models.Model):
    """A way SMS enter and leave the center (modem, Kannel, HTTP API)."""

    _name = "sms_center.gateway"
    _description = "SMS Center Gateway"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "sequence, id"

    name = fields.Char(required=True, tracking=True)
    code = fields.Char(
        required=True,
        copy=False,
        tracking=True,
        help="Short technical name used in webhook addresses and logs, e.g. kannel1.",
    )
    active = fields.Boolean(default=True, tracking=True)
    sequence = fields.Integer(
        default=10, help="Priority: the first matching gateway sends an SMS."
    )
    gateway_type = fields.Selection(
        [
            ("gammu", "GSM modem (Gammu)"),
            ("kannel", "Kannel"),
            ("http", "Generic HTTP gateway"),
            ("gammu_smsd", "gammu-smsd (receive script)"),
            ("simulator", "Simulator (SMS stay in Odoo)"),
        ],
        string="Type",
        required=True,
        default="kannel",
        tracking=True,
    )
    receiving_numbers = fields.Char(
        string="Receiving numbers",
        help="Comma-separated numbers of this gateway's SIM cards or virtual "
        "numbers. The center never auto-replies to them.",
    )
    default_sender_id = fields.Char(
        string="Default sender ID",
        help="Alphanumeric sender ID used when the keyword and officer have none. "
        "Modems always send from their SIM number.",
    )
    webhook_token = fields.Char(
        copy=False,
        groups="sms_center.group_admin",
        default=lambda self: secrets.token_urlsafe(32),
        help="Secret that inbound and delivery-report webhooks must present.",
    )
    inbound_url = fields.Char(
        string="Inbound URL",
        compute="_compute_webhook_urls",
        groups="sms_center.group_admin",
    )
    dlr_url = fields.Char(
        string="Delivery report URL",
        compute="_compute_webhook_urls",
        groups="sms_center.group_admin",
    )
    # --- outbound routing and retries ---
    outbound_enabled = fields.Boolean(string="Sends SMS", default=True, tracking=True)
    outbound_prefixes = fields.Char(
        string="Only for numbers starting with",
        help="Comma-separated E.164 prefixes, e.g. +62811,+62812,+62813. Empty: "
        "any number (default gateway).",
    )
    max_attempts = fields.Integer(
        string="Maximum attempts",
        default=5,
        help="Attempts for temporary failures before the SMS fails.",
    )
    retry_delay_seconds = fields.Integer(
        string="First retry after (seconds)",
        default=60,
        help="First retry delay; doubled at each attempt (back-off).",
    )
    batch_size = fields.Integer(
        string="Batch size", default=200, help="SMS handed over per worker round."
    )
    # --- Kannel ---
    kannel_sendsms_url = fields.Char(
        string="sendsms URL",
        default="http://127.0.0.1:13013/cgi-bin/sendsms",
    )
    kannel_username = fields.Char(string="sendsms user")
    kannel_password = fields.Char(
        string="sendsms password", groups="sms_center.group_admin"
    )
    kannel_dlr_mask = fields.Integer(
        string="DLR mask",
        default=31,
        help="Kannel dlr-mask: 1 delivered + 2 failed + 4 buffered + 8 SMSC "
        "accepted + 16 SMSC rejected.",
    )
    kannel_admin_url = fields.Char(
        string="Status URL",
        help="bearerbox admin address for health checks, e.g. http://127.0.0.1:13000",
    )
    kannel_admin_password = fields.Char(
        string="Status password", groups="sms_center.group_admin"
    )
    # --- generic HTTP ---
    http_preset = fields.Selection(
        [("custom", "Custom"), ("jasmin", "Jasmin"), ("twilio", "Twilio-style API")],
        string="Preset",
        default="custom",
    )
    http_url = fields.Char(string="Send URL")
    http_auth_user = fields.Char(string="User / account")
    http_auth_secret = fields.Char(
        string="Password / token", groups="sms_center.group_admin"
    )
    http_config = fields.Text(
        string="Advanced settings (JSON)",
        groups="sms_center.group_admin",
        help="Settings merged over the preset: method, auth_type, body_type, "
        "body_template, success rules, message id extraction, inbound_fields, "
        "dlr_fields, dlr_status_map, ack_body, signature... See the README.",
    )
    # --- GSM modem (Gammu) ---
    gammu_device = fields.Char(string="Device", help="e.g. /dev/ttyUSB0")
    gammu_connection = fields.Char(string="Connection", default="at")
    gammu_model = fields.Char(string="Model", help="Usually empty; 'dummy' in tests.")
    gammu_smsc = fields.Char(string="SMSC number", help="Empty: read from the SIM.")
    gammu_multipart_timeout = fields.Integer(
        string="Wait for missing parts (minutes)",
        default=10,
        help="Parts of a long SMS that do not all arrive within this time are "
        "delivered as they are.",
    )
    # --- simulator: SMS that never leave Odoo (training, demos, tests) ---
    simulator_numbers = fields.Text(
        string="Test numbers",
        help="Numbers of the simulated phones, separated by commas or new lines; "
        "an entry ending with * stands for every number starting with it, e.g. "
        "0812-9999-0001, 08129999*. SMS to these numbers only ever go to this "
        "simulator, never to a real gateway, even while it is archived.",
    )
    simulator_failing_numbers = fields.Text(
        string="Numbers that fail",
        help="SMS to these numbers are reported as not delivered, to train "
        "officers in spotting and resending failed answers. Same form as the "
        "test numbers.",
    )
    simulator_all_numbers = fields.Boolean(
        string="Takes every other number",
        help="Training or demonstration database: the simulator also sends to "
        "every number no other gateway takes, so that no SMS ever leaves Odoo. "
        "Never in production.",
    )
    # --- health (R14) ---
    last_success_at = fields.Datetime(string="Last successful contact", readonly=True)
    last_error = fields.Char(readonly=True)
    last_error_at = fields.Datetime(readonly=True)
    failing_since = fields.Datetime(readonly=True)
    signal_percent = fields.Integer(string="Signal (%)", readonly=True)
    battery_percent = fields.Integer(string="Battery (%)", readonly=True)
    network_name = fields.Char(string="Network", readonly=True)
    alert_after_minutes = fields.Integer(
        string="Alert after (minutes)",
        default=15,
        help="Administrators are alerted when the gateway keeps failing for this "
        "many minutes.",
    )
    alert_sent_at = fields.Datetime(readonly=True)
    outage_ids = fields.One2many(
        "sms_center.gateway.outage", "gateway_id", string="Outages", readonly=True
    )
    health_state = fields.Selection(
        [
            ("ok", "Working"),
            ("failing", "Failing"),
            ("down", "Down"),
            ("unknown", "Not used yet"),
        ],
        compute="_compute_health_state",
    )
    queue_count = fields.Integer(string="Queued SMS", compute="_compute_queue_count")

    _sql_constraints = [
        ("code_unique", "unique(code)", "The gateway code must be unique."),
    ]

    def _creation_message(self):
        # The model's name may not be translated yet when demo data load;
        # the message is in the creator's language, as Odoo's own one.
        env = self.with_context(lang=self.env.lang or self.env.user.lang).env
        return env._("Gateway created")

    @api.constrains("code")
    def _check_code(self):
        for gateway in self:
            if not gateway.code or not all(
                c.isalnum() or c in "-_" for c in gateway.code
            ):
                raise ValidationError(
                    self.env._(
                        "The gateway code may only hold letters, digits, - and _."
                    )
                )

    @api.constrains("gateway_type", "outbound_enabled")
    def _check_receive_only(self):
        if self.filtered(
            lambda g: g.gateway_type == "gammu_smsd" and g.outbound_enabled
        ):
            raise ValidationError(
                self.env._(
                    "A gammu-smsd gateway only receives SMS (its script hands "
                    "them to Odoo): switch off Sends SMS."
                )
            )

    @api.onchange("gateway_type")
    def _onchange_gateway_type_receive_only(self):
        if self.gateway_type == "gammu_smsd":
            self.outbound_enabled = False

    @api.constrains("gateway_type", "simulator_numbers", "simulator_failing_numbers")
    def _check_simulator_numbers(self):
        for gateway in self.filtered(lambda g: g.gateway_type == "simulator"):
            for fname in ("simulator_numbers", "simulator_failing_numbers"):
                try:
                    phone.NumberList.parse(gateway[fname])
                except ValueError as exc:
                    raise ValidationError(
                        self.env._(
                            "%(entry)s is neither a phone number nor a number "
                            "block such as 08129999* (%(field)s of %(gateway)s).",
                            entry=exc.args[0],
                            field=self._fields[fname].get_description(self.env)[
                                "string"
                            ],
                            gateway=gateway.name,
                        )
                    ) from exc
            if not phone.NumberList.parse(gateway.simulator_numbers):
                raise ValidationError(
                    self.env._(
                        "The simulator %(gateway)s needs at least one test number.",
                        gateway=gateway.name,
                    )
                )

    @api.constrains("http_config")
    def _check_http_config(self):
        for gateway in self.filtered(lambda g: g.gateway_type == "http"):
            try:
                gateway._http_gateway_config()
            except (ValueError, KeyError, TypeError) as exc:
                raise ValidationError(
                    self.env._("Invalid HTTP gateway settings: %(error)s", error=exc)
                ) from exc

    def _compute_webhook_urls(self):
        # sudo: system parameters are readable by the system only.
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        for gateway in self:
            root = f"{base}/sms_center/{gateway.code}/{gateway.webhook_token}"
            gateway.inbound_url = f"{root}/inbound"
            gateway.dlr_url = f"{root}/dlr"

    def _compute_health_state(self):
        now = fields.Datetime.now()
        for gateway in self:
            if gateway.failing_since:
                limit = timedelta(minutes=gateway.alert_after_minutes or 0)
                gateway.health_state = (
                    "down" if now - gateway.failing_since >= limit else "failing"
                )
            elif gateway.last_success_at:
                gateway.health_state = "ok"
            else:
                gateway.health_state = "unknown"

    def _compute_queue_count(self):
        # sudo: the queue (sms.sms) is readable by system users only.
        counts = dict(
            self.env["sms.sms"]
            .sudo()
            ._read_group(
                [
                    ("state", "in", ("outgoing", "process")),
                    ("sms_center_gateway_id", "in", self.ids),
                ],
                ["sms_center_gateway_id"],
                ["__count"],
            )
        )
        for gateway in self:
            gateway.queue_count = counts.get(gateway, 0)

    @api.model_create_multi
    def create(self, vals_list):
        gateways = super().create(vals_list)
        self.env.registry.clear_cache()
        self.env["sms.sms"]._sms_center_release_waiting()
        return gateways

    def unlink(self):
        res = super().unlink()
        self.env.registry.clear_cache()
        return res

    def write(self, vals):
        res = super().write(vals)
        if ({"receiving_numbers", "active", "code"} | ROUTING_FIELDS) & set(vals):
            self.env.registry.clear_cache()
        if ROUTING_FIELDS & set(vals):
            self.env["sms.sms"]._sms_center_release_waiting()
        if set(vals) - HEALTH_FIELDS:
            _drop_sessions(self.ids)
        return res

    # ------------------------------------------------------------------
    # Numbers and routing
    # ------------------------------------------------------------------

    @api.model
    @tools.ormcache()
    def _get_center_numbers(self):
        """E.164 numbers that belong to the center itself (loop protection)."""
        raw = (
            self.env["sms_center.settings"]._sms_center_setting("center_numbers") or ""
        )
        # sudo: loop protection needs every gateway, whoever triggers routing.
        for gateway in self.sudo().search([]):
            raw += "," + (gateway.receiving_numbers or "")
        numbers = {phone.to_e164(n) for n in raw.split(",") if n.strip()}
        return frozenset(numbers - {None})

    @api.model
    def _public_receiving_numbers(self):
        """Numbers citizens write to, for the public keyword page: those of
        the active gateways (a simulator's only when it stands in for every
        gateway, in a training database), as ``0812-2700-0000``."""
        # sudo: the receiving numbers are public; nothing else is read.
        gateways = (
            self.sudo()
            .search([])
            .filtered(
                lambda g: g.gateway_type != "simulator" or g.simulator_all_numbers
            )
        )
        Log = self.env["sms_center.simulator.message"]
        numbers = []
        for gateway in gateways:
            for raw in (gateway.receiving_numbers or "").split(","):
                e164 = phone.to_e164(raw)
                if e164:
                    numbers.append(Log._format_number(e164))
        return list(dict.fromkeys(numbers))

    @api.model
    @tools.ormcache()
    def _get_simulator_numbers(self):
        """Test numbers of every simulator, archived ones included."""
        numbers = phone.NumberList()
        # sudo: test numbers are protected whoever sends an SMS.
        for gateway in (
            self.sudo()
            .with_context(active_test=False)
            .search([("gateway_type", "=", "simulator")])
        ):
            try:
                numbers |= phone.NumberList.parse(gateway.simulator_numbers)
            except ValueError:
                continue  # refused by the constraint; never stored
        return numbers

    @api.model
    def _is_simulator_number(self, number):
        """Whether ``number`` (E.164) is a test number of a simulator."""
        return number in self._get_simulator_numbers()

    def _simulator_takes(self, number):
        """Whether this simulator's test numbers include ``number``."""
        self.ensure_one()
        return number in phone.NumberList.parse(self.simulator_numbers)

    def _simulator_fails(self, number):
        """Whether this simulator reports SMS to ``number`` as not delivered."""
        self.ensure_one()
        return number in phone.NumberList.parse(self.simulator_failing_numbers)

    @api.model
    def _outbound_gateways(self):
        # sudo: routing runs for any user who posts an SMS.
        return self.sudo().search([("outbound_enabled", "=", True)])

    @api.model
    def _route_outbound(self, number, gateways=None):
        """Gateway that sends to ``number``: first prefix match, else default.

        A test number of a simulator goes to that simulator or nowhere; a
        simulator takes other numbers only when it takes every number.
        """
        gateways = self._outbound_gateways() if gateways is None else gateways
        if self._is_simulator_number(number):
            return gateways.filtered(
                lambda g: g.gateway_type == "simulator" and g._simulator_takes(number)
            )[:1]
        default = self.browse()
        for gateway in gateways:
            if gateway.gateway_type == "simulator":
                if gateway.simulator_all_numbers:
                    default = default or gateway
                continue
            prefixes = [
                p.strip()
                for p in (gateway.outbound_prefixes or "").split(",")
                if p.strip()
            ]
            if not prefixes:
                default = default or gateway
            elif number and any(number.startswith(p) for p in prefixes):
                return gateway
        return default

    def _retry_delay(self, attempt):
        """Exponential back-off: base, 2 x base, 4 x base... capped at 6 hours."""
        self.ensure_one()
        base = max(self.retry_delay_seconds or 60, 1)
        return timedelta(seconds=min(base * 2 ** max(attempt - 1, 0), 6 * 3600))

    # ------------------------------------------------------------------
    # Webhooks
    # ------------------------------------------------------------------

    @api.model
    @tools.ormcache()
    def _webhook_gateway_ids(self):
        """``{code: id}`` of the active gateways: a webhook call looks its
        gateway up without a query (cleared when gateways change)."""
        # sudo: webhooks are called by gateways, without an Odoo user.
        return {gateway.code: gateway.id for gateway in self.sudo().search([])}

    @api.model
    def _from_webhook(self, code, token):
        """Gateway for a webhook call, or empty when the secret is wrong."""
        # sudo: webhooks are called by gateways, without an Odoo user.
        gateway = self.sudo().browse(self._webhook_gateway_ids().get(code))
        expected = gateway.webhook_token if gateway else secrets.token_urlsafe(32)
        if not hmac.compare_digest(str(expected).encode(), str(token or "").encode()):
            return self.browse()
        return gateway

    # ------------------------------------------------------------------
    # Transports
    # ------------------------------------------------------------------

    def _http_gateway_config(self):
        self.ensure_one()
        # sudo: credentials are admin-only fields; the worker runs for everyone.
        overrides = json.loads(self.sudo().http_config or "{}")
        if not isinstance(overrides, dict):
            raise ValueError("the advanced settings must be a JSON object")
        if self.http_url:
            overrides.setdefault("url", self.http_url)
        if self.http_auth_user:
            overrides.setdefault("auth_user", self.http_auth_user)
        if self.sudo().http_auth_secret:
            overrides.setdefault("auth_secret", self.sudo().http_auth_secret)
        if self.http_preset and self.http_preset != "custom":
            return http_gateway.HttpGatewayConfig.from_preset(
                self.http_preset, **overrides
            )
        overrides.setdefault("url", "")
        return http_gateway.HttpGatewayConfig.from_dict(overrides)

    def _session(self):
        """Keep-alive HTTP session of this gateway in this process."""
        self.ensure_one()
        key = (self.env.cr.dbname, self.id)
        with _SESSIONS_LOCK:
            session = _SESSIONS.get(key)
            if session is None:
                session = http_transport.keepalive_session(pool_maxsize=8)
                _SESSIONS[key] = session
        return session

    def _client(self):
        """lib client able to ``send(number, text, sender, dlr_url...)``."""
        self.ensure_one()
        # sudo: credentials are admin-only fields; the worker runs for everyone.
        gateway = self.sudo()
        if gateway.gateway_type == "kannel":
            return kannel.KannelClient(
                gateway.kannel_sendsms_url,
                gateway.kannel_username,
                gateway.kannel_password,
                default_sender=gateway.default_sender_id,
                session=self._session(),
            )
        if gateway.gateway_type == "http":
            return http_gateway.HttpGatewayClient(
                gateway._http_gateway_config(), session=self._session()
            )
        raise UserError(
            self.env._(
                "%(gateway)s sends only from its modem worker.", gateway=self.name
            )
        )

    def _transmit(self, sms_records):
        """Hand ``sms_records`` to this HTTP gateway; ``{sms.id: SendResult}``.

        Runs outside any open database transaction (see the queue worker).
        """
        self.ensure_one()
        if self.gateway_type == "simulator":
            return self._simulator_transmit(sms_records)
        client = self._client()
        # sudo: the webhook secret in the URL is an admin-only field.
        dlr_base = self.sudo().dlr_url
        results = {}
        for sms in sms_records:
            sender = sms.sms_center_sender_id or self.default_sender_id or None
            if self.gateway_type == "kannel":
                results[sms.id] = client.send(
                    sms.number,
                    sms.body,
                    sender=sender,
                    dlr_url=kannel.dlr_url_for(dlr_base, sms.uuid),
                    dlr_mask=self.kannel_dlr_mask or 31,
                )
            else:
                results[sms.id] = client.send(
                    sms.number,
                    sms.body,
                    sender=sender,
                    dlr_url=f"{dlr_base}?ref={sms.uuid}",
                    ref=sms.uuid,
                )
        return {
            sms_id: dataclasses.replace(result, detail=_redact(result.detail))
            for sms_id, result in results.items()
        }

    def _after_transmit(self, sms_records):
        """Hook run once ``sms_records`` were accepted by this gateway."""
        self.ensure_one()
        if self.gateway_type == "simulator" and sms_records:
            self._simulator_report_delivery(sms_records)

    # ------------------------------------------------------------------
    # Simulator: a gateway whose SMS never leave Odoo
    # ------------------------------------------------------------------

    def _simulator_transmit(self, sms_records):
        """ "Send" ``sms_records``: they land on the simulated phones."""
        self.ensure_one()
        Log = self.env["sms_center.simulator.message"]
        # sudo: the simulator's phones are written by the queue worker.
        Log.sudo().create(
            [
                {
                    "gateway_id": self.id,
                    "number": sms.number,
                    "direction": "out",
                    "body": sms.body,
                    "sender_id": sms.sms_center_sender_id
                    or self.default_sender_id
                    or False,
                    "sms_uuid": sms.uuid,
                    "origin": Log._origin_of(sms),
                    "state": "sent",
                }
                for sms in sms_records
            ]
        )
        return {
            sms.id: dlr_lib.SendResult(
                True, gateway_ref=f"sim-{sms.uuid}", detail="simulated"
            )
            for sms in sms_records
        }

    def _simulator_report_delivery(self, sms_records):
        """Delivery reports, as a real network would send them."""
        self.ensure_one()
        Sms = self.env["sms.sms"]
        # sudo: the simulator's phones are written by the queue worker.
        Log = self.env["sms_center.simulator.message"].sudo()
        # Stored for officers, like an operator's reason: in the regency's
        # language, whoever runs the worker.
        lang = self.env["sms_center.message"]._get_citizen_lang()
        reason = self.with_context(lang=lang).env._(
            "Simulated failure: the phone did not take the SMS."
        )
        for sms in sms_records:
            fails = self._simulator_fails(sms.number)
            Sms._sms_center_apply_dlr(
                self,
                dlr_lib.DlrEvent(
                    ref=sms.uuid,
                    status=dlr_lib.FAILED if fails else dlr_lib.DELIVERED,
                    reason=reason if fails else None,
                    gateway_ref=sms.sms_center_gateway_ref,
                ),
            )
            Log.search([("sms_uuid", "=", sms.uuid)]).write(
                {
                    "state": "failed" if fails else "delivered",
                    "failure_reason": reason if fails else False,
                }
            )

    def _simulator_flush(self):
        """Deliver the SMS queued for these simulators now, in the current
        transaction (nothing leaves Odoo, so nothing needs the worker's
        commits). Used by the simulator screen and the demo data."""
        Sms = self.env["sms.sms"].sudo().with_context(sms_center_no_commit=True)
        Sms._sms_center_route_new(self._outbound_gateways())
        for gateway in self.filtered(
            lambda g: g.active and g.outbound_enabled and g.gateway_type == "simulator"
        ):
            for _round in range(20):
                batch = Sms._sms_center_claim(gateway)
                if not batch:
                    break
                batch._sms_center_hand_over(gateway)

    def action_open_simulator(self):
        self.ensure_one()
        return {
            "type": "ir.actions.client",
            "tag": "sms_center.simulator",
            "name": self.env._("SMS simulator"),
            "params": {"gateway_id": self.id},
        }

    # ------------------------------------------------------------------
    # Health (R14)
    # ------------------------------------------------------------------

    @api.model
    def _sms_center_admins(self):
        """SMS Center administrators who get alerts (people, not OdooBot)."""
        return self.env.ref("sms_center.group_admin").users.filtered(
            lambda u: not u.share
            and u.active
            and u.id != self.env.ref("base.user_root").id
        )

    def _note_success(self, **values):
        """Record a successful contact (poll, send, webhook)."""
        now = fields.Datetime.now()
        # sudo: health is written by workers and webhooks on the gateway's behalf.
        for gateway in self.sudo():
            if (
                not values
                and not gateway.failing_since
                and not gateway.alert_sent_at
                and gateway.last_success_at
                and now - gateway.last_success_at < HEALTH_SUCCESS_INTERVAL
            ):
                continue  # recorded a moment ago: keep the row cold
            gateway._write_health(
                dict(
                    values,
                    last_success_at=now,
                    failing_since=False,
                    alert_sent_at=values.get("alert_sent_at", False),
                )
            )

    def _note_script_contact(self):
        """An SMS came in through a gammu-smsd gateway's script (receive()).

        Nothing else reaches Odoo from such a gateway: the SMS it hands over
        are its health (last successful contact).
        """
        self.filtered(lambda g: g.gateway_type == "gammu_smsd")._note_success()

    def _note_error(self, message):
        now = fields.Datetime.now()
        message = _redact(message)
        # sudo: health is written by workers and webhooks on the gateway's behalf.
        for gateway in self.sudo():
            gateway._write_health(
                {
                    "last_error": (message or "")[:500],
                    "last_error_at": now,
                    "failing_since": gateway.failing_since or now,
                }
            )
            _logger.warning("SMS gateway %s failed: %s", gateway.code, message)

    def _write_health(self, values):
        """Write health ``values``, best effort, without waiting on a lock.

        Webhook requests and workers in other transactions report on the same
        gateway row at the same time. Health is not worth failing (and, for
        the worker, losing track of a batch already handed over) nor queuing
        on that row: when another transaction holds or has just changed it,
        this report is skipped.
        """
        self.ensure_one()
        try:
            with self.env.cr.savepoint():
                self.env.cr.execute(
                    "SELECT id FROM sms_center_gateway WHERE id = %s "
                    "FOR NO KEY UPDATE NOWAIT",
                    [self.id],
                    log_exceptions=False,  # an expected outcome, not an error
                )
                was_failing = self.failing_since
                self.write(values)
                self._log_outage(was_failing, values)
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY as exc:
            _logger.info(
                "SMS gateway %s: health report skipped (%s)",
                self.code,
                type(exc).__name__,
            )
            return False
        return True

    def _log_outage(self, was_failing, values):
        """Open an outage when the gateway starts failing, close it at its
        next success: the history behind the availability in reports."""
        self.ensure_one()
        if "failing_since" not in values:
            return
        # sudo: outages are logged by workers and webhooks, like the health.
        Outage = self.env["sms_center.gateway.outage"].sudo()
        if values["failing_since"] and not was_failing:
            Outage.create(
                {
                    "gateway_id": self.id,
                    "started_at": values["failing_since"],
                    "first_error": values.get("last_error") or False,
                }
            )
        elif was_failing and not values["failing_since"]:
            Outage.search(
                [("gateway_id", "=", self.id), ("ended_at", "=", False)]
            ).write(
                {"ended_at": values.get("last_success_at") or fields.Datetime.now()}
            )

    @api.model
    def _cron_check_health(self):
        """Alert administrators about gateways failing for too long."""
        now = fields.Datetime.now()
        admins = self._sms_center_admins()
        # Active gateways that still poll or send.
        for gateway in self.search(
            [("failing_since", "!=", False), ("alert_sent_at", "=", False)]
        ):
            if now - gateway.failing_since < timedelta(
                minutes=gateway.alert_after_minutes or 0
            ):
                continue
            if gateway.gateway_type == "kannel" and gateway.kannel_admin_url:
                gateway._check_kannel_status()
                if not gateway.failing_since:
                    continue
            summary = self.env._(
                "SMS gateway %(gateway)s is down", gateway=gateway.name
            )
            note = self.env._(
                "Failing since %(since)s (UTC). Last error: %(error)s",
                since=gateway.failing_since,
                error=gateway.last_error or "-",
            )
            for admin in admins:
                gateway.activity_schedule(
                    "mail.mail_activity_data_todo",
                    summary=summary,
                    note=note,
                    user_id=admin.id,
                )
            gateway.message_post(
                body=f"{summary}. {note}",
                partner_ids=admins.partner_id.ids,
                subtype_xmlid="mail.mt_comment",
            )
            gateway.alert_sent_at = now

    def _check_kannel_status(self):
        """Ask bearerbox for its status; note success or error."""
        self.ensure_one()
        # sudo: the status page password is an admin-only field.
        gateway = self.sudo()
        try:
            status = kannel.admin_status(
                gateway.kannel_admin_url,
                gateway.kannel_admin_password,
                session=self._session(),
            )
        except requests.RequestException as exc:
            gateway._note_error(
                self.env._("Kannel status unreachable: %(error)s", error=exc)
            )
            return False
        online = [
            name for name, state in status.get("smscs", {}).items() if state == "online"
        ]
        if status.get("running") and online:
            gateway._note_success()
            return True
        gateway._note_error(
            self.env._(
                "Kannel runs but no SMSC is online: %(smscs)s",
                smscs=status.get("smscs"),
            )
        )
        return False

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_open_test_sms(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Send test SMS"),
            "res_model": "sms_center.gateway.test",
            "view_mode": "form",
            "target": "new",
            "context": {"default_gateway_id": self.id},
        }

    def action_view_queue(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Queued SMS"),
            "res_model": "sms.sms",
            "view_mode": "list,form",
            "domain": [
                ("sms_center_gateway_id", "=", self.id),
                ("state", "in", ("outgoing", "process")),
            ],
        }

    def action_regenerate_token(self):
        for gateway in self:
            # sudo: the secret is an admin-only field; the button is admin-only too.
            gateway.sudo().webhook_token = secrets.token_urlsafe(32)
            gateway.message_post(
                body=self.env._(
                    "Webhook secret regenerated: update the gateway's URLs."
                ),
                subtype_xmlid="mail.mt_note",
                author_id=self.env.user.partner_id.id,
                email_from=author_email_from(self.env),
            )


def _drop_sessions(ids):
    with _SESSIONS_LOCK:
        for key in [k for k in _SESSIONS if k[1] in ids]:
            _SESSIONS.pop(key).close()
