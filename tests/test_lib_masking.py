"""Masking of personal data in published texts, and the public search terms."""

import pytest
from smslib.masking import (
    fold,
    mask_personal_data,
    search_terms,
    words_tsquery,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # NIK / KK: 16 digits, first 4 and last 2 kept.
        ("NIK saya 3304011234560012 ya", "NIK saya 3304**********12 ya"),
        ("NIK:3304.0112.3456.0012", "NIK:3304**********12"),
        ("nik3304011234560012", "nik3304**********12"),
        ("KK 3304 0112 3456 0012.", "KK 3304**********12."),
        # Phone numbers: national and international forms, any grouping.
        ("hubungi 081234567890", "hubungi 0812****890"),
        ("hubungi 0812-3456-7890 ya", "hubungi 0812****890 ya"),
        ("WA +62 812 3456 7890", "WA 0812****890"),
        ("6281234567890", "0812****890"),
        ("no 0812 3456 78", "no 0812****678"),
        ("081.234.567.890", "0812****890"),
        ("telp (0286) 591234", "telp 0286****234"),
        ("+62286591234", "0286****234"),
        # E-mail addresses.
        ("email andi.wijaya@gmail.com.", "email a***@gmail.com."),
        ("ke budi_1990@desa.go.id", "ke b***@desa.go.id"),
        # Account numbers and other long numbers.
        ("rek BRI 1234567890123 a.n. Budi", "rek BRI ****123 a.n. Budi"),
        ("BCA 123-456-7890", "BCA ****890"),
        ("npwp 12.345.678.9-012.000", "npwp ****000"),
        # Several at once.
        (
            "NIK 3304011234560012, HP 085712345678, a@b.co",
            "NIK 3304**********12, HP 0857****678, a***@b.co",
        ),
    ],
)
def test_personal_data_is_masked(text, expected):
    assert mask_personal_data(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Rp 2.500.000.000 hilang",
        "dana desa 1.500.000",
        "Rp.1500000000",
        "tgl 12-03-2024 08.30 di RT 03 RW 05",
        "tgl 08-03-2024 08.30",
        "jam 08.30-09.00 antre",
        "tahun 2024 nomor 12",
        "kode pos 53411",
        "sms ke 1500 123",
        "",
        "Jalan rusak di depan SD 2 Wanadadi",
    ],
)
def test_ordinary_numbers_and_text_are_kept(text):
    assert mask_personal_data(text) == text


def test_masking_is_idempotent():
    text = "NIK 3304011234560012 HP 081234567890 mail x.y@gmail.com rek 1234567890"
    once = mask_personal_data(text)
    assert mask_personal_data(once) == once
    assert "3304011234560012" not in once
    assert "1234567890" not in once


def test_none_and_empty():
    assert mask_personal_data(None) == ""
    assert mask_personal_data("") == ""


def test_fold_removes_accents_and_case():
    assert fold("Pélayanan KÉCAMATAN") == "pelayanan kecamatan"
    assert fold("") == ""
    assert fold(None) == ""


def test_search_terms_are_plain_words():
    assert search_terms("  Jalan   RUSAK!! ") == ["jalan", "rusak"]
    # tsquery operators, quotes and HTML never reach the query.
    terms = search_terms("jalan' & !rusak | <script>alert(1)</script> :*")
    assert terms == ["jalan", "rusak", "script", "alert", "1"]
    assert all(term.isalnum() for term in terms)
    assert words_tsquery(["jalan", "rusak"]) == "'jalan' & 'rusak'"


def test_search_terms_are_bounded():
    assert search_terms("") == []
    assert search_terms(None) == []
    long_query = "kata " * 2000
    assert search_terms(long_query) == ["kata"]
    many = " ".join(f"w{i}" for i in range(50))
    assert len(search_terms(many)) == 8
    assert len(search_terms("x" * 5000)[0]) == 40


def test_search_terms_fold_accents():
    assert search_terms("Pélayanan") == ["pelayanan"]
