"""Webhooks of the Kannel and generic HTTP gateways (R14, R15).

``/sms_center/<code>/<token>/inbound`` receives citizens' SMS and
``/sms_center/<code>/<token>/dlr`` delivery reports. The gateway is found by
its code and authenticated by the secret in the path (compared in constant
time), plus the gateway's signature when its settings ask for one. The
routes use ``auth="none"``: a gateway has no Odoo session, and the request
then acts as the system explicitly; ``readonly=False`` because Odoo 18
gives ``auth="none"`` routes a read-only cursor by default.

Answers (gateways retry on anything but 2xx):

* 200: stored (inbound: routed right after by the inbound router, see
  ``sms_center.message.store()``), applied or unknown (delivery report),
  with the gateway's acknowledgement body;
* 400: malformed payload or refused SMS, with the reason as plain text;
* 403: unknown gateway, wrong secret or bad signature, always the same
  answer (no oracle) and nothing stored;
* 411: a chunked body without Content-Length (its size is unknown);
* 413: body larger than :data:`MAX_BODY_BYTES` (answered before the body is
  read, so before the secret is checked);
* 503: unexpected error, or a delivery report for an SMS the outbound worker
  is still handing over; the gateway retries later. Never a 500.

**Acknowledgement after commit.** Odoo runs a request inside
``odoo.service.model.retrying``: the controller builds its response, then
Odoo flushes and COMMITs the transaction, and only then is the response
written to the socket. A 200 therefore always follows the COMMIT; when the
COMMIT fails, Odoo answers an error instead and the gateway retries. The
work is done in a savepoint that is flushed (precommit hooks included)
before the answer is chosen, so that database errors surface here, where
they become a 503, rather than at COMMIT time. PostgreSQL concurrency
errors (serialization failure, deadlock, lock not available) are re-raised
so that ``retrying`` replays the whole request; inbound SMS are idempotent
on the gateway's message id, so a replay stores nothing twice.
"""

import json
import logging
from email.message import Message

from psycopg2.errors import ReadOnlySqlTransaction
from werkzeug.exceptions import LengthRequired, RequestEntityTooLarge

from odoo import SUPERUSER_ID, http
from odoo.exceptions import ValidationError
from odoo.http import request
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY

from ..lib import http_gateway, kannel
from ..lib.dlr import PayloadError

_logger = logging.getLogger(__name__)

#: Largest accepted body. An SMS has at most 255 parts (40,000 characters);
#: the largest legitimate webhook body is a Jasmin form carrying such a text
#: twice (percent-encoded and as hex): about 220 KiB. Kannel's get-url puts
#: the message in the URL instead; the URL is limited by the HTTP servers
#: (64 KiB in Odoo's own server), see the README.
MAX_BODY_BYTES = 256 * 1024

TEXT_PLAIN = "text/plain; charset=utf-8"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class _RetryLater(Exception):
    """Answer 503 without logging an error: the gateway will call again."""


class SmsCenterGatewayWebhooks(http.Controller):
    @http.route(
        "/sms_center/<string:code>/<string:token>/inbound",
        type="http",
        auth="none",
        methods=["GET", "POST"],
        csrf=False,
        save_session=False,
        readonly=False,
        max_content_length=MAX_BODY_BYTES,
    )
    def sms_center_inbound(self, code, token, **_params):
        """A citizen's SMS from a Kannel or HTTP gateway."""
        return self._sms_center_webhook("inbound", code, token)

    @http.route(
        "/sms_center/<string:code>/<string:token>/dlr",
        type="http",
        auth="none",
        methods=["GET", "POST"],
        csrf=False,
        save_session=False,
        readonly=False,
        max_content_length=MAX_BODY_BYTES,
    )
    def sms_center_dlr(self, code, token, **_params):
        """A delivery report from a Kannel or HTTP gateway."""
        return self._sms_center_webhook("dlr", code, token)

    @http.route(
        [
            "/sms_center/<string:code>/inbound",
            "/sms_center/<string:code>/dlr",
        ],
        type="http",
        auth="none",
        methods=["GET", "POST"],
        csrf=False,
        save_session=False,
        max_content_length=MAX_BODY_BYTES,
    )
    def sms_center_no_secret(self, code, **_params):
        """A webhook address without its secret: refused like a wrong one."""
        _logger.warning(
            "SMS webhook refused: no secret for %r from %s",
            code,
            request.httprequest.remote_addr,
        )
        return self._sms_center_answer(403, "Forbidden")

    # ------------------------------------------------------------------

    def _sms_center_webhook(self, kind, code, token):
        # Gateways are not Odoo users: the secret in the path is their
        # credential, and the webhook then acts as the system, like the modem
        # cron does (stores the SMS, routes it, updates delivery statuses).
        # A clean context, as a scheduled action has: the result does not
        # depend on a browser session or language the caller may send.
        env = request.env(user=SUPERUSER_ID, su=True, context={})
        try:
            raw_body = self._sms_center_read_body()
        except RequestEntityTooLarge:
            return self._sms_center_answer(413, "Request body too large")
        except LengthRequired:
            return self._sms_center_answer(411, "Content-Length required")
        gateway = env["sms_center.gateway"]._from_webhook(code, token)
        if not gateway or gateway.gateway_type not in ("kannel", "http"):
            _logger.warning(
                "SMS webhook refused: unknown gateway or wrong secret for %r from %s",
                code,
                request.httprequest.remote_addr,
            )
            return self._sms_center_answer(403, "Forbidden")
        try:
            with env.cr.savepoint():
                if gateway.gateway_type == "kannel":
                    response = self._sms_center_kannel(kind, gateway, raw_body)
                else:
                    response = self._sms_center_http(kind, gateway, raw_body)
                if response.status_code == 200:
                    gateway._note_success()
        except _RetryLater:
            return self._sms_center_answer(503, "SMS still being sent, retry later")
        except PayloadError as exc:
            _logger.info("SMS webhook %s/%s: bad payload: %s", code, kind, exc.reason)
            return self._sms_center_answer(400, exc.reason)
        except ValidationError as exc:
            _logger.info("SMS webhook %s/%s: refused: %s", code, kind, exc.args[0])
            return self._sms_center_answer(400, exc.args[0])
        except (*PG_CONCURRENCY_EXCEPTIONS_TO_RETRY, ReadOnlySqlTransaction):
            # Odoo's request retry rolls back and replays the whole call.
            raise
        except Exception:
            _logger.exception("SMS webhook %s/%s failed", code, kind)
            return self._sms_center_answer(503, "Temporary failure, retry later")
        return response

    def _sms_center_read_body(self):
        """Raw body, at most :data:`MAX_BODY_BYTES` (else RequestEntityTooLarge).

        Forms were already parsed by Odoo under the route's
        ``max_content_length``; their raw body is gone and not needed.
        """
        httprequest = request.httprequest
        length = httprequest.content_length
        if (
            length is None
            and "chunked"
            in (httprequest.headers.get("Transfer-Encoding") or "").lower()
        ):
            # Its size would only be known after reading it all.
            raise LengthRequired()
        if (length or 0) > MAX_BODY_BYTES:
            raise RequestEntityTooLarge()
        if httprequest.mimetype in FORM_TYPES:
            return b""
        return httprequest.get_data(cache=True)

    @staticmethod
    def _sms_center_answer(status, body="", content_type=TEXT_PLAIN):
        return request.make_response(
            body,
            headers=[("Content-Type", content_type), ("Cache-Control", "no-store")],
            status=status,
        )

    # -- Kannel ------------------------------------------------------------

    def _sms_center_kannel(self, kind, gateway, raw_body):
        """Kannel calls get-url/dlr-url with escape codes in the query; with
        post-url the text is the body (charset in the Content-Type)."""
        httprequest = request.httprequest
        params = httprequest.args.to_dict(flat=False)
        if kind == "dlr":
            event = kannel.parse_dlr(params)
            self._sms_center_apply_dlr(gateway, event)
            return self._sms_center_answer(200)
        if httprequest.method == "POST" and not ({"text", "hex"} & set(params)):
            params["hex"] = [raw_body.hex()]
            if not params.get("charset") or not params["charset"][0]:
                header = Message()
                header["Content-Type"] = httprequest.headers.get("Content-Type", "")
                charset = header.get_param("charset")
                if charset:
                    params["charset"] = [str(charset)]
            if not params.get("coding") and httprequest.headers.get("X-Kannel-Coding"):
                params["coding"] = [httprequest.headers["X-Kannel-Coding"]]
            if not params.get("from") and httprequest.headers.get("X-Kannel-From"):
                params["from"] = [httprequest.headers["X-Kannel-From"]]
        sms = kannel.parse_inbound(params)
        self._sms_center_receive(gateway, sms)
        # Empty body: smsbox would send a non-empty answer back to the
        # citizen (max-messages = 0 prevents it anyway).
        return self._sms_center_answer(200)

    # -- generic HTTP ------------------------------------------------------

    def _sms_center_http(self, kind, gateway, raw_body):
        httprequest = request.httprequest
        config = gateway._http_gateway_config()
        query = httprequest.args.to_dict(flat=False)
        if httprequest.mimetype in FORM_TYPES:
            payload = httprequest.form.to_dict(flat=False)
            signed_params = payload
        elif httprequest.mimetype == "application/json" or (
            raw_body.lstrip()[:1] in (b"{", b"[")
        ):
            try:
                payload = json.loads(raw_body)
            except ValueError:
                raise PayloadError("body is not valid JSON") from None
            if not isinstance(payload, dict):
                raise PayloadError("JSON body must be an object")
            signed_params = {}
        else:
            payload, signed_params = {}, {}
        if not self._sms_center_signature_ok(
            gateway, config, kind, signed_params, raw_body
        ):
            _logger.warning(
                "SMS webhook %s/%s refused: bad signature from %s",
                gateway.code,
                kind,
                httprequest.remote_addr,
            )
            return self._sms_center_answer(403, "Forbidden")
        if kind == "dlr":
            event = http_gateway.parse_dlr(config, payload, query)
            self._sms_center_apply_dlr(gateway, event)
            return self._sms_center_answer(
                200, config.dlr_ack_body, config.dlr_ack_content_type
            )
        sms = http_gateway.parse_inbound(config, payload, query)
        self._sms_center_receive(gateway, sms)
        return self._sms_center_answer(
            200, config.inbound_ack_body, config.inbound_ack_content_type
        )

    def _sms_center_signature_ok(self, gateway, config, kind, params, raw_body):
        """Check the gateway's signature, if its settings define one.

        Twilio signs the URL it called: the one Odoo sees (behind a proxy,
        run Odoo with ``--proxy-mode``) or the one Odoo displays for the
        gateway (``web.base.url``); either matches.
        """
        if config.signature_type == "none":
            return True
        httprequest = request.httprequest
        configured = gateway.inbound_url if kind == "inbound" else gateway.dlr_url
        query = httprequest.query_string.decode("latin-1")
        candidates = [
            httprequest.url,
            f"{configured}?{query}" if query else configured,
        ]
        return any(
            http_gateway.verify_signature(
                config, url, params, httprequest.headers, raw_body
            )
            for url in dict.fromkeys(candidates)
        )

    # -- common ------------------------------------------------------------

    def _sms_center_receive(self, gateway, sms):
        # Store only: the inbound router routes it right after the commit,
        # so that the gateway gets its answer at once, even in a flood.
        gateway.env["sms_center.message"].store(
            sms.sender,
            sms.text,
            recipient=sms.recipient,
            received_at=sms.received_at,
            gateway=gateway,
            gateway_message_id=sms.gateway_message_id,
        )

    def _sms_center_apply_dlr(self, gateway, event):
        Sms = gateway.env["sms.sms"].with_context(active_test=False)
        if event.ref and Sms.search_count(
            [
                ("uuid", "=", event.ref),
                ("state", "=", "process"),
                ("sms_center_gateway_id", "=", gateway.id),
            ],
            limit=1,
        ):
            # The worker has not recorded the gateway's answer yet; writing
            # now would collide with it. The gateway delivers the report
            # again a little later.
            raise _RetryLater()
        if not Sms._sms_center_apply_dlr(gateway, event):
            # Acknowledged anyway: a gateway retries a refused report for
            # hours, and an unknown reference never becomes known.
            _logger.info(
                "SMS webhook %s/dlr: nothing to update for ref=%s gateway id=%s (%s)",
                gateway.code,
                event.ref,
                event.gateway_ref,
                event.status,
            )
