"""Ticket references and one-SMS texts to citizens (pure functions)."""

import pytest
from smslib import citizen_text, gsm, ticket_reference

KEY = b"0123456789abcdef0123456789abcdef"


# ----------------------------------------------------------------------
# References
# ----------------------------------------------------------------------


def test_first_class_is_a_permutation_of_every_short_reference():
    size = ticket_reference.class_size(3)
    assert size == 8000
    refs = [ticket_reference.reference_for(KEY, n) for n in range(1, size + 1)]
    assert len(set(refs)) == size, "unique"
    assert all(len(ref) == 4 and ref[0] in "ADGJMPTW" for ref in refs)
    assert all(ticket_reference.is_reference(ref) for ref in refs)
    # Every letter and every 3-digit number is used: the class is covered.
    assert {ref[0] for ref in refs} == set("ADGJMPTW")
    assert len({ref[1:] for ref in refs}) == 1000


def test_longer_references_follow_and_stay_unique():
    first = ticket_reference.class_size(3)
    refs = [
        ticket_reference.reference_for(KEY, n) for n in range(first - 5, first + 2000)
    ]
    assert [len(r) for r in refs[:6]] == [4] * 6
    assert all(len(r) == 5 for r in refs[6:])
    assert len(set(refs)) == len(refs)
    assert ticket_reference.length_class(first) == (4, 0)


def test_references_are_not_sequential_and_depend_on_the_key():
    refs = [ticket_reference.reference_for(KEY, n) for n in range(1, 201)]
    as_numbers = [
        "ADGJMPTW".index(r[0]) * 1000 + int(r[1:]) for r in refs
    ]  # position inside the class
    steps = {b - a for a, b in zip(as_numbers, as_numbers[1:], strict=False)}
    assert len(steps) > 150, "consecutive tickets do not get related references"
    assert sorted(as_numbers) != as_numbers
    other = [ticket_reference.reference_for(b"another key", n) for n in range(1, 201)]
    assert sum(a == b for a, b in zip(refs, other, strict=True)) < 5
    # Deterministic for one key (the router may run in any process).
    assert refs == [ticket_reference.reference_for(KEY, n) for n in range(1, 201)]
    assert ticket_reference.reference_for(KEY.decode(), 7) == refs[6]


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("D482", "D482"),
        ("d482", "D482"),
        ("#D482", "D482"),
        (" #d 482 ", "D482"),
        ("D-482.", "D482"),
        ("w01234", "W01234"),
        ("D48", ""),
        ("482", ""),
        ("DD482", ""),
        ("D482 tolong", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_typed_references_are_normalized(typed, expected):
    assert ticket_reference.normalize(typed) == expected


def test_out_of_range():
    with pytest.raises(ValueError):
        ticket_reference.reference_for(KEY, 0)
    with pytest.raises(ValueError):
        ticket_reference.permute(KEY, 3, 8000)


# ----------------------------------------------------------------------
# Texts
# ----------------------------------------------------------------------


def test_render_replaces_only_known_placeholders():
    template = "{unit}: kode #{reference} {unit} {other} {0} {unit.__class__}"
    assert citizen_text.placeholders(template) == {"unit", "reference", "other"}
    assert citizen_text.braced(template) == {
        "unit",
        "reference",
        "other",
        "0",
        "unit.__class__",
    }
    assert (
        citizen_text.render(template, {"unit": "DINKES", "reference": "D482"})
        == "DINKES: kode #D482 DINKES {other} {0} {unit.__class__}"
    )


def test_to_gsm7_keeps_gsm_and_folds_the_rest():
    assert citizen_text.to_gsm7("Dinas Pariwisata – ‘Dieng’ …") == (
        "Dinas Pariwisata - 'Dieng' ..."
    )
    assert citizen_text.to_gsm7("Kecamatan Pāgentan 🌄 Ñ é") == "Kecamatan Pagentan Ñ é"
    assert gsm.is_gsm7(citizen_text.to_gsm7("ꦧꦤ꧀ꦗꦂ 漢字 Banjar"))
    assert citizen_text.to_gsm7("漢字") == ""


def test_shorten_cuts_at_a_word():
    name = "Dinas Pekerjaan Umum dan Penataan Ruang"
    assert citizen_text.shorten(name, 100) == name
    assert citizen_text.shorten(name, 24) == "Dinas Pekerjaan Umum..."
    assert citizen_text.shorten(name, 5) == ""
    assert citizen_text.shorten("Dinas", 5) == "Dinas"


TEMPLATE = (
    "{unit}: SMS Anda diterima dengan kode #{reference}. Jawaban paling lambat "
    "{deadline}. Cek status: kirim CEK {reference}"
)
VALUES = {"unit": "DINKES", "reference": "D482", "deadline": "pukul 15.20"}


def test_fit_keeps_a_short_text_as_is():
    text = citizen_text.fit_one_sms(TEMPLATE, VALUES, shrink="unit")
    assert text == (
        "DINKES: SMS Anda diterima dengan kode #D482. Jawaban paling lambat "
        "pukul 15.20. Cek status: kirim CEK D482"
    )


@pytest.mark.parametrize(
    "unit",
    [
        "Dinas Pekerjaan Umum dan Penataan Ruang Kabupaten Banjarnegara Provinsi "
        "Jawa Tengah",
        "Dinas Pariwisata – Kebudayaan ‘Dieng Plateau’ dan Ekonomi Kreatif 🌄",
        "漢字" * 40,
        "Kecamatan" * 20,
    ],
)
def test_fit_shortens_any_unit_name_into_one_gsm_sms(unit):
    text = citizen_text.fit_one_sms(
        TEMPLATE, dict(VALUES, unit=unit), shrink="unit", fallbacks=("DPUPR",)
    )
    assert gsm.measure(text).parts == 1
    assert gsm.is_gsm7(text), "one odd character must not cost 90 characters"
    assert "#D482" in text and text.endswith("CEK D482")
    assert "pukul 15.20" in text


def test_fit_gives_up_when_the_fixed_text_is_too_long():
    assert citizen_text.fit_one_sms("x" * 170 + "{unit}", {"unit": "A"}, "unit") is None
    assert citizen_text.fit_one_sms("x" * 170, {}) is None


def test_cut_to_one_sms():
    assert citizen_text.cut_to_one_sms("short") == "short"
    cut = citizen_text.cut_to_one_sms("kata " * 60)
    assert gsm.measure(cut).parts == 1 and cut.endswith("...")
    cut = citizen_text.cut_to_one_sms("🙏 kata " * 30)
    assert gsm.measure(cut).parts == 1
