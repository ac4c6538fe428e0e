from odoo import api, models


class ResUsers(models.Model):
    _inherit = "res.users"

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
