from odoo import http
from odoo.http import request


class SmsCenterPublic(http.Controller):
    @http.route("/sms/keywords", type="http", auth="public", website=True, sitemap=True)
    def keywords(self, **kwargs):
        """Public list of keywords, linked from the unknown-keyword reply (R4)."""
        # sudo: keywords are public information; only active ones are shown.
        keywords = request.env["sms_center.keyword"].sudo().search([])
        return request.render("sms_center.public_keywords", {"keywords": keywords})
