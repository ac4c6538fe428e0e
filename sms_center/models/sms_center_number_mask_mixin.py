from odoo import api, models
from odoo.exceptions import AccessError, UserError

from ..lib import phone, pseudonym


def masked_display(value):
    """How a stored number is shown: ``0812****432``; a pseudonym as is."""
    if not value or pseudonym.is_pseudonym(value):
        return value
    return phone.mask(phone.to_e164(value) or value)


class SmsCenterNumberMaskMixin(models.AbstractModel):
    """Citizens' numbers are shown masked, and in full only through a logged
    action (UU 27/2022, accountability).

    Reading a number field listed by :meth:`_sms_center_masked_fields` gives
    its masked form to every user (screens, RPC, export); grouping by it is
    refused. Only code running as superuser (the center's own sending,
    routing and pseudonymising) reads the stored value. The "Show number"
    button (:meth:`action_sms_center_reveal_number`) shows the full number to
    the secretariat and writes who saw which record, and when, in the reveal
    log (``sms_center.number.reveal``).
    """

    _name = "sms_center.number.mask.mixin"
    _description = "SMS Center: masked citizens' numbers"

    @api.model
    def _sms_center_masked_fields(self):
        """Names of the fields holding a citizen's number."""
        return []

    def _sms_center_masked_records(self):
        """The records of ``self`` whose numbers are masked."""
        return self

    def _sms_center_reveal_values(self):
        """The full numbers the "Show number" action shows for ``self``."""
        self.ensure_one()
        # sudo: the numbers are read to be shown by the logged action.
        record = self.sudo()
        return [record[fname] for fname in self._sms_center_masked_fields()[:1]]

    def _read_format(self, fnames, load="_classic_read"):
        result = super()._read_format(fnames, load=load)
        masked_fields = set(fnames) & set(self._sms_center_masked_fields())
        if self.env.su or not masked_fields or not result:
            return result
        masked_ids = set(self._sms_center_masked_records()._ids)
        for values in result:
            if values.get("id") in masked_ids:
                for fname in masked_fields:
                    values[fname] = masked_display(values.get(fname))
        return result

    def _export_rows(self, fields, *, _is_toplevel_call=True):
        rows = super()._export_rows(fields, _is_toplevel_call=_is_toplevel_call)
        masked_fields = set(self._sms_center_masked_fields())
        columns = [
            index
            for index, path in enumerate(fields)
            if len(path) == 1 and path[0] in masked_fields
        ]
        if self.env.su or not columns:
            return rows
        # sudo: the stored values tell which exported cells are numbers.
        records = self._sms_center_masked_records().sudo()
        stored = {
            record[fields[index][0]] for record in records for index in columns
        } - {False, None, ""}
        for row in rows:
            for index in columns:
                if row[index] in stored:
                    row[index] = masked_display(row[index])
        return rows

    @api.model
    def read_group(
        self, domain, fields, groupby, offset=0, limit=None, orderby=False, lazy=True
    ):
        groupby_list = [groupby] if isinstance(groupby, str) else list(groupby or [])
        masked_fields = set(self._sms_center_masked_fields())
        if not self.env.su and any(
            spec.split(":")[0].split(".")[0] in masked_fields for spec in groupby_list
        ):
            raise UserError(
                self.env._(
                    "Grouping by phone number would show citizens' numbers in full."
                )
            )
        return super().read_group(
            domain,
            fields,
            groupby,
            offset=offset,
            limit=limit,
            orderby=orderby,
            lazy=lazy,
        )

    def action_sms_center_reveal_number(self):
        """Show the full number to a secretariat member, and log it."""
        self.ensure_one()
        if not self.env.user.has_group("sms_center.group_secretariat"):
            raise AccessError(
                self.env._("Only the secretariat can see citizens' numbers in full.")
            )
        self.check_access("read")
        return self.env["sms_center.number.reveal"]._reveal(
            self, self._sms_center_reveal_values()
        )
