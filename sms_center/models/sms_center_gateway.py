import secrets

from odoo import api, fields, models, tools

from ..lib import phone


class SmsCenterGateway(models.Model):
    """A way SMS enter and leave the center (modem, Kannel, HTTP API)."""

    _name = "sms_center.gateway"
    _description = "SMS Center Gateway"
    _inherit = ["mail.thread"]
    _order = "sequence, id"

    name = fields.Char(required=True, tracking=True)
    code = fields.Char(
        required=True,
        copy=False,
        tracking=True,
        help="Short technical name, used in logs and by integrations.",
    )
    active = fields.Boolean(default=True, tracking=True)
    sequence = fields.Integer(default=10, help="Priority: lower is tried first.")
    gateway_type = fields.Selection(
        [
            ("gammu", "GSM modem (Gammu)"),
            ("kannel", "Kannel"),
            ("http", "Generic HTTP gateway"),
        ],
        string="Type",
        required=True,
        default="kannel",
        tracking=True,
    )
    receiving_numbers = fields.Char(
        string="Center numbers",
        help="Comma-separated numbers of this gateway's SIM cards or virtual "
        "numbers. The center never auto-replies to them.",
    )
    default_sender_id = fields.Char(
        string="Default sender ID",
        help="Alphanumeric sender ID used when the keyword and officer have none.",
    )
    webhook_token = fields.Char(
        copy=False,
        groups="sms_center.group_admin",
        default=lambda self: secrets.token_urlsafe(32),
        help="Secret that inbound and delivery-report webhooks must present.",
    )

    _sql_constraints = [
        ("code_unique", "unique(code)", "The gateway code must be unique."),
    ]

    @api.model_create_multi
    def create(self, vals_list):
        gateways = super().create(vals_list)
        self.env.registry.clear_cache()
        return gateways

    def write(self, vals):
        res = super().write(vals)
        if {"receiving_numbers", "active"} & set(vals):
            self.env.registry.clear_cache()
        return res

    @api.model
    @tools.ormcache()
    def _get_center_numbers(self):
        """E.164 numbers that belong to the center itself (loop protection)."""
        raw = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("sms_center.center_numbers", "")
        )
        # sudo: loop protection needs every gateway, whoever triggers routing.
        for gateway in self.sudo().search([]):
            raw += "," + (gateway.receiving_numbers or "")
        numbers = {phone.to_e164(n) for n in raw.split(",") if n.strip()}
        return frozenset(numbers - {None})
