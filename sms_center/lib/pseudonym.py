"""Keyed pseudonyms of citizens' numbers (UU 27/2022, storage limitation).

A pseudonym is ``psn:`` followed by the first 24 hexadecimal digits of
HMAC-SHA256(secret, number): the same number always gives the same
pseudonym (repeat senders can still be counted), and nobody without the
database's secret can tell which number it stands for.

The secret lives in PostgreSQL only (table ``sms_center_pseudonym_secret``,
see ``tools/pseudonym.py``), as the two HMAC pads derived from a random key,
so that the database itself computes pseudonyms (``sms_center_pseudonym()``)
and its trigger can check that a stored number is only ever replaced by its
own pseudonym. :func:`hmac_pads` and :func:`pseudonym_from_pads` are that
same computation in Python (RFC 2104), used by the tests to prove it.
"""

import hashlib
import secrets

PREFIX = "psn:"
HEX_DIGITS = 24
BLOCK_SIZE = 64  # SHA-256 block size in bytes
KEY_SIZE = 32


def new_key():
    """A fresh random HMAC key."""
    return secrets.token_bytes(KEY_SIZE)


def hmac_pads(key):
    """``(inner, outer)``: the key XOR-ed with HMAC's ipad and opad."""
    if len(key) > BLOCK_SIZE:
        key = hashlib.sha256(key).digest()
    key = key.ljust(BLOCK_SIZE, b"\x00")
    inner = bytes(byte ^ 0x36 for byte in key)
    outer = bytes(byte ^ 0x5C for byte in key)
    return inner, outer


def pseudonym_from_pads(inner, outer, value):
    """The pseudonym of ``value`` (text) for the given pads."""
    inner_hash = hashlib.sha256(inner + value.encode()).digest()
    digest = hashlib.sha256(outer + inner_hash).hexdigest()
    return PREFIX + digest[:HEX_DIGITS]


def is_pseudonym(value):
    """Whether ``value`` is a pseudonym (not a number)."""
    return bool(value) and str(value).startswith(PREFIX)
