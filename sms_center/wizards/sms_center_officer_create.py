from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError


class SmsCenterOfficerCreate(models.TransientModel):
    """An SMS Center administrator creates an officer's login (R1).

    Creating Odoo users normally needs the Access Rights group; this wizard
    lets SMS Center administrators create logins that can only ever be
    officers, nothing more.
    """

    _name = "sms_center.officer.create"
    _description = "Create Officer Login"

    name = fields.Char(required=True, help="Name and title, e.g. dr. Sri Lestari")
    login = fields.Char(
        string="User name", required=True, help="User name or e-mail used to log in."
    )
    password = fields.Char(
        help="Initial password; leave empty to send an invitation to the e-mail."
    )
    email = fields.Char()
    job_title = fields.Char(string="Position")
    team_id = fields.Many2one("helpdesk.ticket.team", string="Unit")
    notification_mobile = fields.Char(
        string="Notification mobile", help="e.g. 0812-3456-7890"
    )
    sender_id = fields.Char(string="Sender ID")
    keyword_ids = fields.Many2many("sms_center.keyword", string="Keywords")

    @api.model
    def _check_rights(self):
        if not self.env.user.has_group("sms_center.group_admin"):
            raise AccessError(
                self.env._("Only SMS Center administrators create officers.")
            )

    def action_create(self):
        self.ensure_one()
        self._check_rights()
        if not self.password and not self.email:
            raise UserError(
                self.env._("Give an initial password or an e-mail for the invitation.")
            )
        login = self.login.strip()
        # sudo: logins are unique among all users, archived ones included.
        Users = self.env["res.users"].sudo().with_context(active_test=False)
        if Users.search_count([("login", "=", login)], limit=1):
            raise UserError(
                self.env._("The login %(login)s is already taken.", login=login)
            )
        Settings = self.env["sms_center.settings"]
        lang = Settings._sms_center_setting("citizen_lang")
        installed = dict(self.env["res.lang"].get_installed())
        # sudo: SMS Center administrators may not manage users in general;
        # this login gets the Officer group and nothing else.
        user = (
            self.env["res.users"]
            .sudo()
            .with_context(no_reset_password=bool(self.password))
            .create(
                {
                    "name": self.name,
                    "login": login,
                    "email": self.email or False,
                    "password": self.password or False,
                    "lang": lang if lang in installed else "en_US",
                    "tz": Settings._sms_center_setting("timezone"),
                    "groups_id": [
                        fields.Command.set(
                            [self.env.ref("sms_center.group_officer").id]
                        )
                    ],
                    # Officers land in their inbox after logging in (R19).
                    "action_id": self.env.ref("sms_center.action_sms_inbox").id,
                }
            )
        )
        officer = self.env["sms_center.officer"].create(
            {
                "user_id": user.id,
                "job_title": self.job_title,
                "team_id": self.team_id.id,
                "notification_mobile": self.notification_mobile,
                "sender_id": self.sender_id,
            }
        )
        if self.keyword_ids:
            self.keyword_ids.write({"officer_ids": [fields.Command.link(officer.id)]})
        return {
            "type": "ir.actions.act_window",
            "res_model": "sms_center.officer",
            "res_id": officer.id,
            "view_mode": "form",
            "target": "current",
        }
