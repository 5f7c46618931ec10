"""Compare two parsed names: a calibrated score and a readable explanation.

The score is built from per-part evidence, so every number can be traced:

* family name: best similarity over all readings of both spellings
  (normalised Levenshtein on the comparison skeleton), calibrated so that one
  slip in a seven-letter name stays "likely" and two do not;
* given name: equal, equivalent (diminutive, other language), an initial that
  fits, a typo, or a conflict, which vetoes the match;
* patronymic: agreement confirms, disagreement vetoes, absence is neutral.

Meaning of the score, documented for users: 0.9 and above, the same name
written another way; 0.7 and above, likely the same person; below 0.5, a
different person or too little evidence.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import OSA

from kartoteka.names.parse import NameToken, ParsedName, given_classes
from kartoteka.names.script import CYRILLIC_ONLY, SCHEME_LABELS, letter_reading

LIKELY = 0.7

# Piecewise-linear calibration of raw skeleton similarity to evidence.
# Chosen on the hard pairs the engine must keep apart: Kalugin/Kalinin
# (0.71 raw) must fall well below LIKELY, a one-letter OCR slip in a
# seven-letter name (0.86 raw) must stay above it.
_CURVE = ((0.6, 0.0), (0.7, 0.3), (0.8, 0.72), (0.9, 0.9), (1.0, 1.0))

# A family name that is itself on file, exactly or in another transliteration,
# is a name, not a slip: "Fedotov" asked for is not a typo of "Fedorov" when
# the index holds Fedotovs. Near spellings then count less.
NAME_ON_FILE = 0.75
ONE_SIDED = 0.8  # a family name matched, given name known on one side only
GIVEN_CONFLICT = 0.25
INITIAL_FITS = 0.92
GIVEN_EQUIVALENT = 0.95
MIDDLE_CONFLICT = 0.6
PATRONYMIC_CONFLICT = 0.4
# A spelling that meets the record only through a common misspelling
# (Kruschev for Khrushchev) is a little less sure than a transliteration.
MISSPELLING = 0.95


# A name shared by many records in the index identifies its bearer less
# well. Up to COMMON_FREE sharers cost nothing; beyond that each tenfold
# costs `slope`, never below `floor`. A family name alone ("Smith", one in a
# hundred records) loses more than a full name ("John Smith").
COMMON_FREE = 3
SURNAME_ONLY_COMMONNESS = (0.08, 0.7)  # (slope, floor)
FULL_NAME_COMMONNESS = (0.04, 0.85)


def commonness(count: int, slope: float, floor: float) -> float:
    if count <= COMMON_FREE:
        return 1.0
    return max(floor, 1.0 - slope * math.log10(count / COMMON_FREE))


def calibrate(sim: float) -> float:
    if sim <= _CURVE[0][0]:
        return 0.0
    for (x0, y0), (x1, y1) in itertools.pairwise(_CURVE):
        if sim <= x1:
            return y0 + (y1 - y0) * (sim - x0) / (x1 - x0)
    return 1.0


@dataclass(frozen=True)
class TokenMatch:
    similarity: float
    note: str  # how the two spellings met

    @property
    def evidence(self) -> float:
        return calibrate(self.similarity)


# A pure function of two tokens, asked about the same pairs again within one
# search (a candidate family name is compared when retrieved, then again when
# its record is explained) and across a batch. Bounded: a pair costs about
# 200 bytes, and an OCR corpus has no end of distinct tokens.
@lru_cache(maxsize=65_536)
def match_tokens(a: NameToken, b: NameToken) -> TokenMatch:
    if a.text.casefold() == b.text.casefold():
        return TokenMatch(1.0, "")
    best = TokenMatch(0.0, "")
    # A transcription pairs only with a Cyrillic spelling's key (below): left
    # out beforehand where the other token has none, so that two Latin names
    # do not try each other's transcriptions pair by pair.
    a_keys = a.keys if any(s == "cyrillic" for _, s in b.keys) else [x for x in a.keys if x[1] not in CYRILLIC_ONLY]
    b_keys = b.keys if any(s == "cyrillic" for _, s in a.keys) else [x for x in b.keys if x[1] not in CYRILLIC_ONLY]
    for ka, sa in a_keys:
        for kb, sb in b_keys:
            # A Latin name's Russian transcription counts only against a
            # Cyrillic spelling, and only when it is that spelling: English
            # rules read into a Russian name in Latin letters ("Sukhov" as
            # "саков") would otherwise meet other names (Исаков) by a slip.
            if (sa in CYRILLIC_ONLY or sb in CYRILLIC_ONLY) and (ka != kb or "cyrillic" not in (sa, sb)):
                continue
            # OSA: a swapped pair of letters is one slip, not two.
            sim = OSA.normalized_similarity(ka, kb)
            if sim < 1.0 and "ocr" in (sa, sb):
                # An OCR reading explains a spelling only when it explains all
                # of it: a confusion plus a further slip is a different name
                # ("Putilin" is a surname in its own right, not "Putin" misread).
                continue
            if "misspelling" in (sa, sb):
                sim *= MISSPELLING
            if sim > best.similarity:
                special = [s for s in (sa, sb) if s in CYRILLIC_ONLY or s == "misspelling"]
                scheme = special[0] if special else (sa if sa != "plain" else sb)
                label = SCHEME_LABELS.get(scheme, scheme) if scheme != "plain" or sim == 1.0 else "spelling"
                note = label if sim == 1.0 else f"{label}, {1 - sim:.0%} edits"
                best = TokenMatch(sim, note)
                if sim == 1.0 and scheme == "plain":
                    return TokenMatch(1.0, "same spelling")
    return best


@dataclass(frozen=True)
class Part:
    role: str
    query: str | None
    candidate: str | None
    relation: str  # "=", "≈", "~", "≠", "absent"
    note: str = ""

    def render(self) -> str:
        if self.relation == "note":
            return f"{self.role} {self.note}"
        if self.relation == "absent":
            side = "query" if self.query is None else "record"
            present = self.candidate if self.query is None else self.query
            return f"{self.role} {present} absent in {side}"
        text = f"{self.role} {self.candidate} {self.relation} {self.query}"
        return f"{text} ({self.note})" if self.note else text


@dataclass(frozen=True)
class NameMatch:
    score: float
    parts: tuple[Part, ...]

    @property
    def explanation(self) -> str:
        return "; ".join(p.render() for p in self.parts)


def given_evidence(q: NameToken, c: NameToken, on_file: bool = False) -> tuple[float, Part]:
    """How well record given name `c` fits query given name `q`.

    `on_file`: the query's given name is itself a name in the index, so a near
    spelling of another name is that other name, not a slip (Igor is not Yegor).
    """
    if q.is_initial or c.is_initial:
        full = c if q.is_initial else q
        fits = any(k[:1] == (q if q.is_initial else c).initial for k, s in full.keys if letter_reading(s))
        if fits:
            return INITIAL_FITS, Part("given name", q.text, c.text, "~", "initial fits")
        return GIVEN_CONFLICT, Part("given name", q.text, c.text, "≠", "initial differs")
    tm = match_tokens(q, c)
    if tm.similarity == 1.0:
        return 1.0, Part("given name", q.text, c.text, "=", "" if tm.note == "same spelling" else tm.note)
    if given_classes(q) & given_classes(c):
        return GIVEN_EQUIVALENT, Part("given name", q.text, c.text, "≈", "equivalent form")
    if tm.evidence >= 0.7:
        if on_file:
            return GIVEN_CONFLICT, Part("given name", q.text, c.text, "≠", f"{q.text} is itself a name on file")
        return tm.evidence, Part("given name", q.text, c.text, "≈", tm.note)
    return GIVEN_CONFLICT, Part("given name", q.text, c.text, "≠")


def _given_evidence(q: ParsedName, c: ParsedName, parts: list[Part], on_file: frozenset[str]) -> float:
    if q.given and c.given:
        factor, part = given_evidence(q.given[0], c.given[0], "given" in on_file)
        parts.append(part)
        # Second given names (middle names, or initials such as "L.H.")
        # count only when both sides have them.
        if factor > GIVEN_CONFLICT and len(q.given) > 1 and len(c.given) > 1:
            f2, p2 = given_evidence(q.given[1], c.given[1])
            parts.append(Part("middle name", p2.query, p2.candidate, p2.relation, p2.note))
            factor *= 1.0 if f2 > GIVEN_CONFLICT else MIDDLE_CONFLICT
        elif factor > GIVEN_CONFLICT and len(q.given) > 1 and q.given[1].is_initial and c.patronymic is not None:
            # "O. D. Kalugin" against Oleg Danilovich Kalugin: the second
            # initial is the patronymic's.
            fits = patronymic_initial_fits(q.given[1], c.patronymic)
            parts.append(
                Part(
                    "patronymic",
                    q.given[1].text,
                    c.patronymic.text,
                    "~" if fits else "≠",
                    "initial fits" if fits else "initial differs",
                )
            )
            factor *= 1.0 if fits else MIDDLE_CONFLICT
        return factor
    if q.given or c.given:
        side = q.given or c.given
        parts.append(Part("given name", side[0].text if q.given else None, side[0].text if c.given else None, "absent"))
        return ONE_SIDED
    return ONE_SIDED


def patronymic_initial_fits(initial: NameToken, patronymic: NameToken) -> bool:
    return any(k[:1] == initial.initial for k, s in patronymic.keys if letter_reading(s))


def _patronymic_evidence(q: ParsedName, c: ParsedName, parts: list[Part]) -> float:
    if q.patronymic and c.patronymic:
        tm = match_tokens(q.patronymic, c.patronymic)
        if tm.evidence >= 0.7:
            parts.append(
                Part(
                    "patronymic",
                    q.patronymic.text,
                    c.patronymic.text,
                    "=" if tm.similarity == 1 else "≈",
                    tm.note if tm.note != "same spelling" else "",
                )
            )
            return 1.0
        parts.append(Part("patronymic", q.patronymic.text, c.patronymic.text, "≠"))
        return PATRONYMIC_CONFLICT
    if q.patronymic and not c.patronymic:
        parts.append(Part("patronymic", q.patronymic.text, None, "absent"))
    return 1.0


def compare_names(q: ParsedName, c: ParsedName, on_file: frozenset[str] = frozenset()) -> NameMatch:
    """Score how likely the query name `q` names the same person as record name `c`.

    `on_file` names the roles ("family", "given") in which the query's name is
    itself on file in the index: a near spelling of another name then counts
    as that other name, not as a slip.
    """
    parts: list[Part] = []
    if q.surname and c.surname:
        tm = match_tokens(q.surname, c.surname)
        rel = "=" if tm.similarity == 1.0 else "≈"
        parts.append(
            Part("family name", q.surname.text, c.surname.text, rel, "" if tm.note == "same spelling" else tm.note)
        )
        score = tm.evidence
        if score == 0.0:
            return NameMatch(0.0, tuple(parts))
        if tm.similarity < 1.0 and "family" in on_file:
            score *= NAME_ON_FILE
            parts.append(
                Part("family name", None, None, "note", f"{q.surname.text} is itself on file (×{NAME_ON_FILE:.2f})")
            )
        score *= _given_evidence(q, c, parts, on_file)
        score *= _patronymic_evidence(q, c, parts)
        return NameMatch(round(min(score, 1.0), 4), tuple(parts))
    if q.surname is None and q.given and c.given:
        # Address form "Oleg Danilovich": given name and patronymic must both
        # agree with the record; a given name alone is too weak to alert on.
        g, part = given_evidence(q.given[0], c.given[0], "given" in on_file)
        parts.append(part)
        if q.patronymic and c.patronymic:
            p = _patronymic_evidence(q, c, parts)
            return NameMatch(round(0.9 * g * p, 4) if p == 1.0 else round(0.2 * g, 4), tuple(parts))
        return NameMatch(round(0.45 * g, 4), tuple(parts))
    return NameMatch(0.0, tuple(parts))
