"""Short references citizens type on a phone keypad: ``D482``, ``W0917``.

A reference is one letter and digits. The letter is the first one of a
phone key (A D G J M P T W on keys 2 to 9): one press in multi-tap, never
mistaken for a digit (no O, I, L, S, Z). The first 8,000 references have
three digits, the next 80,000 four, and so on: references stay as short as
the number of tickets allows.

References are unique and not guessable from one another. The n-th SMS
ticket (a PostgreSQL sequence: never the same n twice, no lock between
concurrent routers) is mapped through a keyed pseudo-random permutation of
its length class (a Feistel network on HMAC-SHA256 with the database's own
secret key, cycle-walking into the class's size). The mapping is a
bijection, so no two tickets share a reference and no uniqueness retry is
needed; without the key, the references of other tickets say nothing about
the next one or about their order.
"""

import hashlib
import hmac
import re

#: First letter of the keys 2-9 of a phone keypad.
LETTERS = "ADGJMPTW"
FIRST_DIGITS = 3
MAX_DIGITS = 12
ROUNDS = 8

_TYPED_JUNK = re.compile(r"[\s#.:,;\-_/*+=|!?\"'()]+")
_REFERENCE = re.compile(rf"[A-Z][0-9]{{{FIRST_DIGITS},{MAX_DIGITS}}}")


def class_size(digits):
    """How many references of ``digits`` digits exist."""
    return len(LETTERS) * 10**digits


def length_class(index):
    """``(digits, index within the class)`` of the ``index``-th reference
    (0-based): classes of 3, 4, 5... digits follow one another."""
    if index < 0:
        raise ValueError("reference index must be >= 0")
    digits = FIRST_DIGITS
    while index >= class_size(digits):
        index -= class_size(digits)
        digits += 1
        if digits > MAX_DIGITS:
            raise ValueError("reference index out of range")
    return digits, index


def _round_value(key, digits, round_no, value, mask):
    digest = hmac.new(
        key, f"{digits}:{round_no}:{value}".encode(), hashlib.sha256
    ).digest()
    return int.from_bytes(digest[:8], "big") & mask


def permute(key, digits, value):
    """Keyed permutation of ``range(class_size(digits))``."""
    size = class_size(digits)
    if not 0 <= value < size:
        raise ValueError("value outside the length class")
    bits = max(2, (size - 1).bit_length())
    bits += bits % 2  # a balanced Feistel network needs two equal halves
    half = bits // 2
    mask = (1 << half) - 1
    # Cycle-walking: a permutation of the 2**bits values, applied again
    # until it lands inside the class; ends because ``value`` is inside.
    while True:
        left, right = value >> half, value & mask
        for round_no in range(ROUNDS):
            left, right = (
                right,
                left ^ _round_value(key, digits, round_no, right, mask),
            )
        value = (left << half) | right
        if value < size:
            return value


def format_reference(digits, value):
    """``value`` of a length class as letter + zero-padded digits."""
    letter, number = divmod(value, 10**digits)
    return f"{LETTERS[letter]}{number:0{digits}d}"


def reference_for(key, counter):
    """Reference of the ``counter``-th ticket (``counter`` >= 1)."""
    if isinstance(key, str):
        key = key.encode()
    digits, index = length_class(counter - 1)
    return format_reference(digits, permute(key, digits, index))


def normalize(typed):
    """Reference as typed by a citizen (``#d482``, ``D 482``, ``d-482``) in
    canonical form, or ``""`` when it cannot be a reference."""
    candidate = _TYPED_JUNK.sub("", (typed or "").upper())
    return candidate if _REFERENCE.fullmatch(candidate) else ""


def is_reference(text):
    """True when ``text`` is a reference in canonical form."""
    return bool(_REFERENCE.fullmatch(text or ""))
