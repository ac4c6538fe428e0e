"""The Indonesian translation keeps to the project's glossary.

``GLOSSARY_RULES`` is the one place where the terms the glossary rules out
are listed (the glossary: one Indonesian term per concept, everywhere, in
plain formal *bahasa Indonesia baku*; sentence case for menus, labels and
buttons; regulations cited as "Pasal 11 huruf e", "Pasal 12 ayat (2)").
Every ``msgstr`` of ``sms_center/i18n/id.po`` is checked against it, so that
entries added later (by any issue) stay consistent with the file.

To add a rule: give the pattern, what to write instead, why, and one wrong
and one right example (``test_rule_examples`` checks the pattern on them).
"""

import re
from dataclasses import dataclass
from pathlib import Path

import polib
import pytest

PO_PATH = Path(__file__).resolve().parent.parent / "sms_center" / "i18n" / "id.po"

# The help of the activity state field (mail.activity.mixin) on our models
# names Odoo's own activity states, which the screens show with Odoo's
# translation of the mail module ("Terlambat"): the help keeps that word.
ODOO_ACTIVITY_STATES_HELP = "Status based on activities\n"


@dataclass(frozen=True)
class Rule:
    """A term the glossary rules out in any ``msgstr``."""

    name: str
    pattern: str  # regular expression, case-insensitive unless it says (?-i:...)
    use: str  # what the glossary says to write instead
    why: str
    wrong: str  # an example the rule rejects
    right: str  # the corrected example, which it accepts
    allowed_msgids: tuple = ()  # msgid prefixes where the term is right

    def search(self, text):
        return re.search(self.pattern, text, re.IGNORECASE)


GLOSSARY_RULES = (
    Rule(
        "gateway",
        r"\bgerbang\b",
        "gateway SMS",
        "the established term among administrators",
        "Gerbang SMS %(gateway)s",
        "Gateway SMS %(gateway)s",
    ),
    Rule(
        "deadline",
        r"\btenggat\b",
        "batas waktu",
        "one term for the answer deadline (Pasal 13)",
        "Tenggat jawaban",
        "Batas waktu jawaban",
    ),
    Rule(
        "quiet hours",
        r"\bjam tenang\b",
        "jam tanpa pengingat",
        "'jam tenang' is a calque",
        "Jam tenang mulai",
        "Jam tanpa pengingat mulai",
    ),
    Rule(
        "keyword list in a citizen's SMS",
        r"\bdaftar\s*:",
        "Pilihan: %(list)s / Daftar kata kunci: %(url)s",
        "'Daftar:' reads as the command 'Register:'",
        "Kata kunci tidak dikenal. Daftar: %(url)s",
        "Kata kunci tidak dikenal. Daftar kata kunci: %(url)s",
    ),
    Rule(
        "overdue",
        # Allowed: "dijawab terlambat" (answered late), and the time-left
        # badge "Terlambat 1 jam" (how long past the deadline) below.
        r"(?<!dijawab )\bterlambat\b",
        "lewat batas waktu",
        "'terlambat' suggests that the SMS arrived late",
        "SMS terlambat",
        "SMS lewat batas waktu",
        allowed_msgids=("%(duration)s late", ODOO_ACTIVITY_STATES_HELP),
    ),
    Rule(
        "not delivered",
        r"\btidak diterima\b",
        "gagal diterima",
        "'tidak diterima' reads as 'rejected'",
        "Tidak diterima",
        "Gagal diterima",
    ),
    Rule(
        "officer",
        r"\bpejabat\b",
        "petugas",
        "one term for the officer who answers an inbox",
        "Pejabat yang menjawab",
        "Petugas yang menjawab",
    ),
    Rule(
        "operator",
        r"\boperator\b(?! seluler)",
        "petugas (officer) / operator seluler (mobile carrier)",
        "bare 'operator' is ambiguous: officer or mobile carrier",
        "dipotong oleh sebagian operator.",
        "dipotong oleh sebagian operator seluler.",
    ),
    Rule(
        "mobile number",
        r"(?-i:\bHP\b)|\bhandphone\b|\btelepon genggam\b",
        "nomor ponsel",
        "one term for the mobile number",
        "Nomor HP notifikasi",
        "Nomor ponsel notifikasi",
    ),
    Rule(
        "chatter",
        r"\bchatter\b",
        "riwayat",
        "English left on officers' screens",
        "statusnya muncul di chatter gateway",
        "statusnya muncul di riwayat gateway",
    ),
    Rule(
        "gateway down",
        r"\bmati\b",
        "tidak berfungsi",
        "'mati' is colloquial",
        "Gateway SMS %(gateway)s mati",
        "Gateway SMS %(gateway)s tidak berfungsi",
    ),
    Rule(
        "company",
        r"\bperusahaan\b",
        "instansi",
        "a regency is not a company",
        "Jam kerja perusahaan",
        "Jam kerja instansi",
    ),
    Rule(
        "login",
        r"\blogin\b",
        "akun (the account) / nama pengguna (the user name)",
        "English left on screens; two concepts",
        "Buat login petugas",
        "Buat akun petugas",
    ),
    Rule(
        "excluded from publication",
        r"\b(tidak|jangan) dipublikasikan\b",
        "dikecualikan dari publikasi / kecualikan dari publikasi",
        "the term of UU 14/2008",
        "tandai sebagai spam atau jangan dipublikasikan",
        "tandai sebagai spam atau kecualikan dari publikasi",
    ),
    Rule(
        "secretariat",
        r"\bsekretariat\b(?! SMS Center)",
        "Sekretariat SMS Center",
        "plain 'Sekretariat' reads as Sekretariat Daerah",
        "Dieskalasikan ke sekretariat.",
        "Dieskalasikan ke Sekretariat SMS Center.",
        # The Regional Secretariat itself, a unit of the demo data.
        allowed_msgids=("Sekretariat Daerah",),
    ),
    Rule(
        "unit",
        r"\bunit\b(?! kerja)",
        "unit kerja",
        "one term for the organisation unit",
        "Unit",
        "Unit kerja",
    ),
    Rule(
        "citation: letter",
        r"\bpasal \d+\s?[a-z]\b",
        "Pasal 11 huruf e",
        "how Indonesian regulations are cited",
        "(Pasal 11e)",
        "(Pasal 11 huruf e)",
    ),
    Rule(
        "citation: paragraph",
        r"\bpasal \d+\s?\(\d+\)|\bayat \d",
        "Pasal 12 ayat (2)",
        "how Indonesian regulations are cited",
        "(Pasal 12 ayat 2)",
        "(Pasal 12 ayat (2))",
    ),
    Rule(
        "not answered in time",
        r"\btidak dijawab tepat waktu\b",
        "belum dijawab hingga batas waktu",
        "one phrase for 'not answered by the deadline'",
        "3 SMS tidak dijawab tepat waktu.",
        "3 SMS belum dijawab hingga batas waktu.",
    ),
    Rule(
        "by SMS",
        r"\blewat SMS\b",
        "melalui SMS",
        "formal register",
        "Balas lewat SMS",
        "Balas melalui SMS",
    ),
    Rule(
        "secret",
        r"(?<!kode )\brahasia\b",
        "kode rahasia",
        "'rahasia' alone is 'a secret', not a code",
        "Rahasia webhook baru",
        "Kode rahasia webhook baru",
    ),
    Rule(
        "English left untranslated",
        r"\b(restart|crash|keywords?|tickets?|inbox|reminders?|deadline|"
        r"officers?|secretariat)\b",
        "kata kunci, tiket, kotak masuk, pengingat, batas waktu, petugas, ...",
        "English left on screens",
        "Pengiriman terputus (restart atau crash)",
        "Pengiriman terputus (server dimulai ulang atau berhenti mendadak)",
    ),
)

# Placeholders (also the {unit} of the SMS texts to citizens, which keep
# their names in every language), web addresses, paths and markup are not
# words to check.
_NOT_WORDS = re.compile(r"%\(\w+\)[sdf]|%[sd]|\{[a-z_]+\}|https?://\S+|\S*/\S*|<[^>]+>")


def _words(text):
    return _NOT_WORDS.sub(" ", text)


def _entries():
    po = polib.pofile(str(PO_PATH))
    return [entry for entry in po if not entry.obsolete]


ENTRIES = _entries()


def test_po_is_complete():
    untranslated = [e.msgid for e in ENTRIES if not e.msgstr.strip()]
    assert not untranslated, f"untranslated entries: {untranslated}"


@pytest.mark.parametrize("rule", GLOSSARY_RULES, ids=lambda rule: rule.name)
def test_rule_examples(rule):
    """Each rule rejects its wrong example and accepts the right one."""
    assert rule.search(_words(rule.wrong)), rule.wrong
    assert not rule.search(_words(rule.right)), rule.right


@pytest.mark.parametrize("rule", GLOSSARY_RULES, ids=lambda rule: rule.name)
def test_no_term_the_glossary_rules_out(rule):
    offending = [
        f"{entry.msgid!r}: {entry.msgstr!r}"
        for entry in ENTRIES
        if rule.search(_words(entry.msgstr))
        and not entry.msgid.startswith(rule.allowed_msgids)
    ]
    assert not offending, (
        f"id.po uses a term the glossary rules out ({rule.why}); "
        f"write {rule.use!r} instead:\n" + "\n".join(offending)
    )


_PLACEHOLDER = re.compile(r"%\(\w+\)[sdf]")


def test_placeholders_kept():
    """A translation keeps every named placeholder of its source (Odoo's
    .po files carry no python-format flag, so msgfmt does not check them)."""
    wrong = [
        entry.msgid
        for entry in ENTRIES
        if sorted(set(_PLACEHOLDER.findall(entry.msgid)))
        != sorted(set(_PLACEHOLDER.findall(entry.msgstr)))
    ]
    assert not wrong, f"placeholders differ from the source: {wrong}"


# --- Sentence case for menus, labels and buttons ---------------------------

# Where a term is a label: menus, actions, models, fields, selection values,
# groups, stages, activity types and scheduled actions.
LABEL_OCCURRENCES = re.compile(
    r"^model:(ir\.ui\.menu|ir\.actions\.act_window|ir\.actions\.server|ir\.model|"
    r"res\.groups|helpdesk\.ticket\.stage|mail\.activity\.type|"
    r"helpdesk\.ticket\.category|helpdesk\.ticket\.channel),name:"
    r"|^model:ir\.model\.fields,field_description:"
    r"|^model:ir\.model\.fields\.selection,name:"
)
# Words written with a capital inside a label: names and established terms.
PROPER_WORDS = frozenset(
    {
        "Anda",  # the polite "you" is always capitalised
        "Bupati",  # the Regent: the office of one person, written as a name
        "Center",  # SMS Center, the service's name
        "Gammu",
        "Jasmin",
        "Kannel",
        "Masyarakat",  # "SMS Masyarakat", the public page's name (R12)
        "Odoo",
        "Pasal",
        "Sekretariat",  # only as "Sekretariat SMS Center" (see GLOSSARY_RULES)
        "Twilio",
        "Unicode",
    }
)


def _is_label(entry):
    return any(LABEL_OCCURRENCES.match(f"{kind}:{name}") for kind, name in _refs(entry))


def _refs(entry):
    """``(kind, name)`` of each ``#:`` reference, e.g. ``("model",
    "ir.ui.menu,name:sms_center.menu_root")``."""
    for occurrence, _line in entry.occurrences:
        kind, _sep, name = occurrence.partition(":")
        yield kind, name


def _is_short_view_term(entry):
    """A button, group title or filter of a view: a few words, no sentence."""
    in_view = any(
        f"{kind}:{name}".startswith("model_terms:ir.ui.view,arch_db:")
        for kind, name in _refs(entry)
    )
    return (
        in_view
        and len(entry.msgid.split()) <= 5
        and not re.search(r"[.:;?!]", entry.msgid)
    )


def _capitalised_inside(text):
    """Words after the first that start with a capital letter and are
    neither acronyms (SMS, URL, GSM-7) nor names."""
    words = re.findall(r"[\w.-]+", _words(text))
    return [
        word
        for word in words[1:]
        if word[0].isupper()
        and not word.isupper()
        and not re.fullmatch(r"[A-Z0-9]+(-[A-Za-z0-9]+)*", word)
        and word not in PROPER_WORDS
    ]


def test_sentence_case_checker():
    assert _capitalised_inside("Kotak Masuk SMS Saya") == ["Masuk", "Saya"]
    assert _capitalised_inside("Kotak masuk SMS saya") == []
    assert _capitalised_inside("Gateway SMS Center untuk GSM-7 dan UCS-2") == []


def test_labels_in_sentence_case():
    offending = [
        f"{entry.msgid!r}: {entry.msgstr!r} {words}"
        for entry in ENTRIES
        if _is_label(entry) or _is_short_view_term(entry)
        for words in [_capitalised_inside(entry.msgstr)]
        if words
    ]
    assert not offending, (
        "menus, labels and buttons are written in sentence case:\n"
        + "\n".join(offending)
    )
