"""Cues a reader takes from one OCR line: is it words or noise, where do its
words begin and end, does it stop mid-sentence, does it end in a name.

`registry.layout` weighs these to decide whether a line goes on into the
next. OCR of typewritten records puts specks before and after the words
(margins, rules, hole punches read as text), spells smudges, stamps and
handwriting as fragments ("oa (Bren ure 22208 %"), and breaks names at line
ends; each cue here sees through one of those. The words it needs are data:
`vocab/layout.yml`, and the given names of `vocab/given_names.yml`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

_ENDS_SENTENCE = re.compile(r"[.!?:;\"”')\]]\s*$")
_ENDS_JOINING_MARK = re.compile(r"(?:[,\-–&/]|\b[A-Za-z]\.)\s*$")
_STARTS_LOWER = re.compile(r"^[a-zа-яё]")
_WORDS = re.compile(r"[^\W\d_]+")
# Marks OCR puts before a line's first word: specks, quotes, bars, a stray
# period from the line above ("“2. For", ". 1. IDEN A", "‘address.").
_LEAD_NOISE = re.compile(r"^[\s.,:;|'\"‘’“”`*•·°»«_~=]+")
_TOKEN = re.compile(r"\S+")
_WORD_TOKEN = re.compile(r"^[\"'“”‘’(\[]*([^\W\d_]+(?:['’-][^\W\d_]+)*)[\"'“”‘’)\].,;:!?]*$")
_NUMBER_TOKEN = re.compile(r"^[(\[]?[\d][\d.,/:-]*[)\].,;:]?$")
_VOWEL = re.compile(r"[aeiouyàáâãäåèéêëìíîïòóôõöùúûüаеёиоуыэюя]", re.IGNORECASE)
_UNSPELLABLE = re.compile(r"[b-df-hj-np-tv-xz]{5}|[aeiouyàáâãäåèéêëìíîïòóôõöùúûü]{4}|([^\W\d_])\1\1", re.IGNORECASE)
# A line whose words make up less than this share of its characters is noise.
NOISE_SHARE = 0.3
# Lines whose words make up at least this share are prose enough that a
# connecting word at the end of one joins it to the next.
WORDED_SHARE = 0.5


@dataclass(frozen=True)
class Cues:
    """Vocabulary of the layout (vocab/layout.yml)."""

    short_words: frozenset[str]
    joining_words: frozenset[str]
    abbreviations: frozenset[str]
    name_titles: frozenset[str]
    date_keys: frozenset[str]


@cache
def cues() -> Cues:
    name = "layout.yml"
    data = yaml.safe_load(resources.files("kartoteka.vocab").joinpath(name).read_text(encoding="utf-8"))

    def words(key: str) -> frozenset[str]:
        value = data.get(key) if isinstance(data, dict) else None
        # A bare `on` or `no` reads as a boolean in YAML: quote them.
        if not isinstance(value, list) or not value or not all(isinstance(w, str) for w in value):
            raise ValueError(f"vocab/{name}: key '{key}' missing or not a list of quoted words")
        return frozenset(str(w).lower() for w in value)

    return Cues(
        words("short_words"), words("joining_words"), words("abbreviations"), words("name_titles"), words("date_keys")
    )


def _is_word(token: str, vocab: Cues) -> bool:
    m = _WORD_TOKEN.match(token)
    if not m:
        return False
    w = m.group(1)
    if not (w.islower() or w.isupper() or w.istitle()):
        return False  # "eSRgT", "mUMBER": OCR of a smudge, not a word
    if len(w) <= 3:
        return w.lower() in vocab.short_words or (w.isupper() and len(w) >= 2)
    # OCR of a smudge spells what no language does: no vowel, five
    # consonants or four vowels in a row, one letter three times.
    return bool(_VOWEL.search(w)) and not _UNSPELLABLE.search(w)


def word_share(line: str) -> float:
    """The share of a line's characters that stand in words (numbers left
    out): near 1 for prose, low for OCR of stamps, handwriting and specks."""
    vocab = cues()
    total = good = 0
    for tok in _TOKEN.findall(line):
        if _NUMBER_TOKEN.match(tok):
            continue
        total += len(tok)
        if _is_word(tok, vocab):
            good += len(tok)
    return good / total if total else 0.0


_TAIL_NOISE = re.compile(r"(?:\s+(?:[^\w\s]+|[^\WaAI\d]|\d))+\s*$")


def tail(line: str) -> str:
    """The line without the specks OCR leaves after its last word ("had :",
    "WITH | y", "59. °°"): margins, rules and hole punches read as text."""
    return _TAIL_NOISE.sub("", line)


def bare(line: str) -> str:
    """The line without the specks OCR puts before its first mark ("“2. For",
    ". 1. IDEN A"): a paragraph number or a field key behind them still counts."""
    return _LEAD_NOISE.sub("", line)


def lead(line: str) -> str:
    """The line from its first word on: quotes, specks and dashes before it
    ("‘address.", "--people,") are OCR of the margin or of the line above."""
    return bare(line).lstrip("-–— ")


def starts_lower(line: str) -> bool:
    return bool(_STARTS_LOWER.match(lead(line)))


def starts_capitalised(line: str) -> bool:
    """Starts with a capitalised word that is not a label ("Kennedy", not "Note:")."""
    return bool(_CAPITALISED.match(bare(line)))


def garbled(line: str) -> bool:
    """Noise (few of its characters in words), or a short line with hardly a
    word in it: OCR of a stamp, a signature or a smudge. It stands alone; no
    paragraph runs through it."""
    if noise(line):
        return True
    return len(line) < 30 and sum(1 for w in _WORDS.findall(line) if len(w) >= 3) < 2


def noise(line: str) -> bool:
    return word_share(line) < NOISE_SHARE


def tail_of_sentence(line: str) -> bool:
    """A short line of real words that ends a sentence or starts in lower
    case ("below:", "on VARELA,", "information."): what is left of a
    sentence after a full line, not a smudge."""
    if word_share(line) < 0.75 or not any(len(w) >= 3 for w in _WORDS.findall(line)):
        return False
    return starts_lower(line) or bool(_ENDS_SENTENCE.search(line))


# A field key with its value still to come ("SUBJECTS :", "SUBJECTS =~"), or a
# subject line that ends in a colon: its value or subtitle is the next line.
_KEY_ALONE = re.compile(r"^\W*[A-Z][A-Z0-9 ./&'()-]{1,30}?\s*[:;=~]+\W*$")
_SUBJECT_GOES_ON = re.compile(r"^\W*SUBJECT\b.*:$", re.IGNORECASE)


def field_runs_on(line: str) -> bool:
    return bool(_KEY_ALONE.match(line) or _SUBJECT_GOES_ON.match(line))


# A subject line: its title runs on over as many lines as it needs, typed
# straight below ("SUBJECT: Political Action in Cuba - The" / "Smith Case").
_SUBJECT_LINE = re.compile(r"^\W*(?:SUBJECT|SUBJ|RE)\s?[:;]\s*\S", re.IGNORECASE)


def subject_wraps(line: str) -> bool:
    """A subject line whose title stops short of a sentence end."""
    return bool(_SUBJECT_LINE.match(line)) and not ends_sentence(tail(line))


_KEY_OF_LINE = re.compile(r"^\W*([^\W\d_][^:;=~]{0,30}?)\s*[:;=~]+\W*$")
_DATE_ALONE = re.compile(r"^\W*\d{1,4}[/.-]\d{1,2}[/.-]\d{2,4}\W*$")


def date_key_alone(line: str) -> bool:
    """A key that names a date, alone on its line ("Date:", "DATE OF DOC :")."""
    m = _KEY_OF_LINE.match(line)
    return m is not None and any(w.lower() in cues().date_keys for w in _WORDS.findall(m.group(1)))


def date_alone(line: str) -> bool:
    """A date and nothing else ("6/1/2015", "06-09-1967")."""
    return bool(_DATE_ALONE.match(line))


# A date written out at a line's start: "18 August 1978", "4 June 1965",
# "January 1964", "26 MAR 66" (month names and their three-letter forms).
_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_DATE_START = re.compile(
    rf"^\W*(?:\d{{1,2}}\s+{_MONTHS}\.?\s+\d{{2,4}}|{_MONTHS}\.?\s+\d{{1,2}},?\s+\d{{4}}|{_MONTHS}\s+\d{{4}}"
    rf"|\d{{1,4}}[/.-]\d{{1,2}}[/.-]\d{{2,4}})\b",
    re.IGNORECASE,
)


def ends_date_key(line: str) -> bool:
    """A line whose last word names a date ("... (OLC 78-3011) dated")."""
    toks = _WORDS.findall(line)
    return bool(toks) and toks[-1].lower() in cues().date_keys and not line.rstrip().endswith((".", ":"))


def starts_date(line: str) -> bool:
    """A line that opens with a date ("18 August 1978", "6/1/2015 ...")."""
    return bool(_DATE_START.match(line))


_ROUTING_ITEM = re.compile(r"^[\W]*[A-Z][A-Z0-9]*(?:/[A-Z0-9]+)*(?:\s\d{1,2})?(?:\s\([^)]*\))?\W*$")


def routing_list(line: str) -> bool:
    """A cable's distribution list: three or more comma-separated office
    codes, most of them short capitals ("CI/OPS, CA/PEG, FI/D, WH 8")."""
    body = _KEY_OF_LINE.sub("", line)
    body = re.sub(r"^\W*(?:ACTION|INFO|DISTRIBUTION|TO|CC)\s*[:;]", "", body.strip(), flags=re.IGNORECASE)
    items = [i.strip() for i in re.split(r"[,;]", body) if i.strip()]
    if len(items) < 3:
        return False
    codes = sum(1 for i in items if len(i) <= 14 and _ROUTING_ITEM.match(i))
    return codes >= 0.6 * len(items) and sum("/" in i for i in items) >= 1


# Numbers that end a sentence: a year, a date, a section ("1963.", "16, 1957.",
# "10-9."). Runs of five digits or more are file and document numbers, which
# stand on their own lines.
_NUMBER_TAIL = re.compile(r"^\W*\d{1,4}(?:[\s,/.-]{1,2}\d{1,4})*\.\W*$")


def number_tail(line: str) -> bool:
    """A line of numbers only that ends a sentence: the date or number a
    sentence ran on to after a full line ("... in June," / "1963.")."""
    return bool(_NUMBER_TAIL.match(line))


def last_word_of_sentence(line: str) -> bool:
    """One word in capitals ending in a period, specks after it read past
    ("CARRILES. ¥"): the end of a sentence, a surname as often as not."""
    toks = _TOKEN.findall(tail(line))
    return len(toks) == 1 and toks[0].endswith(".") and _is_word(toks[0], cues()) and upper(toks[0])


_PHRASE_BRACKET = re.compile(r"[^\s.!?:;][)\]]\s*$")


def bracket_closes_phrase(line: str) -> bool:
    """The line ends in a bracket with no sentence mark inside it ("(CIA)",
    not "(See below.)"): the bracket closes a phrase, not the sentence."""
    return bool(_PHRASE_BRACKET.search(line))


_HEADING_WORDS = re.compile(r"^[A-Z]{2,}(?: [A-Z]{2,}){0,5}$")


def heading_words(line: str) -> bool:
    """Capital words and nothing else, not even a mark: a column heading."""
    return bool(_HEADING_WORDS.match(line.strip()))


def open_bracket(line: str) -> bool:
    """A bracket opened and not closed: what it holds goes on in the next line."""
    return line.count("(") > line.count(")")


def table_row(line: str) -> bool:
    return line.count("|") >= 2


def upper(line: str) -> bool:
    letters = [c for c in line if c.isalpha()]
    return len(letters) >= 4 and sum(c.isupper() for c in letters) >= 0.7 * len(letters)


def ends_sentence(line: str) -> bool:
    if not _ENDS_SENTENCE.search(line):
        return False
    toks = _TOKEN.findall(line)
    # "Mr." or "FR." at a line end is an abbreviation, not a sentence end.
    return not (toks and toks[-1].endswith(".") and toks[-1][:-1].lower() in cues().abbreviations)


_CAPITALISED = re.compile(r"[A-ZА-ЯЁ][^\W\d_]+(?!\w|\s*:)")


@cache
def _name_words() -> frozenset[str]:
    """Given names and personal titles ("Mr", "Col"), lower case: a line
    ending in one goes on into the surname on the next. Offices ("Director")
    are left out: after them comes an organisation as often as a name."""
    from kartoteka.vocab import name_tables

    given = {n.lower() for c in name_tables().given_classes for n in c}
    return frozenset(given | cues().name_titles)


def ends_in_name(line: str) -> bool:
    toks = _TOKEN.findall(line)
    if not toks:
        return False
    last = toks[-1].rstrip(".")
    return bool(_CAPITALISED.fullmatch(last)) and last.lower() in _name_words()


def starts_joining(line: str) -> bool:
    toks = _TOKEN.findall(_LEAD_NOISE.sub("", line))
    return bool(toks) and toks[0].lower().rstrip(",") in cues().joining_words


def ends_joining_word(line: str) -> bool:
    toks = _TOKEN.findall(line)
    return bool(toks) and toks[-1].lower() in cues().joining_words


def ends_joining(line: str) -> bool:
    if _ENDS_JOINING_MARK.search(line):
        return True
    toks = _TOKEN.findall(line)
    if not toks:
        return False
    last = toks[-1].lower()
    return last in cues().joining_words or (last.endswith(".") and last[:-1] in cues().abbreviations)
