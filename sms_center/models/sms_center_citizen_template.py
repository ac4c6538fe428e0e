from datetime import datetime, timedelta

import babel.dates
import pytz

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools.misc import babel_locale_parse

from ..lib import citizen_text, gsm
from ..tools.deadline import regency_tz

# kind: (placeholders allowed, placeholders required)
TEMPLATE_PLACEHOLDERS = {
    "receipt": (("unit", "keyword", "reference", "deadline"), ("reference",)),
    "status": (("tickets",), ("tickets",)),
    "status_not_found": (("reference",), ()),
    "status_none": ((), ()),
    "info": (("keywords", "url"), ()),
}
# Typical values the texts must leave room for (the unit's name is
# shortened further when needed; see lib/citizen_text.py).
SAMPLE_UNIT = "Dinas Contoh"
SAMPLE_KEYWORD = "KATAKUNCI"
SAMPLE_REFERENCE = "D12345"


class SmsCenterCitizenTemplate(models.Model):
    """The wording of an automatic SMS to citizens, one text per language.

    The text is a translated field: each language has its own, edited with
    Odoo's translation button; the SMS goes out in the language of the
    setting *Language of SMS to citizens*. Every text must fit one SMS with
    typical values; the values that vary (a unit's name, a list, an answer)
    are shortened to fit when the SMS is built.
    """

    _name = "sms_center.citizen.template"
    _description = "SMS text to citizens"
    _order = "sequence, id"

    name = fields.Char(string="SMS", required=True, translate=True, readonly=True)
    kind = fields.Selection(
        [
            ("receipt", "Receipt of a new SMS"),
            ("status", "Status (CEK)"),
            ("status_not_found", "Status: code not found (CEK)"),
            ("status_none", "Status: no SMS yet (CEK)"),
            ("info", "Service information (INFO)"),
        ],
        required=True,
        readonly=True,
    )
    sequence = fields.Integer(default=10)
    body = fields.Text(
        string="Text",
        required=True,
        translate=True,
        help="Wording of the SMS in this language. Placeholders in braces are "
        "replaced when the SMS is sent.",
    )
    placeholder_help = fields.Char(
        string="Placeholders", compute="_compute_placeholder_help"
    )
    preview = fields.Text(compute="_compute_preview")
    preview_length = fields.Char(string="Length", compute="_compute_preview")

    _sql_constraints = [
        ("kind_uniq", "unique(kind)", "There is one text of each kind."),
    ]

    @api.depends("kind")
    def _compute_placeholder_help(self):
        descriptions = self._placeholder_descriptions()
        for template in self:
            allowed, required = TEMPLATE_PLACEHOLDERS.get(template.kind, ((), ()))
            parts = [
                f"{{{name}}} {descriptions[name]}"
                + (self.env._(" (required)") if name in required else "")
                for name in allowed
            ]
            template.placeholder_help = "; ".join(parts) or self.env._("None")

    @api.model
    def _placeholder_descriptions(self):
        return {
            "unit": self.env._("the unit's name, shortened when needed"),
            "keyword": self.env._("the keyword"),
            "reference": self.env._("the SMS code, e.g. D482"),
            "deadline": self.env._("when the answer is due"),
            "tickets": self.env._("the citizen's latest SMS and their status"),
            "keywords": self.env._("a few keywords"),
            "url": self.env._("the public keyword list address"),
        }

    @api.depends("body", "kind")
    def _compute_preview(self):
        for template in self:
            text = template._render_sample()
            if text is None:
                template.preview = template.body
                template.preview_length = self.env._("Does not fit one SMS")
                continue
            length = gsm.measure(text)
            template.preview = text
            template.preview_length = self.env._(
                "%(chars)s of %(limit)s characters (%(encoding)s)",
                chars=length.units,
                limit=gsm.GSM7_SINGLE_LIMIT
                if length.encoding == "gsm7"
                else gsm.UCS2_SINGLE_LIMIT,
                encoding="GSM-7" if length.encoding == "gsm7" else "Unicode",
            )

    # ------------------------------------------------------------------
    # Checks
    # ------------------------------------------------------------------

    @api.constrains("body", "kind")
    def _check_body(self):
        for template in self:
            allowed, required = TEMPLATE_PLACEHOLDERS[template.kind]
            used = citizen_text.placeholders(template.body)
            unknown = citizen_text.braced(template.body) - set(allowed)
            if unknown:
                raise ValidationError(
                    self.env._(
                        "Unknown placeholder(s) %(unknown)s in the SMS text "
                        "%(name)s. Allowed: %(allowed)s.",
                        unknown=", ".join(f"{{{p}}}" for p in sorted(unknown)),
                        name=template.name,
                        allowed=", ".join(f"{{{p}}}" for p in allowed)
                        or self.env._("none"),
                    )
                )
            missing = set(required) - used
            if missing:
                raise ValidationError(
                    self.env._(
                        "The SMS text %(name)s must contain %(missing)s.",
                        name=template.name,
                        missing=", ".join(f"{{{p}}}" for p in sorted(missing)),
                    )
                )
            if template._render_sample() is None:
                raise ValidationError(template._too_long_message())

    def _too_long_message(self):
        self.ensure_one()
        sample = citizen_text.render(self.body, self._sample_values())
        length = gsm.measure(sample)
        odd = sorted({c for c in self.body if not gsm.is_gsm7(c)})
        message = self.env._(
            "The SMS text %(name)s does not fit one SMS with typical values: "
            "%(chars)s characters, at most %(limit)s. Shorten it.",
            name=self.name,
            chars=length.units,
            limit=gsm.GSM7_SINGLE_LIMIT
            if length.encoding == "gsm7"
            else gsm.UCS2_SINGLE_LIMIT,
        )
        if odd:
            message += " " + self.env._(
                "These characters need Unicode, which leaves 70 characters per "
                "SMS instead of 160: %(chars)s",
                chars=" ".join(odd),
            )
        return message

    def _sample_values(self):
        """Typical values in the language of ``self.env`` (the longest
        deadline wording of the week, a minimal list)."""
        self.ensure_one()
        now = fields.Datetime.now()
        deadlines = [
            self._format_deadline(now + timedelta(days=days, hours=hours), now)
            for days in range(8)
            for hours in (0, 1)
        ]
        values = {
            "unit": SAMPLE_UNIT,
            "keyword": SAMPLE_KEYWORD,
            "reference": SAMPLE_REFERENCE,
            "deadline": max(deadlines, key=len),
            "keywords": SAMPLE_KEYWORD,
            "url": self.env["sms_center.message"]._public_keywords_url(),
        }
        if self.kind == "status":
            values["tickets"] = self._sample_status_item()
        return values

    def _sample_status_item(self):
        return self.env["sms_center.message"]._format_status_item(
            SAMPLE_REFERENCE, "", "", "", self.env._("awaiting answer"), level=3
        )

    def _render_sample(self):
        self.ensure_one()
        if not self.body or not self.kind:
            return None
        return citizen_text.fit_one_sms(self.body, self._sample_values(), shrink="unit")

    # ------------------------------------------------------------------
    # Use
    # ------------------------------------------------------------------

    @api.model
    def _get_body(self, kind, lang):
        """The text of ``kind`` in ``lang``, or ``""`` if it was removed."""
        # sudo: the texts are configuration read by the gateways' routing.
        template = (
            self.sudo().with_context(lang=lang).search([("kind", "=", kind)], limit=1)
        )
        return template.body or ""

    @api.model
    def _locale(self):
        return babel_locale_parse(self.env.lang or "en_US")

    @api.model
    def _local(self, moment):
        return pytz.utc.localize(moment).astimezone(regency_tz(self.env))

    @api.model
    def _format_time(self, moment):
        """Time of day of a UTC moment, in the regency (``15.20`` in id)."""
        # GSM-7 only: some locales put a narrow no-break space before "PM",
        # which would turn the whole SMS into Unicode (70 characters).
        return citizen_text.to_gsm7(
            babel.dates.format_time(self._local(moment), "short", locale=self._locale())
        )

    @api.model
    def _format_day(self, moment, now=None):
        """Day of a UTC moment in the regency: ``2 Mar`` (``2 Mar 2025``
        in another year)."""
        local = self._local(moment)
        this_year = self._local(now or fields.Datetime.now()).year
        pattern = "d MMM" if local.year == this_year else "d MMM yyyy"
        return citizen_text.to_gsm7(
            babel.dates.format_date(local, pattern, locale=self._locale())
        )

    @api.model
    def _format_deadline(self, deadline, now=None):
        """When an answer is due, as a citizen reads it now: ``15:20 today``,
        ``09:00 tomorrow``, ``Monday 2 Mar 10:00`` (in Indonesian ``pukul
        15.20``, ``besok pukul 09.00``, ``Senin 2 Mar pukul 10.00``)."""
        now = now or fields.Datetime.now()
        local, local_now = self._local(deadline), self._local(now)
        time_text = self._format_time(deadline)
        days = (local.date() - local_now.date()).days
        if days == 0:
            return self.env._("%(time)s today", time=time_text)
        if days == 1:
            return self.env._("%(time)s tomorrow", time=time_text)
        day = citizen_text.to_gsm7(
            babel.dates.format_date(
                datetime.combine(local.date(), datetime.min.time()),
                "EEEE d MMM",
                locale=self._locale(),
            )
        )
        return self.env._("%(day)s %(time)s", day=day, time=time_text)
