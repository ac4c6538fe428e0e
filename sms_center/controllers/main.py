from odoo import http
from odoo.http import request


class SmsCenterPublic(http.Controller):
    @http.route("/sms/keywords", type="http", auth="public", website=True, sitemap=True)
    def keywords(self, **kwargs):
        """Public list of keywords, linked from the unknown-keyword reply (R4):
        which number to write to, each keyword with its aliases."""
        # sudo: keywords are public information; only active ones are shown.
        keywords = request.env["sms_center.keyword"].sudo().search([])
        numbers = request.env["sms_center.gateway"]._public_receiving_numbers()
        return request.render(
            "sms_center.public_keywords",
            {
                "keywords": keywords,
                "numbers": numbers,
                "example": (keywords[:1].name or "DINKES"),
            },
        )
