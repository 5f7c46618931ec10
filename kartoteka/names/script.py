"""Scripts and transliteration.

A Latin spelling of a Russian name is read back into Cyrillic under each
romanisation scheme (greedy longest match), then reduced to the comparison
skeleton. A Cyrillic name is reduced directly. The skeleton strings ("keys")
of two spellings agree when they are the same name in different schemes.

ICU does the script work that tables cannot: other scripts to Latin
(Any-Latin) and diacritic folding (Latin-ASCII).
"""

from __future__ import annotations

import hashlib
import itertools
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import icu

from kartoteka.names.schemes import CYRILLIC_ONLY, SCHEME_LABELS, letter_reading, transcription_scheme
from kartoteka.vocab import files_digest, name_tables, surname_rules, transcription, transcription_languages

__all__ = ["CYRILLIC_ONLY", "SCHEME_LABELS", "letter_reading"]

CYRILLIC = re.compile(r"[\u0400-\u04FF]")
LATIN_LETTER = re.compile(r"[a-z]")


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


class _Joined:
    """Rules joined into one pattern: Python's alternation tries them in order
    and takes the first that matches, as the rules say, in one call. Compiled
    when first used: a one-off check meets a few letters of a few languages,
    and compiling them all would cost it some 40 ms."""

    __slots__ = ("compiled", "rule_of_group", "source")

    def __init__(self, rules: list[tuple[int, re.Pattern[str]]]) -> None:
        parts: list[str] = []
        self.rule_of_group: dict[int, int] = {}  # the outer group of each rule -> the rule
        group = 1
        for n, pattern in rules:
            self.rule_of_group[group] = n
            parts.append(f"({pattern.pattern})")
            group += 1 + pattern.groups
        # No rules: a pattern that never matches (an empty one would match everywhere).
        self.source = "|".join(parts) or "(?!)"
        self.compiled: re.Pattern[str] | None = None

    @property
    def pattern(self) -> re.Pattern[str]:
        if self.compiled is None:
            self.compiled = re.compile(self.source)
        return self.compiled


def _join(rules: list[tuple[int, re.Pattern[str]]]) -> _Joined:
    return _Joined(rules)


@dataclass(frozen=True)
class _Table:
    simple: dict[str, int]  # a letter always written by its bare rule -> that rule
    by_letter: dict[str, _Joined]  # the rules that can match at that letter
    anywhere: _Joined  # those that can match at any other letter
    spellings: tuple[tuple[str, ...], ...]  # per rule, its Cyrillic spellings
    skeletons: tuple[tuple[str, ...], ...]  # the same, as skeleton letters
    distinct: tuple[tuple[str, ...], ...]  # those skeletons, doubled letters single, without repeats
    folded: bool


@cache
def _table(language: str) -> _Table:
    """Rules are tried at a letter only where they can match: a rule whose
    every match begins with one of a few letters is left out elsewhere, and
    the rules after a bare letter's own rule are never reached at that letter;
    the rest keep their order, so the first rule that matches is the one it
    was when every rule was tried (some 70 patterns at every letter). A letter
    whose first rule is its bare self is written without a pattern at all."""
    rules = transcription()[language]
    firsts = [_first_letters(pattern.pattern) for pattern, _ in rules]
    letters = {c for f in firsts if f is not None for c in f}
    by_letter: dict[str, _Joined] = {}
    simple: dict[str, int] = {}
    for c in letters:
        tried: list[tuple[int, re.Pattern[str]]] = []
        for n, ((pattern, _), f) in enumerate(zip(rules, firsts, strict=True)):
            if f is None or c in f:
                tried.append((n, pattern))
                if pattern.pattern == c:
                    break
        if len(tried) == 1 and tried[0][1].pattern == c:
            simple[c] = tried[0][0]
        else:
            by_letter[c] = _join(tried)
    sk = name_tables().skeleton
    skeletons = tuple(tuple("".join(sk.get(ch, "") for ch in sp.lower()) for sp in spellings) for _, spellings in rules)
    return _Table(
        simple=simple,
        by_letter=by_letter,
        anywhere=_join([(n, p) for n, ((p, _), f) in enumerate(zip(rules, firsts, strict=True)) if f is None]),
        spellings=tuple(spellings for _, spellings in rules),
        skeletons=skeletons,
        distinct=tuple(tuple(dict.fromkeys(_collapse(k) for k in s)) for s in skeletons),
        folded=language in transcription_languages().folded,
    )


_LOOKBEHIND = re.compile(r"\(\?<[=!][^()]*\)")
_CLASS = re.compile(r"\[([^\]\\^-]+)\]")


def _first_letters(pattern: str) -> frozenset[str] | None:
    """The letters every match of `pattern` begins with, where that is plain to
    see: a letter or a class of letters, after "^" and lookbehinds (which
    consume nothing). None when it is not."""
    body = pattern.removeprefix("^")
    while (m := _LOOKBEHIND.match(body)) is not None:
        body = body[m.end() :]
    if (m := _CLASS.match(body)) is not None:
        first, rest = frozenset(m.group(1)), body[m.end() :]
    elif body and body[0].isalpha():
        first, rest = frozenset(body[0]), body[1:]
    else:
        return None
    if _top_level_bar(body) or rest[:1] in ("?", "*", "{") or not all(c.isalpha() for c in first):
        return None
    return first


def _top_level_bar(pattern: str) -> bool:
    """An alternative outside every group ("a|b"), which may begin elsewhere."""
    depth, escaped, in_class = 0, False, False
    for c in pattern:
        if escaped:
            escaped = False
        elif c == "\\":
            escaped = True
        elif in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            return True
    return False


def _word(latin: str, folded: bool) -> str:
    if folded:
        return plain_key(latin) if not latin.isalpha() or not latin.isascii() else latin.lower()
    # Diacritics and doubled letters are rules of their own (Müller, Peña).
    word = unicodedata.normalize("NFC", latin.lower())
    return word if word.isalpha() else "".join(c for c in word if c.isalpha())


def rules_matched(word: str, language: str) -> list[int]:
    """The rules that write `word`, in order: at each position the first rule
    that matches there; a letter no rule matches is dropped."""
    table = _table(language)
    found: list[int] = []
    simple, by_letter, anywhere = table.simple, table.by_letter, table.anywhere
    i, end = 0, len(word)
    while i < end:
        c = word[i]
        rule = simple.get(c)
        if rule is not None:
            found.append(rule)
            i += 1
            continue
        joined = by_letter.get(c, anywhere)
        m = (joined.compiled or joined.pattern).match(word, i)
        if m is None:
            i += 1
        elif m.end() == i:
            # A pattern matched an empty string, which the one-by-one reading
            # skips to try the next rule: read this word that way.
            return _rules_one_by_one(word, language)
        else:
            found.append(joined.rule_of_group[m.lastindex or 0])
            i = m.end()
    return found


def _rules_one_by_one(word: str, language: str) -> list[int]:
    rules = transcription()[language]
    found: list[int] = []
    i = 0
    while i < len(word):
        for n, (pattern, _) in enumerate(rules):
            m = pattern.match(word, i)
            if m is not None and m.end() > i:
                found.append(n)
                i = m.end()
                break
        else:
            i += 1
    return found


def transcribe(latin: str, language: str = "english") -> tuple[str, ...]:
    """A Latin word written in Russian Cyrillic by the practical transcription
    rules of `language` (vocab/transcription.yml): a few likely spellings.

    Where every ambiguous letter has few choices all combinations are kept;
    otherwise the k-th spelling of each ambiguous letter goes together (all
    first choices, all second choices...), and the fuzzy comparison absorbs
    the mixed cases.
    """
    table = _table(language)
    pieces = [table.spellings[n] for n in rules_matched(_word(latin, table.folded), language)]
    return tuple(dict.fromkeys(o for o in _combine(pieces, pieces) if o))


def transcription_keys(latin: str, language: str) -> tuple[str, ...]:
    """The skeletons of `transcribe(latin, language)`, in the same order, made
    from each spelling's skeleton letters: spellings that reduce to the same
    letters (е, э) are combined once."""
    return _word_keys(_word(latin, _table(language).folded), language)


def _word_keys(word: str, language: str) -> tuple[str, ...]:
    table = _table(language)
    matched = rules_matched(word, language)
    combos = 1
    for n in matched:
        combos *= len(table.spellings[n])
    if combos > _MAX_TRANSCRIPTIONS:
        out = _combine([table.skeletons[n] for n in matched], [])
        return tuple(dict.fromkeys(k for k in (_sibilant_vowel(_collapse(o)) for o in out) if k))
    # Every combination, built piece by piece, a doubled letter made single
    # where pieces meet (each piece is single inside): `_collapse` of the
    # whole. A prefix reached twice is extended twice and dropped at the end,
    # which keeps each key where it first comes.
    keys = [""]
    distinct = table.distinct
    for n in matched:
        options = distinct[n]
        if len(options) == 1:
            piece = options[0]
            if piece:
                keys = [k + (piece[1:] if k[-1:] == piece[:1] else piece) for k in keys]
        else:
            keys = [k + (p[1:] if k[-1:] == p[:1] else p) for k in keys for p in options]
    return tuple(k for k in dict.fromkeys(_sibilant_vowel(k) if "o" in k else k for k in keys) if k)


def _combine(pieces: list[tuple[str, ...]], distinct: list[tuple[str, ...]]) -> list[str]:
    """All combinations (of `distinct`, the same strings as `pieces`'s without
    repeats) when `pieces` has few; else the k-th choices of `pieces` together."""
    combos = 1
    for p in pieces:
        combos *= len(p)
    if combos <= _MAX_TRANSCRIPTIONS:
        return ["".join(c) for c in itertools.product(*distinct)]
    width = max(len(p) for p in pieces)
    return ["".join(p[min(k, len(p) - 1)] for p in pieces) for k in range(width)]


def readings_fingerprint() -> str:
    """What the readings of a token (`token_keys`) are made from: the name
    vocabulary, this module, the scheme names and the parser. A persisted
    index whose fingerprint differs holds another engine's readings and is
    rebuilt."""
    here = Path(__file__)
    code = b"".join(here.with_name(module).read_bytes() for module in ("script.py", "schemes.py", "parse.py"))
    vocab = files_digest(
        ("transliteration.yml", "titles.yml", "given_names.yml", "patronymics.yml", "surnames.yml", "transcription.yml")
    )
    return hashlib.blake2b(code + vocab.encode(), digest_size=8).hexdigest()


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
    return token_readings(token, tuple(transcription_languages().labels))


def token_readings(token: str, languages: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """`token_keys` with the transcriptions of `languages` only: the keys that
    count as `letter_reading`s are those of `token_readings(token, ("english",))`."""
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
        # A key several languages' rules write is named for all of them
        # (Kohl is Коль by English and German rules alike).
        written: dict[str, list[str]] = {}
        # The word each language's rules read, made once for all of them.
        words = {folded: _word(latin, folded) for folded in (True, False)}
        folded_languages = transcription_languages().folded
        for language in languages:
            for key in _word_keys(words[language in folded_languages], language):
                written.setdefault(key, []).append(language)
        for key, writers in written.items():
            keys.setdefault(key, transcription_scheme(writers))
    return tuple((k, s) for k, s in keys.items() if k)
