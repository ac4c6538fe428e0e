"""GSM 03.38 alphabet helpers: encoding detection and SMS part counting.

Odoo-free so that the composer, the auto-reply builder and the gateway
drivers all count characters and parts the same way.
"""

from dataclasses import dataclass

# GSM 03.38 basic character set (one septet each).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Extension table: each costs an escape septet plus the character.
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")

GSM7_SINGLE_LIMIT = 160
GSM7_PART_LIMIT = 153
UCS2_SINGLE_LIMIT = 70
UCS2_PART_LIMIT = 67


@dataclass(frozen=True)
class SmsLength:
    """How a text travels as SMS."""

    encoding: str  # "gsm7" or "ucs2"
    units: int  # septets (gsm7) or UTF-16 code units (ucs2)
    parts: int

    @property
    def per_part(self):
        if self.encoding == "gsm7":
            return GSM7_SINGLE_LIMIT if self.parts <= 1 else GSM7_PART_LIMIT
        return UCS2_SINGLE_LIMIT if self.parts <= 1 else UCS2_PART_LIMIT


def is_gsm7(text):
    """True when every character of ``text`` exists in the GSM-7 alphabet."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text or "")


def gsm7_units(text):
    """Septets needed for ``text`` (extension characters count twice)."""
    return sum(2 if ch in GSM7_EXTENDED else 1 for ch in text or "")


def ucs2_units(text):
    """UTF-16 code units: characters outside the BMP (emoji) count twice."""
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in text or "")


def measure(text):
    """Return the :class:`SmsLength` of ``text`` (empty text is one part)."""
    text = text or ""
    if is_gsm7(text):
        units = gsm7_units(text)
        single, multi, encoding = GSM7_SINGLE_LIMIT, GSM7_PART_LIMIT, "gsm7"
    else:
        units = ucs2_units(text)
        single, multi, encoding = UCS2_SINGLE_LIMIT, UCS2_PART_LIMIT, "ucs2"
    parts = 1 if units <= single else -(-units // multi)
    return SmsLength(encoding=encoding, units=units, parts=parts)


def fits_one_sms(text):
    return measure(text).parts == 1


def first_fitting(candidates):
    """The first of ``candidates`` (most informative first) that fits one SMS,
    else the last one, whole: a text cut short could cut a web address."""
    for candidate in candidates:
        if fits_one_sms(candidate):
            return candidate
    return candidates[-1]


def count_parts(text):
    """Compatibility helper: ``(encoding, units, parts)``."""
    length = measure(text)
    return length.encoding, length.units, length.parts
