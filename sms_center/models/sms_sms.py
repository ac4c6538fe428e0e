from odoo import api, fields, models
from odoo.tools import formataddr


class SmsSms(models.Model):
    _inherit = "sms.sms"

    sms_center_sender_id = fields.Char(
        string="Sender ID", help="Alphanumeric sender ID requested for this SMS."
    )

    @api.model_create_multi
    def create(self, vals_list):
        sms = super().create(vals_list)
        sender = self.env.context.get("sms_center_sender_id")
        if sender:
            sms.filtered(
                lambda s: not s.sms_center_sender_id
            ).sms_center_sender_id = sender
        return sms

    def write(self, vals):
        res = super().write(vals)
        if "state" in vals or "failure_type" in vals:
            self._sms_center_propagate_status()
        return res

    def _sms_center_propagate_status(self, failure_reason=False):
        """Copy the queue state onto the durable status records (R7)."""
        Mixin = self.env["sms_center.sms.status.mixin"]
        groups = {}
        for sms in self:
            key = (sms.state, sms.failure_type or False)
            groups.setdefault(key, []).append(sms.uuid)
        for (state, failure_type), uuids in groups.items():
            Mixin._sms_status_apply(
                uuids, Mixin._sms_status_values(state, failure_type, failure_reason)
            )

    @api.model
    def _sms_center_trigger_queue(self):
        """Ask the SMS queue cron to run as soon as this transaction commits."""
        cron = self.env.ref(
            "sms.ir_cron_sms_scheduler_action", raise_if_not_found=False
        )
        if cron:
            cron.sudo()._trigger()

    @api.model
    def _sms_center_post(self, record, body, number, sender_id=False):
        """Post ``body`` as an SMS on ``record``'s chatter and queue it.

        Returns the queued ``sms.sms``. The SMS is never sent inside the
        current transaction: the queue worker sends it after commit, so a
        rollback cannot leave a sent SMS without its record.
        """
        record.ensure_one()
        author = self.env.user.partner_id
        # Officers often have no e-mail address; the post is an SMS, never a mail.
        email_from = author.email_formatted or formataddr(
            (author.name, self.env.company.email or "noreply@sms-center.invalid")
        )
        message = record.with_context(sms_center_sender_id=sender_id)._message_sms(
            body,
            partner_ids=[],
            sms_numbers=[number],
            put_in_queue=True,
            author_id=author.id,
            email_from=email_from,
        )
        # sudo: sms.sms is a technical queue only system users can read.
        sms = self.sudo().search(
            [("mail_message_id", "=", message.id)], order="id desc", limit=1
        )
        self._sms_center_trigger_queue()
        return sms
