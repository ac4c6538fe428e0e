from odoo import api, fields, models
from odoo.exceptions import UserError

START_PAGES = {
    "inbox": "sms_center.action_sms_inbox",
    "overview": "sms_center.action_sms_center_overview",
    "discuss": "mail.action_discuss",
}


class ResUsers(models.Model):
    _inherit = "res.users"

    # The home action, as SMS Center users choose it in their preferences
    # (Odoo shows the home action to administrators in debug mode only).
    sms_center_start_page = fields.Selection(
        [
            ("inbox", "My SMS inbox"),
            ("overview", "Overview"),
            ("discuss", "Discuss"),
        ],
        string="Start page",
        compute="_compute_sms_center_start_page",
        inverse="_inverse_sms_center_start_page",
        help="Where you land after logging in. Empty: a page an administrator "
        "chose for you.",
    )

    @property
    def SELF_READABLE_FIELDS(self):
        return super().SELF_READABLE_FIELDS + ["sms_center_start_page"]

    @property
    def SELF_WRITEABLE_FIELDS(self):
        return super().SELF_WRITEABLE_FIELDS + ["sms_center_start_page"]

    @api.depends("action_id")
    def _compute_sms_center_start_page(self):
        by_action = {}
        for page, xmlid in START_PAGES.items():
            action = self.env.ref(xmlid, raise_if_not_found=False)
            if action:
                by_action[action.id] = page
        for user in self:
            action_id = user.sudo().action_id.id
            user.sms_center_start_page = (
                by_action.get(action_id, False) if action_id else "discuss"
            )

    def _inverse_sms_center_start_page(self):
        for user in self:
            page = user.sms_center_start_page
            if not page:
                continue
            if page == "overview" and not user.has_group(
                "sms_center.group_secretariat"
            ):
                raise UserError(
                    self.env._(
                        "The overview is the secretariat's start page; officers "
                        "start in their SMS inbox or in Discuss."
                    )
                )
            # sudo: action_id is writeable by the user themself (Odoo's
            # SELF_WRITEABLE_FIELDS); the action records are not.
            user.sudo().action_id = self.env.ref(START_PAGES[page]).sudo().id

    @api.model
    def _sms_center_home_action_for(self, user):
        """Where an SMS Center user lands after logging in (R19): officers in
        their inbox, the secretariat and administrators in the overview."""
        if user.has_group("sms_center.group_secretariat"):
            return self.env.ref("sms_center.action_sms_center_overview")
        if user.has_group("sms_center.group_officer"):
            return self.env.ref("sms_center.action_sms_inbox")
        return self.env["ir.actions.actions"]

    @api.model
    def _sms_center_set_home_actions(self):
        """Give SMS Center users without a home action theirs. A home action
        a user or an administrator chose is kept."""
        officers = self.env.ref("sms_center.group_officer").users
        for user in officers.filtered(
            lambda u: u.active and not u.share and not u.action_id
        ):
            action = self._sms_center_home_action_for(user)
            if action:
                user.action_id = action.id
