"""Mask personal data in texts before they are published (R12, UU 27/2022).

Citizens write their NIK, phone numbers, e-mail addresses and bank account
numbers into SMS, and officers sometimes repeat them in answers. The public
"SMS Masyarakat" pages show a masked rendering; the stored originals never
change (Pasal 11 huruf e).

* NIK / KK number (16 digits): ``3304011234560012`` -> ``3304**********12``
* phone number (Indonesian mobile or fixed, national or international form):
  ``0812-3456-7890`` / ``+6281234567890`` -> ``0812****890``
* e-mail address: ``andi.wijaya@gmail.com`` -> ``a***@gmail.com``
* any other run of 10 or more digits (bank account, NPWP, card numbers):
  ``1234567890`` -> ``****890``

Digits may be grouped with spaces, dots or hyphens (``0812 3456 7890``,
``3304.0112.3456.0012``). Amounts are left alone: digits after ``Rp`` and
thousands-grouped numbers such as ``1.500.000``. Shorter numbers (dates,
times, house numbers, RT/RW) are not personal data and stay as they are.

Also here: the accent folding and the search-term parsing of the public
search, so that the indexed text and the query are folded the same way.
"""

import re
import unicodedata

# --- e-mail addresses ----------------------------------------------------
_EMAIL = re.compile(
    r"(?<![\w.+-])([\w.+-]+)@([A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,})"
)

# --- phone numbers ---------------------------------------------------------
# Mobile numbers in any usual grouping, trailing pairs included
# ("0812 3456 78 90", "+62 812-3456-7890"); checked for length afterwards.
_PHONE = re.compile(
    r"(?<![\d+])((?:\+62|62|0)[ .\-]?\(?8\d{1,3}\)?(?:[ .\-]?\d{2,4}){1,4})(?!\d)"
)
# NPWP (tax number): 12.345.678.9-012.000
_NPWP = re.compile(r"(?<!\d)\d{2}\.\d{3}\.\d{3}\.\d-\d{3}\.\d{3}(?!\d)")

# --- long numbers --------------------------------------------------------
# Digits, then more groups of at least 3 digits, each after an optional
# space, dot or hyphen ("0812-3456-7890", "+62 812 3456 7890",
# "(0286) 591234", "3304.0112.3456.0012"). Groups of 1 or 2 digits end a
# number, so that dates and times next to each other ("12-03-2024 08.30")
# never join into one long number. Not glued to other digits.
_NUMBER = re.compile(r"(?<![\d+])(\+?\(?\d+\)?(?:[ .\-]?\d{3,})*)(?!\d)")
_AMOUNT_PREFIX = re.compile(r"(?:rp|idr)\.?\s*$", re.IGNORECASE)
# 1.500.000 / 1,500,000 / 12 500 000: thousands-grouped amounts, not IDs.
_THOUSANDS = re.compile(r"\d{1,3}(?:([.,])\d{3})(?:\1\d{3})*")

MIN_SECRET_DIGITS = 10
NIK_DIGITS = 16
STARS = "****"


def _national_phone(digits, had_plus):
    """National form ``0...`` of an Indonesian phone number, or None."""
    if digits.startswith("62") and (had_plus or digits[2:3] == "8"):
        national = "0" + digits[2:]
    elif digits.startswith("0") and not digits.startswith("00"):
        national = digits
    else:
        return None
    # Mobile 08xx: 10 to 13 digits; fixed lines 0[2-7]xx: 9 to 12 digits
    # (we mask from 9 digits: a shorter number is not callable anyway).
    if national.startswith("08"):
        return national if 9 <= len(national) <= 13 else None
    if national[1:2] in "234567":
        return national if 9 <= len(national) <= 12 else None
    return None


def mask_phone(national):
    """``081234567890`` -> ``0812****890`` (a fixed number of stars also
    hides the length of the number)."""
    return national[:4] + STARS + national[-3:]


def _mask_number(match, text):
    token = match.group(1)
    had_plus = token.startswith("+")
    digits = re.sub(r"\D", "", token)
    before = text[: match.start(1)]
    if _AMOUNT_PREFIX.search(before):
        return token
    national = _national_phone(digits, had_plus)
    if national:
        return mask_phone(national)
    if _THOUSANDS.fullmatch(token):
        return token
    if len(digits) < MIN_SECRET_DIGITS:
        return token
    if len(digits) == NIK_DIGITS:
        return digits[:4] + "*" * 10 + digits[-2:]
    return STARS + digits[-3:]


def _mask_phone_match(match):
    token = match.group(1)
    national = _national_phone(re.sub(r"\D", "", token), token.startswith("+"))
    return mask_phone(national) if national else token


def _mask_email(match):
    local, domain = match.group(1), match.group(2)
    return f"{local[:1]}***@{domain}"


def mask_personal_data(text):
    """Return ``text`` with NIK, phone, e-mail and account numbers masked."""
    if not text:
        return text or ""
    text = _EMAIL.sub(_mask_email, text)
    text = _NPWP.sub(lambda m: STARS + m.group(0)[-3:], text)
    text = _PHONE.sub(_mask_phone_match, text)
    return _NUMBER.sub(lambda m: _mask_number(m, text), text)


# --- search ----------------------------------------------------------------

MAX_SEARCH_TERMS = 8
MAX_TERM_LENGTH = 40
MAX_QUERY_LENGTH = 200


def fold(text):
    """Lower-case ``text`` without accents: ``Pélayanan`` -> ``pelayanan``."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.casefold()


def search_terms(query):
    """Words to look for in a visitor's search, folded; at most a few.

    Only letters and digits survive, so that the terms can go into a
    PostgreSQL ``tsquery`` without any of its operators.
    """
    if not query:
        return []
    words = re.findall(r"[^\W_]+", fold(str(query)[:MAX_QUERY_LENGTH]))
    terms = []
    for word in words:
        word = word[:MAX_TERM_LENGTH]
        if word not in terms:
            terms.append(word)
        if len(terms) == MAX_SEARCH_TERMS:
            break
    return terms


def words_tsquery(terms):
    """``['jalan', 'rusak']`` -> ``'jalan' & 'rusak'``: every word, whole.

    Whole words, not prefixes: PostgreSQL's GIN index skips through the
    entries of whole words when combining them, but reads every entry of a
    prefix, which makes a search of several common prefixes slow.
    """
    return " & ".join(f"'{term}'" for term in terms)
