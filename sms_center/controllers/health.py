"""Monitoring endpoint for Zabbix, Nagios, Prometheus... (R14, R19).

``GET /sms_center/health`` answers the report of ``sms_center.health`` as
JSON: **200** when no alert condition holds, **503** when one does, so that
a plain HTTP check of any monitoring tool alerts on it.
``?format=prometheus`` answers the same figures in the Prometheus text
exposition format, always with 200: Prometheus discards every sample of a
scrape answered with another status, and the alert state is in the metrics
(``sms_center_healthy``, ``sms_center_alert``).

The caller presents the monitoring token (SMS Center settings) as
``Authorization: Bearer <token>`` or as the ``token`` query parameter (which
then appears in the access logs of Odoo and of any proxy: prefer the
header). A missing or wrong token gets the same 403 answer; the comparison
takes constant time. The route has no Odoo session (``auth="none"``) and a
read-only cursor: it reads and never writes.
"""

import hmac
import json
import secrets

from odoo import SUPERUSER_ID, http
from odoo.http import request

from ..lib import prometheus
from ..models.sms_center_settings_mixin import HEALTH_PATH, HEALTH_TOKEN_PARAM

TEXT_PLAIN = "text/plain; charset=utf-8"
NO_STORE = [("Cache-Control", "no-store")]


class SmsCenterHealth(http.Controller):
    @http.route(
        HEALTH_PATH,
        type="http",
        auth="none",
        methods=["GET", "HEAD"],
        csrf=False,
        save_session=False,
        readonly=True,
    )
    def sms_center_health(self, **params):
        # The route has no user: the report is read as the system, after the
        # token check, and holds no personal data.
        env = request.env(user=SUPERUSER_ID)
        if not self._token_ok(env, params.get("token")):
            return request.make_response(
                "Forbidden\n", [("Content-Type", TEXT_PLAIN), *NO_STORE], status=403
            )
        output = params.get("format") or "json"
        if output not in ("json", "prometheus"):
            return request.make_response(
                "format must be json or prometheus\n",
                [("Content-Type", TEXT_PLAIN), *NO_STORE],
                status=400,
            )
        Health = env["sms_center.health"]
        report = Health._health_report()
        if output == "prometheus":
            return request.make_response(
                Health._health_prometheus(report),
                [("Content-Type", prometheus.CONTENT_TYPE), *NO_STORE],
                status=200,
            )
        return request.make_response(
            json.dumps(report, indent=1),
            [("Content-Type", "application/json"), *NO_STORE],
            status=503 if report["alerts"] else 200,
        )

    def _token_ok(self, env, query_token):
        presented = query_token or ""
        authorization = request.httprequest.headers.get("Authorization", "")
        scheme, _sep, credentials = authorization.partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            presented = credentials.strip()
        expected = env["ir.config_parameter"].get_param(HEALTH_TOKEN_PARAM) or ""
        # Without a configured token nothing matches, in the same time.
        valid = bool(expected)
        expected = expected or secrets.token_urlsafe(32)
        same = hmac.compare_digest(expected.encode(), presented.encode())
        return valid and same
