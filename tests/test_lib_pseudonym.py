"""Pseudonyms and numbers in free text (pure functions, no database)."""

import hashlib
import hmac

import pytest
from smslib import phone, pseudonym


@pytest.mark.parametrize("key_size", [16, 32, 64, 100])
def test_pads_compute_hmac_sha256(key_size):
    key = bytes(range(key_size % 256)) * (key_size // 256 + 1)
    key = key[:key_size] or b"k"
    inner, outer = pseudonym.hmac_pads(key)
    value = "+6281298765432"
    expected = hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
    assert pseudonym.pseudonym_from_pads(inner, outer, value) == (
        "psn:" + expected[:24]
    )


def test_pseudonym_is_stable_per_number_and_secret():
    inner, outer = pseudonym.hmac_pads(pseudonym.new_key())
    first = pseudonym.pseudonym_from_pads(inner, outer, "+6281298765432")
    assert first == pseudonym.pseudonym_from_pads(inner, outer, "+6281298765432")
    assert first != pseudonym.pseudonym_from_pads(inner, outer, "+6281298765433")
    other_inner, other_outer = pseudonym.hmac_pads(pseudonym.new_key())
    assert first != pseudonym.pseudonym_from_pads(
        other_inner, other_outer, "+6281298765432"
    )
    assert pseudonym.is_pseudonym(first)
    assert not pseudonym.is_pseudonym("+6281298765432")
    assert not pseudonym.is_pseudonym(False)


@pytest.mark.parametrize(
    "written",
    [
        "+6281298765432",
        "+62 812-9876-5432",
        "6281298765432",
        "081298765432",
        "0812 9876 5432",
        "(0812) 98765432",
        "0812.9876.5432",
        "81298765432",
        "0062 812 9876 5432",
    ],
)
def test_a_number_is_found_in_every_usual_form(written):
    text = f"Gagal kirim ke {written}, coba lagi."
    assert phone.mask_in_text(text, ["+6281298765432"]) == (
        "Gagal kirim ke 0812****432, coba lagi."
    )


def test_other_numbers_and_longer_digit_runs_are_left_alone():
    text = "Ref 1081298765432, kode 081298765433, NIK 3304081298765432."
    assert phone.mask_in_text(text, ["+6281298765432"]) == text
    assert phone.mask_in_text("", ["+6281298765432"]) == ""
    assert phone.mask_in_text(False, ["+6281298765432"]) is False


def test_any_number_is_masked_in_old_gateway_errors():
    text = (
        'HTTP 400: {"error": "The To number +6281298765432 is invalid"}; '
        "retry 0813-3333-4444 at 12:30 on 2024-05-01, code 21211"
    )
    masked = phone.mask_any_number_in_text(text)
    assert "81298765432" not in masked
    assert "3333" not in masked
    assert "0812****432" in masked and "0813****444" in masked
    assert "12:30 on 2024-05-01, code 21211" in masked
    assert phone.mask_any_number_in_text(masked) == masked
