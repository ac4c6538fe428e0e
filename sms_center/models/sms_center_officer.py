from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..lib import gsm, phone

SENDER_ID_MAX = 11
SENDER_ID_SAFE = 8


def normalize_sender_id(env, value):
    """Validate an alphanumeric sender ID; return it stripped or raise."""
    value = (value or "").strip()
    if not value:
        return False
    if len(value) > SENDER_ID_MAX or not gsm.is_gsm7(value) or not value.isalnum():
        raise ValidationError(
            env._(
                "The sender ID %(sender)s is invalid: use at most %(max)s letters "
                "or digits (GSM-7, no spaces).",
                sender=value,
                max=SENDER_ID_MAX,
            )
        )
    return value


def sender_id_warning(env, sender_id):
    """Warning text for sender IDs that some operators truncate."""
    if sender_id and SENDER_ID_SAFE < len(sender_id) <= SENDER_ID_MAX:
        return env._(
            "Sender IDs longer than %(safe)s characters are cut by some operators.",
            safe=SENDER_ID_SAFE,
        )
    return False


class SmsCenterOfficer(models.Model):
    """An official who answers one or more keywords' inboxes (R1)."""

    _name = "sms_center.officer"
    _description = "SMS Center Officer"
    _inherit = ["mail.thread"]
    _order = "name, id"

    user_id = fields.Many2one(
        "res.users",
        string="Account",
        required=True,
        ondelete="restrict",
        index=True,
        tracking=True,
        domain=[("share", "=", False)],
    )
    name = fields.Char(related="user_id.name", store=True, readonly=True)
    login = fields.Char(related="user_id.login", string="User name")
    active = fields.Boolean(default=True, tracking=True)
    job_title = fields.Char(
        string="Position",
        tracking=True,
        help="Position held, e.g. Head of the Health Agency.",
    )
    team_id = fields.Many2one(
        "helpdesk.ticket.team",
        string="Unit",
        tracking=True,
        help="Organisation unit (helpdesk team) the officer belongs to.",
    )
    notification_mobile = fields.Char(
        string="Notification mobile",
        tracking=True,
        groups="sms_center.group_secretariat",
        help="The one mobile number that receives reminder SMS, stored in E.164 "
        "(+62...). Indonesian input such as 0812-3456-7890 is accepted.",
    )
    has_notification_mobile = fields.Boolean(
        compute="_compute_has_notification_mobile", store=True
    )
    sender_id = fields.Char(
        string="Sender ID",
        tracking=True,
        help="Alphanumeric sender ID (max 11 characters; more than 8 may be "
        "truncated by some operators) used for answers to citizens.",
    )
    sender_id_warning = fields.Char(
        string="Sender ID warning", compute="_compute_sender_id_warning"
    )
    superior_id = fields.Many2one(
        "sms_center.officer",
        string="Superior",
        tracking=True,
        help="Receives escalations for this officer's overdue messages when enabled.",
    )
    keyword_ids = fields.Many2many(
        "sms_center.keyword",
        "sms_center_keyword_officer_rel",
        "officer_id",
        "keyword_id",
        string="Keywords",
        readonly=True,
    )

    _sql_constraints = [
        (
            "user_unique",
            "unique(user_id)",
            "This login already has an officer profile.",
        ),
    ]

    def _creation_message(self):
        # The model's name may not be translated yet when demo data load;
        # the message is in the creator's language, as Odoo's own one.
        env = self.with_context(lang=self.env.lang or self.env.user.lang).env
        return env._("Officer profile created")

    @api.depends("notification_mobile")
    def _compute_has_notification_mobile(self):
        for officer in self:
            # sudo: the number itself is hidden from officers; only its presence shows.
            officer.has_notification_mobile = bool(officer.sudo().notification_mobile)

    @api.depends("sender_id")
    def _compute_sender_id_warning(self):
        for officer in self:
            officer.sender_id_warning = sender_id_warning(self.env, officer.sender_id)

    @api.model
    def _normalize_vals(self, vals):
        if vals.get("notification_mobile"):
            e164 = phone.to_e164(vals["notification_mobile"])
            if not e164:
                raise ValidationError(
                    self.env._(
                        "%(number)s is not a valid mobile number. Use a form such "
                        "as 0812-3456-7890, 62812... or +62 812-....",
                        number=vals["notification_mobile"],
                    )
                )
            vals["notification_mobile"] = e164
        if "sender_id" in vals:
            vals["sender_id"] = normalize_sender_id(self.env, vals["sender_id"])
        return vals

    @api.model_create_multi
    def create(self, vals_list):
        return super().create([self._normalize_vals(dict(v)) for v in vals_list])

    def write(self, vals):
        return super().write(self._normalize_vals(dict(vals)))

    @api.onchange("sender_id")
    def _onchange_sender_id(self):
        warning = sender_id_warning(self.env, self.sender_id)
        if warning:
            return {
                "warning": {"title": self.env._("Long sender ID"), "message": warning}
            }

    def _get_sender_id(self):
        self.ensure_one()
        return self.sender_id
