"""Parse a personal name into roles: given names, patronymic, family name.

Handles titles and ranks ("Gen.", "General ... (Retired)"), possessives
("Gorbachev's"), card forms ("KALUGIN, Oleg Danilovich, Maj. Gen., KGB"),
Russian order ("Kalugin Oleg Danilovich"), initials ("L.H. OSWALD") and the
given-name-plus-patronymic address form ("Oleg Danilovich").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache, lru_cache

from kartoteka.names.script import letter_reading, token_keys, token_readings
from kartoteka.vocab import name_tables, surname_rules

PARTICLES = surname_rules().particles
# CIA cables mark the family name with double parentheses: "OLEG ((NECHIPORENKO))".
_CIA_SURNAME = re.compile(r"\(\(\s*([^()]+?)\s*\)\)")
_POSSESSIVE = re.compile(r"['’`]s?$", re.IGNORECASE)
_PAREN = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_INITIALS = re.compile(r"^(?:[^\W\d_]\.){2,}$")
_NAME_CHARS = re.compile(r"[^\w\s,.\-'’]", re.UNICODE)


@dataclass(frozen=True)
class NameToken:
    text: str
    keys: tuple[tuple[str, str], ...]

    @property
    def is_initial(self) -> bool:
        return len(self.text.rstrip(".")) == 1

    @property
    def initial(self) -> str:
        return self.keys[0][0][:1] if self.keys else ""


@dataclass(frozen=True)
class ParsedName:
    raw: str
    given: tuple[NameToken, ...] = ()
    patronymic: NameToken | None = None
    surname: NameToken | None = None
    titles: tuple[str, ...] = field(default=())

    @property
    def display(self) -> str:
        parts = [f"{t.text}." if t.is_initial and t.text.isalpha() else t.text for t in self.given]
        if self.patronymic:
            parts.append(self.patronymic.text)
        if self.surname:
            parts.append(self.surname.text)
        return " ".join(parts)

    @property
    def is_empty(self) -> bool:
        return not self.given and not self.surname and not self.patronymic

    @property
    def is_full(self) -> bool:
        """A given name and a family name: enough to identify across documents."""
        return self.surname is not None and any(not g.is_initial for g in self.given)


def _token(text: str) -> NameToken:
    return NameToken(text=text, keys=token_keys(text.replace("-", "").replace(".", "")))


@cache
def _given_key_classes() -> dict[str, frozenset[int]]:
    out: dict[str, set[int]] = {}
    for i, cls in enumerate(name_tables().given_classes):
        for name in cls:
            # Only the English transcriptions count here (`letter_reading`):
            # the other languages' are not made, which a first check would
            # otherwise pay for a thousand names.
            for key, scheme in token_readings(name, ("english",)):
                if letter_reading(scheme):
                    out.setdefault(key, set()).add(i)
    return {k: frozenset(v) for k, v in out.items()}


def given_classes(token: NameToken) -> frozenset[int]:
    table = _given_key_classes()
    # Only the literal and Cyrillic keys decide membership: reading "Danilo"
    # back under every scheme would put too many surnames into classes.
    found: set[int] = set()
    for key, scheme in token.keys:
        if scheme in ("plain", "cyrillic"):
            found |= table.get(key, frozenset())
    return frozenset(found)


def is_known_given(token: NameToken) -> bool:
    return bool(given_classes(token))


@cache
def _patronymic_short() -> frozenset[str]:
    return frozenset(k for s in name_tables().patronymic_short for k, _ in token_keys(s))


def is_patronymic(token: NameToken) -> bool:
    if token.is_initial or len(token.text) < 6:
        return False
    suffixes = name_tables().patronymic_suffixes
    for key, scheme in token.keys:
        if scheme in ("plain", "english", "german", "french", "scholarly", "cyrillic") and key.endswith(suffixes):
            return True
    return any(k in _patronymic_short() for k, _ in token.keys)


@cache
def _prefixes_by_first_word() -> dict[str, tuple[tuple[str, ...], ...]]:
    """Title prefixes grouped by their first word, longest first: one dict
    probe per word instead of a scan of every title."""
    out: dict[str, list[tuple[str, ...]]] = {}
    for prefix in name_tables().title_prefixes:
        out.setdefault(prefix[0], []).append(prefix)
    return {k: tuple(sorted(v, key=len, reverse=True)) for k, v in out.items()}


def _strip_titles(words: list[str]) -> tuple[list[str], list[str]]:
    tables = name_tables()
    by_first = _prefixes_by_first_word()
    titles: list[str] = []
    # A title may be preceded by qualifiers ("Indian Prime Minister X",
    # "former KGB Lieutenant Colonel X"): drop everything up to the last title
    # that still leaves a name behind.
    low = [w.lower().rstrip(".") for w in words]
    cut = 0
    i = 0
    while i < len(words) - 1:
        for prefix in by_first.get(low[i], ()):
            n = len(prefix)
            if i + n < len(words) and tuple(low[i : i + n]) == prefix:
                titles.append(" ".join(words[i : i + n]))
                cut = i + n
                i += n - 1
                break
        i += 1
    words = words[cut:]
    while len(words) > 1 and words[-1].lower().strip(".") in tables.title_suffixes:
        titles.append(words.pop())
    return words, titles


def _words(segment: str) -> list[str]:
    out: list[str] = []
    for w in segment.split():
        w = w.strip(".,;:'’\"“”«»")
        if not w:
            continue
        if _INITIALS.match(w + "."):
            out.extend(c for c in w if c.isalpha())
        elif any(c.isalpha() for c in w):
            out.append(w)
    return out


def _is_title_segment(segment: str) -> bool:
    """A comma segment holding only titles, qualifiers or an acronym ("Jr.", "Maj. Gen.", "KGB")."""
    words = _words(segment)
    if not words:
        return True
    tables = name_tables()
    rest, _ = _strip_titles([*words, "x"])
    if rest == ["x"]:
        return True
    if all(w.lower().strip(".") in tables.title_suffixes for w in words):
        return True
    return len(words) <= 2 and all(w.isupper() and len(w) <= 5 for w in words)


@lru_cache(maxsize=20_000)  # bounded for the same reason as token_keys
def parse_name(raw: str) -> ParsedName:
    text = unicodedata.normalize("NFC", raw).replace("’", "'")
    cia = _CIA_SURNAME.search(text)
    if cia is not None:
        # Rewritten as the card form "NECHIPORENKO, Oleg": the marked words
        # are the family name whatever their order or case.
        others = (text[: cia.start()] + " " + text[cia.end() :]).strip(" ,")
        text = f"{cia.group(1)}, {others}" if others else cia.group(1)
    text = _PAREN.sub(" ", text)
    text = _NAME_CHARS.sub(" ", text)
    text = " ".join(_POSSESSIVE.sub("", w) for w in text.split())
    segments = [s for s in (seg.strip() for seg in text.split(",")) if s]
    # A CIA surname mark makes the card form certain, even where the given
    # name in capitals ("OLEG") would pass for an acronym such as "KGB".
    inverted = cia is not None and len(segments) >= 2
    if not inverted and len(segments) >= 2 and not _is_title_segment(segments[1]):
        head, _ = _strip_titles(_words(segments[0]))
        if 1 <= len(head) <= 2:
            inverted = True
    titles: list[str] = []
    if inverted:
        surname_words, t1 = _strip_titles(_words(segments[0]))
        given_words, t2 = _strip_titles(_words(segments[1]))
        titles = t1 + t2
        words = given_words + surname_words
        surname_n = len(surname_words)
    else:
        words = _words(" ".join(s for s in segments if not _is_title_segment(s)) or segments[0] if segments else "")
        words, titles = _strip_titles(words)
        surname_n = 0
    if not words or (len(words) == 1 and (words[0].lower().rstrip("."),) in name_tables().title_prefixes):
        return ParsedName(raw=raw, titles=tuple(titles))
    tokens = [_token(w) for w in words]
    if inverted:
        surname_tokens = tokens[-surname_n:]
        rest = tokens[:-surname_n]
        return _assemble(raw, rest, surname_tokens, titles)
    if len(tokens) == 1:
        tok = tokens[0]
        if tok.is_initial or (is_known_given(tok) and not is_patronymic(tok)):
            return ParsedName(raw=raw, given=(tok,), titles=tuple(titles))
        if is_patronymic(tok):
            return ParsedName(raw=raw, patronymic=tok, titles=tuple(titles))
        return ParsedName(raw=raw, surname=tok, titles=tuple(titles))
    # Given name + patronymic, no family name: "Oleg Danilovich".
    if len(tokens) == 2 and is_patronymic(tokens[1]) and not tokens[0].is_initial:
        return ParsedName(raw=raw, given=(tokens[0],), patronymic=tokens[1], titles=tuple(titles))
    # Family name before its initials: "Bukharin N.", "Tikhonova D. F.".
    if not tokens[0].is_initial and all(t.is_initial for t in tokens[1:]):
        return _assemble(raw, tokens[1:], [tokens[0]], titles)
    # Family name first: Russian order "Kalugin Oleg [Danilovich]", or a card
    # form without a comma "OSWALD Lee Harvey" (family name in capitals).
    first, last = tokens[0], tokens[-1]
    russian_order = (
        not is_known_given(first)
        and is_known_given(tokens[1])
        and (len(tokens) == 2 or (len(tokens) == 3 and is_patronymic(last)))
    )
    caps_first = words[0].isupper() and len(words[0]) > 1 and not any(w.isupper() for w in words[1:])
    if russian_order or caps_first:
        return _assemble(raw, tokens[1:], [first], titles)
    # Particles belong to the family name: "Charles de Gaulle".
    cut = len(tokens) - 1
    while cut > 1 and words[cut - 1].lower() in PARTICLES:
        cut -= 1
    if all(w.lower() in PARTICLES for w in words[:cut]):
        # "von Braun", "De Gaulle": a particle never starts a given name.
        cut = 0
    # A particle inside the given names starts a family name that the
    # parse above cut short ("António de Oliveira Salazar"): it is not a
    # given name, so it is dropped from them, not compared as a middle name.
    rest = [t for t in tokens[:cut] if t.text.lower() not in PARTICLES] if cut else []
    return _assemble(raw, rest, tokens[cut:], titles)


def _assemble(raw: str, rest: list[NameToken], surname_tokens: list[NameToken], titles: list[str]) -> ParsedName:
    surname = surname_tokens[0] if len(surname_tokens) == 1 else _token(" ".join(t.text for t in surname_tokens))
    patronymic = None
    given = list(rest)
    for i, tok in enumerate(given):
        if i > 0 and is_patronymic(tok):
            patronymic = given.pop(i)
            break
    return ParsedName(raw=raw, given=tuple(given), patronymic=patronymic, surname=surname, titles=tuple(titles))


@dataclass(frozen=True)
class Reading:
    """Another way the same person's name is used, and the rule that reads it so."""

    name: ParsedName
    rule: str
    factor: float  # how much less sure a match through this reading is


MIDDLE_USED = 0.97
PARTICLE_ABSENT = 0.95
SECOND_SURNAME_ABSENT = 0.92


def readings(p: ParsedName) -> tuple[Reading, ...]:
    """The name as it is also cited, beside its full form.

    * a leading initial with the middle name used: "J. Lee Rankin" is
      "Lee Rankin", "W. David Slawson" is "David Slawson";
    * a family name's particles left out: "de Gaulle" cited as "Gaulle",
      "von Braun" as "Braun", "Tirado de Duran" as "Duran";
    * of two family names the second left out: Spanish paternal + maternal
      ("Fidel Castro Ruz" is "Fidel Castro"), a married name after the own
      ("Marina Oswald Porter", "Silvia Tirado de Duran" is "Silvia Tirado").
      The second-to-last word counts as a family name only when it is not
      a given name the tables know and not an initial.
    """
    out: list[Reading] = []
    if p.surname is None:
        return ()
    given = p.given
    if len(given) >= 2 and given[0].is_initial and not given[1].is_initial:
        out.append(
            Reading(
                ParsedName(raw=p.raw, given=given[1:], patronymic=p.patronymic, surname=p.surname, titles=p.titles),
                "middle name used as given name",
                MIDDLE_USED,
            )
        )
    words = p.surname.text.split()
    core = [w for w in words if w.lower() not in PARTICLES]
    if core and len(core) < len(words):
        dropped = " ".join(w for w in words if w.lower() in PARTICLES)
        out.append(
            Reading(
                ParsedName(
                    raw=p.raw, given=given, patronymic=p.patronymic, surname=_token(" ".join(core)), titles=p.titles
                ),
                f"particle {dropped} absent",
                PARTICLE_ABSENT,
            )
        )
    if len(given) >= 2 and not given[-1].is_initial and not is_known_given(given[-1]) and not is_patronymic(given[-1]):
        out.append(
            Reading(
                ParsedName(raw=p.raw, given=given[:-1], patronymic=p.patronymic, surname=given[-1], titles=p.titles),
                f"maternal surname absent (or a married name): {p.surname.text}",
                SECOND_SURNAME_ABSENT,
            )
        )
    return tuple(out)
