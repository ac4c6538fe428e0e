from odoo import api, fields, models
from odoo.exceptions import UserError

from ..lib import pseudonym


class SmsCenterNumberReveal(models.Model):
    """Who saw a citizen's number in full, when, on which record (UU 27/2022,
    accountability). Written by the "Show number" actions only; readable by
    administrators and the data protection officers; nobody can change or
    delete an entry, not even through SQL (a trigger refuses it)."""

    _name = "sms_center.number.reveal"
    _description = "Citizen number shown in full"
    _order = "revealed_at desc, id desc"
    _rec_name = "record_name"

    user_id = fields.Many2one(
        "res.users",
        string="Shown to",
        required=True,
        readonly=True,
        index=True,
        ondelete="restrict",
    )
    revealed_at = fields.Datetime(
        string="Shown at",
        required=True,
        readonly=True,
        index=True,
        default=fields.Datetime.now,
    )
    res_model = fields.Char(string="Model", required=True, readonly=True)
    res_model_name = fields.Char(string="Record type", readonly=True)
    res_id = fields.Many2oneReference(
        string="Record ID", model_field="res_model", required=True, readonly=True
    )
    record_name = fields.Char(string="Record", readonly=True)

    def init(self):
        self.env.cr.execute(
            """CREATE OR REPLACE FUNCTION sms_center_number_reveal_readonly()
               RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN
                 RAISE EXCEPTION 'sms_center: the number reveal log cannot be changed'
                   USING ERRCODE = 'integrity_constraint_violation';
               END $$;
               DROP TRIGGER IF EXISTS sms_center_number_reveal_readonly
                 ON sms_center_number_reveal;
               CREATE TRIGGER sms_center_number_reveal_readonly
                 BEFORE UPDATE OR DELETE ON sms_center_number_reveal
                 FOR EACH ROW EXECUTE FUNCTION sms_center_number_reveal_readonly();"""
        )

    def write(self, vals):
        self.check_access("write")
        if self and vals:
            raise UserError(self.env._("The number reveal log cannot be changed."))
        return super().write(vals)

    def unlink(self):
        self.check_access("unlink")
        if self:
            raise UserError(self.env._("The number reveal log cannot be changed."))
        return super().unlink()

    @api.model
    def _reveal(self, record, numbers):
        """Log that the current user sees ``numbers`` of ``record``; return
        the notification that shows them."""
        numbers = [number for number in numbers if number]
        full = [number for number in numbers if not pseudonym.is_pseudonym(number)]
        if not full:
            return {
                "type": "ir.actions.client",
                "tag": "display_notification",
                "params": {
                    "type": "info",
                    "title": self.env._("No number to show"),
                    "message": self.env._(
                        "The number of %(record)s was pseudonymised or is missing.",
                        record=record.display_name,
                    ),
                },
            }
        # sudo: nobody may write the log directly; this action is its only
        # writer.
        self.sudo().create(
            {
                "user_id": self.env.user.id,
                "res_model": record._name,
                "res_model_name": self.env["ir.model"]._get(record._name).name,
                "res_id": record.id,
                "record_name": record.display_name,
            }
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "warning",
                "sticky": True,
                "title": self.env._("Number of %(record)s", record=record.display_name),
                "message": self.env._(
                    "%(numbers)s. Shown to you at your request and logged.",
                    numbers=", ".join(full),
                ),
            },
        }

    def action_open_record(self):
        """Open the record whose number was shown."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "view_mode": "form",
        }
