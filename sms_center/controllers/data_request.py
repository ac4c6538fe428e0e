from werkzeug.exceptions import NotFound

from odoo import http
from odoo.exceptions import AccessError
from odoo.http import content_disposition, request


class SmsCenterDataRequest(http.Controller):
    @http.route(
        "/sms_center/data_request/<int:request_id>/csv",
        type="http",
        auth="user",
        methods=["GET"],
        readonly=False,
    )
    def data_request_csv(self, request_id, **_kwargs):
        """CSV of everything held for a request's number (data protection
        officers only; every download is written in the request's history)."""
        data_request = (
            request.env["sms_center.data.request"].browse(request_id).exists()
        )
        if not data_request:
            raise NotFound()
        try:
            data_request.check_access("read")
            data = data_request._export_csv()
        except AccessError as exc:
            raise NotFound() from exc
        return request.make_response(
            data.encode("utf-8"),
            headers=[
                ("Content-Type", "text/csv; charset=utf-8"),
                (
                    "Content-Disposition",
                    content_disposition(data_request._export_filename("csv")),
                ),
                ("Cache-Control", "no-store"),
            ],
        )
