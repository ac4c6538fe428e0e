"""SMS texts to citizens that always fit one SMS.

Administrators word the texts as templates with ``{placeholder}`` fields
(``{unit}: SMS Anda diterima dengan kode #{reference}...``). Only the
placeholders named in the template are replaced: a template is never
evaluated (no ``str.format``, whose ``{x.__class__}`` reaches Python
objects). What varies in length (a unit's name, an answer's start) is
shortened to fit: first changed into GSM-7 characters where a close one
exists (one SMS holds 160 GSM-7 characters but only 70 once a single
character needs Unicode), then cut at a word boundary.
"""

import re
import unicodedata

from . import gsm

PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
BRACED = re.compile(r"\{([^{}]*)\}")
ELLIPSIS = "..."

# Characters outside GSM-7 with a close GSM-7 equivalent.
_GSM_EQUIVALENTS = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "`": "'",
    "´": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "«": '"',
    "»": '"',
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2015": "-",
    "\u2212": "-",
    "\u2026": "...",
    "\u00a0": " ",
    "\u2007": " ",
    "\u202f": " ",
    "\t": " ",
    "•": "-",
    "·": ".",
}


def placeholders(template):
    """Names of the ``{placeholders}`` used in ``template``."""
    return set(PLACEHOLDER.findall(template or ""))


def braced(template):
    """Everything written in braces in ``template`` (``{unit}``, but also
    ``{0}`` or ``{unit.name}``), to refuse what is no placeholder."""
    return set(BRACED.findall(template or ""))


def render(template, values):
    """Replace the known ``{placeholders}``; anything else stays as written."""

    def replace(match):
        name = match.group(1)
        return str(values[name]) if name in values else match.group(0)

    return PLACEHOLDER.sub(replace, template or "")


def to_gsm7(text):
    """``text`` with every character outside GSM-7 replaced by a close GSM-7
    one (``–`` → ``-``, ``ā`` → ``a``) or dropped; spaces collapsed."""
    out = []
    for char in text or "":
        if gsm.is_gsm7(char):
            out.append(char)
            continue
        if char in _GSM_EQUIVALENTS:
            out.append(_GSM_EQUIVALENTS[char])
            continue
        base = "".join(
            c
            for c in unicodedata.normalize("NFKD", char)
            if not unicodedata.combining(c)
        )
        if base and gsm.is_gsm7(base):
            out.append(base)
    return " ".join("".join(out).split())


def shorten(text, max_units, gsm7=True):
    """``text`` cut at a word boundary, with ``...``, so that it takes at
    most ``max_units`` (GSM-7 septets or UTF-16 units); ``""`` if even one
    word does not fit."""
    units = gsm.gsm7_units if gsm7 else gsm.ucs2_units
    text = " ".join((text or "").split())
    if units(text) <= max_units:
        return text
    words = text.split(" ")
    while words:
        words.pop()
        candidate = " ".join(words).rstrip(",;:.-(") + ELLIPSIS
        if words and units(candidate) <= max_units:
            return candidate
    return ""


def _room(template, values, name):
    """Units left for ``values[name]`` in one SMS, and whether they count
    in GSM-7 (the rest of the text is GSM-7) or in UCS-2."""
    rest = render(template, dict(values, **{name: ""}))
    count = max(1, PLACEHOLDER.findall(template).count(name))
    if gsm.is_gsm7(rest):
        return (gsm.GSM7_SINGLE_LIMIT - gsm.gsm7_units(rest)) // count, True
    return (gsm.UCS2_SINGLE_LIMIT - gsm.ucs2_units(rest)) // count, False


def fit_one_sms(template, values, shrink=None, fallbacks=()):
    """Render ``template`` in one SMS, or return ``None`` when it cannot.

    ``values[shrink]`` (a unit's name, an answer's start) may be changed to
    make the text fit: into GSM-7 characters, then cut at a word boundary;
    ``fallbacks`` (e.g. the keyword instead of the unit's name) are tried
    before giving up.
    """
    text = render(template, values)
    if gsm.fits_one_sms(text):
        return text
    if not shrink or shrink not in placeholders(template):
        return None
    original = str(values.get(shrink) or "")
    room, gsm7 = _room(template, values, shrink)
    for candidate in (to_gsm7(original), *fallbacks):
        if not candidate:
            continue
        text = render(template, dict(values, **{shrink: candidate}))
        if gsm.fits_one_sms(text):
            return text
        short = shorten(candidate, room, gsm7=gsm7) if room > 0 else ""
        if short:
            text = render(template, dict(values, **{shrink: short}))
            if gsm.fits_one_sms(text):
                return text
    text = render(template, dict(values, **{shrink: ""}))
    return text if gsm.fits_one_sms(text) else None


def cut_to_one_sms(text):
    """Last resort: ``text`` cut to one SMS (never reached by valid
    templates, which are checked when saved)."""
    if gsm.fits_one_sms(text):
        return text
    if gsm.is_gsm7(text):
        return shorten(text, gsm.GSM7_SINGLE_LIMIT) or text[: gsm.GSM7_SINGLE_LIMIT]
    return shorten(text, gsm.UCS2_SINGLE_LIMIT, gsm7=False) or text[:35]
