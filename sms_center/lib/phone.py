"""Classify and normalize SMS sender numbers (Indonesia by default).

Gateways hand us senders as ``+6281234567890``, ``6281234567890``,
``081234567890``, ``0812-3456-7890``, short codes (``3636``) or
alphanumeric sender IDs (``TELKOMSEL``). Only real mobile/fixed numbers
can receive replies; everything else is kept but never answered.
"""

import functools
import re
from dataclasses import dataclass

import phonenumbers

DEFAULT_REGION = "ID"
SHORT_CODE_MAX_DIGITS = 6

KIND_NUMBER = "number"
KIND_SHORT_CODE = "short_code"
KIND_ALPHANUMERIC = "alphanumeric"
KIND_INVALID = "invalid"

_DIGITS_ONLY = re.compile(r"[\s\-().]")


@dataclass(frozen=True)
class Sender:
    raw: str
    kind: str
    e164: str | None  # set only for KIND_NUMBER

    @property
    def can_receive_reply(self):
        return self.kind == KIND_NUMBER


def to_e164(number, region=DEFAULT_REGION):
    """E.164 form of ``number`` or ``None`` when it is not a valid number.

    ``62812...`` (international without ``+``) is accepted as well as the
    national ``0812...`` and ``+62 812-...`` forms.
    """
    if not number:
        return None
    cleaned = _DIGITS_ONLY.sub("", str(number).strip())
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    candidates = [cleaned]
    if cleaned.isdigit() and not cleaned.startswith("0"):
        # "6281234..." is international without the plus sign.
        candidates.insert(0, "+" + cleaned)
    for candidate in candidates:
        try:
            parsed = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return phonenumbers.format_number(
                parsed, phonenumbers.PhoneNumberFormat.E164
            )
    return None


def classify(raw, region=DEFAULT_REGION):
    """Return a :class:`Sender` for a raw sender string."""
    raw = (raw or "").strip()
    cleaned = _DIGITS_ONLY.sub("", raw)
    if not cleaned:
        return Sender(raw, KIND_INVALID, None)
    digits = cleaned.lstrip("+")
    if digits.isdigit():
        if len(digits) <= SHORT_CODE_MAX_DIGITS:
            return Sender(raw, KIND_SHORT_CODE, None)
        e164 = to_e164(cleaned, region)
        return Sender(raw, KIND_NUMBER if e164 else KIND_INVALID, e164)
    if re.fullmatch(r"[A-Za-z0-9 .&_\-]{1,16}", raw) and re.search("[A-Za-z]", raw):
        return Sender(raw, KIND_ALPHANUMERIC, None)
    return Sender(raw, KIND_INVALID, None)


def mask(number):
    """Mask a number for publication: ``+6281234567890`` -> ``0812****890``."""
    if not number:
        return ""
    national = number
    try:
        parsed = phonenumbers.parse(number, DEFAULT_REGION)
        if parsed.country_code == 62:
            national = "0" + str(parsed.national_number)
    except phonenumbers.NumberParseException:
        national = number
    if len(national) <= 7:
        return national[:2] + "****"
    # A fixed number of stars hides the length of the number as well.
    return national[:4] + "****" + national[-3:]


@dataclass(frozen=True)
class NumberList:
    """A list of numbers and number blocks, e.g. the simulator's test numbers.

    Written by administrators as ``0812-9999-0001, +62 812 9999 1*``: entries
    separated by commas, semicolons or new lines; an entry ending with ``*``
    stands for every number starting with it. Numbers are compared in E.164.
    """

    numbers: frozenset = frozenset()
    prefixes: tuple = ()

    @classmethod
    def parse(cls, text, region=DEFAULT_REGION):
        """Parse ``text``; raise ``ValueError`` naming the first bad entry."""
        numbers, prefixes = set(), []
        for entry in re.split(r"[,;\n]+", text or ""):
            entry = entry.strip()
            if not entry:
                continue
            if entry.endswith("*"):
                prefix = _prefix_e164(entry[:-1], region)
                if not prefix:
                    raise ValueError(entry)
                prefixes.append(prefix)
                continue
            e164 = to_e164(entry, region)
            if not e164:
                raise ValueError(entry)
            numbers.add(e164)
        return cls(frozenset(numbers), tuple(sorted(set(prefixes))))

    def __contains__(self, e164):
        if not e164:
            return False
        return e164 in self.numbers or e164.startswith(self.prefixes or ("\0",))

    def __bool__(self):
        return bool(self.numbers or self.prefixes)

    def __or__(self, other):
        return NumberList(
            self.numbers | other.numbers,
            tuple(sorted(set(self.prefixes) | set(other.prefixes))),
        )


def _prefix_e164(prefix, region=DEFAULT_REGION):
    """``0812-9999`` -> ``+628129999``; None when it is no number's start.

    At least 6 digits (country code and operator) so that a typo cannot
    cover a whole country.
    """
    cleaned = _DIGITS_ONLY.sub("", prefix.strip())
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    digits = cleaned.lstrip("+")
    if not digits.isdigit() or cleaned.count("+") > 1:
        return None
    if cleaned.startswith("+"):
        e164 = cleaned
    elif digits.startswith("0"):
        code = phonenumbers.country_code_for_region(region)
        e164 = f"+{code}{digits[1:]}"
    else:
        e164 = "+" + digits
    return e164 if len(e164) - 1 >= 6 else None


# Separators people and gateways put inside a written number.
_SEP = r"[\s.\-()]*"
# Any number worth hiding in free text: an Indonesian mobile number in its
# national or international form, or any international number with "+".
_ANY_NUMBER = re.compile(
    r"(?<![\d+])(?:"
    r"(?:(?:\+|00)" + _SEP + r"62|62|0)" + _SEP + r"8(?:" + _SEP + r"\d){7,11}"
    r"|\+" + _SEP + r"[1-9](?:" + _SEP + r"\d){7,14}"
    r")(?!\d)"
)


@functools.lru_cache(maxsize=4096)
def _parts(e164):
    """``(country code, national number)`` digits of ``e164``, or None."""
    try:
        parsed = phonenumbers.parse(e164, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    return str(parsed.country_code), str(parsed.national_number)


@functools.lru_cache(maxsize=4096)
def text_pattern(e164):
    """Regular expression finding ``e164`` in free text, in the forms it is
    usually written: ``+62 812-3456-7890``, ``6281234567890``,
    ``0812 3456 7890``, ``(0812) 34567890``, ``81234567890``."""
    parts = _parts(e164)
    if not parts:
        return None
    country, national = parts
    prefix = rf"(?:(?:(?:\+|00){_SEP})?{_SEP.join(country)}|0){_SEP}"
    digits = _SEP.join(national)
    return re.compile(rf"(?<![\d+])\(?(?:{prefix})?{digits}(?!\d)")


def mask_in_text(text, numbers):
    """``text`` with every occurrence of the E.164 ``numbers`` masked."""
    if not text:
        return text
    # Only the numbers whose digits the text holds are looked for.
    digits = re.sub(r"\D", "", text)
    for number in numbers:
        parts = _parts(number)
        if not parts or parts[1] not in digits:
            continue
        text = text_pattern(number).sub(lambda _m, n=number: mask(n), text)
    return text


def mask_any_number_in_text(text):
    """``text`` with anything that looks like a phone number masked (old
    gateway errors, whose numbers are not known one by one)."""
    if not text:
        return text

    def _mask(match):
        written = match.group(0)
        e164 = to_e164(written)
        if e164:
            return mask(e164)
        digits = re.sub(r"\D", "", written)
        return mask(digits)

    return _ANY_NUMBER.sub(_mask, text)
