"""Scripts and transliteration.

A Latin spelling of a Russian name is read back into Cyrillic under each
romanisation scheme (greedy longest match), then reduced to the comparison
skeleton. A Cyrillic name is reduced directly. The skeleton strings ("keys")
of two spellings agree when they are the same name in different schemes.

ICU does the script work that tables cannot: other scripts to Latin
(Any-Latin) and diacritic folding (Latin-ASCII).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

import icu

from kartoteka.vocab import name_tables, surname_rules, transcription

CYRILLIC = re.compile(r"[\u0400-\u04FF]")
LATIN_LETTER = re.compile(r"[a-z]")

SCHEME_LABELS = {
    "plain": "same spelling",
    "english": "English transliteration",
    "german": "German transliteration",
    "french": "French transliteration",
    "scholarly": "scholarly transliteration",
    "cyrillic": "Cyrillic",
    "ocr": "OCR reading",
    "from_english": "Cyrillic transcription of an English name",
    "misspelling": "common misspelling",
}

# Readings that only mean something against a Cyrillic spelling: a Latin
# name's Russian transcription is compared with Cyrillic keys, never with
# another Latin name's (Helms and Holmes must not meet through "хелмс").
CYRILLIC_ONLY = frozenset({"from_english"})
# At most this many Cyrillic transcriptions of one Latin word are kept.
_MAX_TRANSCRIPTIONS = 32

# Typewriter OCR confusions, applied to both sides so that a damaged reading
# and the clean name meet: "Ka1ugin", "Kalugm" (m for "in"), "G0rbachev".
_OCR_DIGITS = str.maketrans({"0": "o", "1": "l", "5": "s", "8": "b", "|": "l"})
_UMLAUTS = re.compile("[äöüß]")
_UMLAUT_E = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_OCR_PAIRS = (("rn", "m"), ("in", "m"), ("cl", "d"), ("vv", "w"), ("ii", "u"))


@cache
def _icu(transform_id: str) -> icu.Transliterator:
    return icu.Transliterator.createInstance(transform_id)


def is_cyrillic(text: str) -> bool:
    return CYRILLIC.search(text) is not None


def to_latin(text: str) -> str:
    """Any script to Latin with diacritics kept (ICU Any-Latin)."""
    if text.isascii():
        return text
    return str(_icu("Any-Latin").transliterate(text))


def ascii_fold(text: str) -> str:
    if text.isascii():
        return text
    return str(_icu("Any-Latin; Latin-ASCII").transliterate(text))


def romanise(cyrillic: str, scheme: str = "english") -> str:
    """Cyrillic to Latin in one of the table schemes, keeping case of the first letter."""
    table = name_tables().schemes[scheme]
    out = []
    for ch in cyrillic:
        low = ch.lower()
        if low in table:
            rom = table[low][0]
            out.append(rom.capitalize() if ch != low else rom)
        else:
            out.append(ch)
    return "".join(out)


@dataclass(frozen=True)
class _Reverse:
    """Latin spelling -> Cyrillic letter, for one scheme; longest spellings first."""

    spellings: dict[str, str]
    max_len: int


@cache
def _reverse(scheme: str, preferred: bool = True) -> _Reverse:
    """`preferred`: apply the scheme's read_back preferences; without them the
    first letter listed claims a shared spelling (the other reading)."""
    table = name_tables().schemes[scheme]
    rev: dict[str, str] = {}
    for cyr, spellings in table.items():
        for sp in spellings:
            sp = unicodedata.normalize("NFC", sp.lower())
            # The first letter to claim a spelling keeps it: tables list the
            # usual reading first (english "e" is е, not э).
            if sp and sp not in rev:
                rev[sp] = cyr
    for sp, cyr in name_tables().read_back.get(scheme, {}).items() if preferred else ():
        rev[unicodedata.normalize("NFC", sp.lower())] = cyr
    return _Reverse(rev, max(len(s) for s in rev))


_DOUBLED = re.compile(r"(.)\1+")
_SIBILANT_O = re.compile(r"([SCZ])o")


def _collapse(s: str) -> str:
    """Doubled letters carry no weight across schemes (Kallugin, Aleksandrr)."""
    return _DOUBLED.sub(r"\1", s)


def _sibilant_vowel(s: str) -> str:
    """ё after ж, ч, ш, щ is written "e" in English and "o" in German
    (Khrushchev / Chruschtschow): both are one sound class here."""
    return _SIBILANT_O.sub(r"\1e", s)


def skeleton_of_cyrillic(text: str) -> str:
    sk = name_tables().skeleton
    return _sibilant_vowel(_collapse("".join(sk.get(ch, "") for ch in text.lower())))


def _read_back(latin: str, scheme: str, preferred: bool = True) -> str:
    rev = _reverse(scheme, preferred)
    # No Cyrillic letter is written "x" in any scheme, but Western spellings
    # use it for кс (Alexander, Alexej).
    latin = latin.replace("x", "ks")
    if scheme in name_tables().silent_final_e and len(latin) > 3 and latin.endswith("e") and latin[-2] not in "aeiouy":
        latin = latin[:-1]
    sk = name_tables().skeleton
    out: list[str] = []
    i = 0
    while i < len(latin):
        for n in range(min(rev.max_len, len(latin) - i), 0, -1):
            cyr = rev.spellings.get(latin[i : i + n])
            if cyr is not None:
                out.append(sk[cyr])
                i += n
                break
        else:
            if latin[i].isascii() and latin[i].isalpha():
                # A letter this scheme never writes ("h" in German): the
                # spelling is not in this scheme, and a half-read key would
                # collide with plain spellings (Sharov read as "zharov").
                return ""
            folded = ascii_fold(latin[i])
            out.append("".join(c for c in folded if c.isalpha()))
            i += 1
    return _sibilant_vowel(_collapse("".join(out)))


def ocr_key(latin: str) -> str:
    # Doubled letters are collapsed before the confusions, not after: an OCR
    # confusion replaces letters one for one, so "Putilin" (read "putiiin")
    # must not shrink to "putin", the key of another real name.
    s = plain_key(latin.translate(_OCR_DIGITS)).replace("l", "i")
    for a, b in _OCR_PAIRS:
        s = s.replace(a, b)
    return s


_Rule = tuple[re.Pattern[str], tuple[str, ...]]


@cache
def _rules_at(language: str) -> tuple[dict[str, tuple[_Rule, ...]], tuple[_Rule, ...]]:
    """The language's transcription rules by the letter at the position tried, and
    those for any other letter. A rule whose pattern begins with a plain letter
    can match only where that letter stands, so it is left out elsewhere; the
    rest keep their order, and the first rule that matches is the one it was
    when every rule was tried (about 70 regular expressions at every letter)."""
    rules = transcription()[language]
    firsts = [_literal_first(pattern.pattern) for pattern, _ in rules]
    by_letter = {
        c: tuple(r for r, f in zip(rules, firsts, strict=True) if f in (c, None)) for c in set(firsts) if c is not None
    }
    return by_letter, tuple(r for r, f in zip(rules, firsts, strict=True) if f is None)


def _literal_first(pattern: str) -> str | None:
    """The letter every match of `pattern` begins with, where that is plain to see."""
    body = pattern.removeprefix("^")
    if "|" in body or not body or not body[0].isalpha() or body[1:2] in ("?", "*", "{"):
        return None
    return body[0]


def transcribe(latin: str, language: str = "english") -> tuple[str, ...]:
    """A Latin word written in Russian Cyrillic by the practical transcription
    rules of `language` (vocab/transcription.yml): a few likely spellings.

    Where every ambiguous letter has few choices all combinations are kept;
    otherwise the k-th spelling of each ambiguous letter goes together (all
    first choices, all second choices...), and the fuzzy comparison absorbs
    the mixed cases.
    """
    word = plain_key(latin) if not latin.isalpha() or not latin.isascii() else latin.lower()
    by_letter, anywhere = _rules_at(language)
    pieces: list[tuple[str, ...]] = []
    i = 0
    while i < len(word):
        for pattern, spellings in by_letter.get(word[i], anywhere):
            m = pattern.match(word, i)
            if m is not None and m.end() > i:
                pieces.append(spellings)
                i = m.end()
                break
        else:
            i += 1
    combos = 1
    for p in pieces:
        combos *= len(p)
    if combos <= _MAX_TRANSCRIPTIONS:
        out = ["".join(c) for c in itertools.product(*pieces)]
    else:
        width = max(len(p) for p in pieces)
        out = ["".join(p[min(k, len(p) - 1)] for p in pieces) for k in range(width)]
    return tuple(dict.fromkeys(o for o in out if o))


def misspelled(skeleton: str) -> str:
    """The skeleton with the letters English writers confuse merged (х → k)."""
    table = surname_rules().misspellings
    return "".join(table.get(c, c) for c in skeleton)


def plain_key(text: str) -> str:
    return _collapse("".join(c for c in ascii_fold(text).lower() if c.isalpha()))


# Bounded: OCR corpora have an endless supply of distinct "names", and an
# unbounded cache would make memory grow with the corpus.
@lru_cache(maxsize=50_000)
def token_keys(token: str) -> tuple[tuple[str, str], ...]:
    """All comparison keys of one name token, each with the scheme that made it.

    Returns (key, scheme) pairs, most literal first, without duplicate keys.
    """
    token = unicodedata.normalize("NFC", token)
    keys: dict[str, str] = {}
    if is_cyrillic(token):
        sk = skeleton_of_cyrillic(token)
        keys.setdefault(sk, "cyrillic")
        keys.setdefault(misspelled(sk), "misspelling")
        english = romanise(token, "english").lower()
        keys.setdefault(plain_key(english), "cyrillic")
        # A Cyrillic record must meet an OCR-damaged Latin query ("Putm").
        keys.setdefault(ocr_key(english), "ocr")
    else:
        latin = to_latin(token).lower()
        keys.setdefault(plain_key(latin), "plain")
        if _UMLAUTS.search(latin):
            # German writes ü as "ue" when it cannot print it (Mueller).
            keys.setdefault(plain_key(latin.translate(_UMLAUT_E)), "plain")
        for scheme in name_tables().schemes:
            keys.setdefault(_read_back(latin, scheme), scheme)
            if scheme in name_tables().read_back:
                # German "sch" is ш in Schewardnadse but ж in Jeschow: keep both readings.
                keys.setdefault(_read_back(latin, scheme, preferred=False), scheme)
        keys.setdefault(ocr_key(latin), "ocr")
        for key, scheme in list(keys.items()):
            if scheme in name_tables().schemes:
                keys.setdefault(misspelled(key), "misspelling")
        for cyr in transcribe(latin, "english"):
            keys.setdefault(skeleton_of_cyrillic(cyr), "from_english")
    return tuple((k, s) for k, s in keys.items() if k)
