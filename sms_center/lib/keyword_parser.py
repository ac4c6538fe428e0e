"""Split an inbound SMS into its keyword and the rest of the text.

The first word of an SMS is its keyword. Citizens type it in every
possible way (``DINKES jalan``, ``dinkes#jalan``, ``Dinkes: ...``,
``DINKES.jalan``, ``  dinkes,jalan``, ``DINKES`` alone), so the keyword is
the leading run of letters and digits, and any run of separators after it
is dropped.
"""

import re
import unicodedata

# Characters accepted between the keyword and the message.
SEPARATORS = " \t\r\n#.:,;-_/*+=|!?"
KEYWORD_MAX_LENGTH = 20

_LEADING_JUNK = re.compile(r"^[\s" + re.escape(SEPARATORS) + r"\"'(\[<]*")
_KEYWORD = re.compile(r"[0-9A-Za-z]+")


def normalize_keyword(word):
    """Canonical form used to compare keywords: upper case ASCII."""
    word = unicodedata.normalize("NFKC", word or "")
    return word.strip().upper()


def parse(text):
    """Return ``(keyword, rest)``.

    ``keyword`` is the normalized first word or ``""`` when the text does not
    start with a letter or digit; ``rest`` is the text after the keyword and
    its separators, otherwise untouched.
    """
    text = unicodedata.normalize("NFKC", text or "")
    stripped = _LEADING_JUNK.sub("", text)
    match = _KEYWORD.match(stripped)
    if not match or len(match.group(0)) > KEYWORD_MAX_LENGTH:
        return "", text.strip()
    keyword = match.group(0)
    rest = stripped[match.end() :]
    if rest and rest[0] not in SEPARATORS:
        # "DINKES2jalan" is one word; "DINKES(..." is not a keyword.
        return "", text.strip()
    return keyword.upper(), rest.lstrip(SEPARATORS).strip()


#: Reserved words, answered by the center itself before any keyword: the
#: status of the sender's SMS and how to use the service. Both may get
#: other words in the settings (``STATUS``, ``BANTUAN``...).
STATUS_WORD = "CEK"
INFO_WORD = "INFO"

_WORD_LIST_SEPARATORS = re.compile(r"[\s,;]+")


def parse_word_list(text):
    """``"status, Bantuan;HELP"`` -> ``["STATUS", "BANTUAN", "HELP"]``
    (normalized, in order, without repeats)."""
    words = []
    for word in _WORD_LIST_SEPARATORS.split(text or ""):
        word = normalize_keyword(word)
        if word and word not in words:
            words.append(word)
    return words


def is_valid_keyword(word):
    """A keyword is 2-20 ASCII letters or digits and starts with a letter."""
    return bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9]{1,19}", word or ""))


def similarity(a, b):
    """Damerau-free Levenshtein ratio in [0, 1] for "did you mean" hints."""
    a, b = a.upper(), b.upper()
    if a == b:
        return 1.0
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            )
        previous = current
    return 1.0 - previous[-1] / max(len(a), len(b), 1)


def suggest(word, candidates, threshold=0.6):
    """The closest candidate keyword to ``word`` or ``None``."""
    word = normalize_keyword(word)
    if not word:
        return None
    best, best_score = None, threshold
    for candidate in candidates:
        score = similarity(word, candidate)
        if candidate.startswith(word) or word.startswith(candidate):
            score = max(score, 0.75)
        if score > best_score or (score == best_score and best and candidate < best):
            best, best_score = candidate, score
    return best
