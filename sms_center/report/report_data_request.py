from odoo import api, fields, models

from ..tools.deadline import regency_tz, to_local


class ReportDataRequest(models.AbstractModel):
    """Printable statement (PDF) of what the center holds for a number, in
    the citizens' language, for the citizen who asked."""

    _name = "report.sms_center.report_data_request"
    _description = "Personal data request statement"

    @api.model
    def _get_report_values(self, docids, data=None):
        requests = self.env["sms_center.data.request"].browse(docids)
        requests._check_data_protection()
        requests.check_access("read")
        lang = requests._export_lang()
        printed_at = to_local(fields.Datetime.now(), regency_tz(self.env))
        return {
            "doc_ids": docids,
            "doc_model": "sms_center.data.request",
            "docs": requests,
            "citizen_lang": lang,
            "sections": {
                request.id: request.with_context(lang=lang)._export_sections()
                for request in requests
            },
            "printed_at": printed_at.strftime("%Y-%m-%d %H:%M"),
        }
