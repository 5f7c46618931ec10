"""Assessment: Admiralty grades, claims, confirmation and contradiction.

A claim is something one source says about an entity, graded A–F (how
reliable the source) and 1–6 (how credible the information). Claims that say
the same thing are grouped; a group reaches credibility 1 ("confirmed by
other sources") only when at least two *independent* sources support it:
different sources, not two documents from one source. Otherwise its
credibility is the best one stated, but never 1.

Two groups contradict when one says the inverse of an asymmetric relation
the other says (A superior_of B against B superior_of A), or when one
statement is the other negated ("was in Lisbon" / "was not in Lisbon").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from kartoteka.vocab import _load

RELIABILITY = "ABCDEF"
ASYMMETRIC = frozenset({"superior_of", "recruited", "handled", "succeeded", "warned"})
SYMMETRIC = frozenset({"met", "communicated_with", "married_to"})


@cache
def scale() -> dict[str, Any]:
    return _load("admiralty.yml")


def check_grade(reliability: str, credibility: int) -> tuple[str, int]:
    r = reliability.strip().upper()
    if r not in RELIABILITY or len(r) != 1:
        raise ValueError(f"reliability must be one of A–F, not {reliability!r}")
    if credibility not in range(1, 7):
        raise ValueError(f"credibility must be 1–6, not {credibility!r}")
    return r, credibility


def stix_confidence(credibility: int) -> int | None:
    """The STIX 2.1 confidence of an Admiralty credibility (None for 6)."""
    value = scale()["credibility"][credibility]["stix"]
    return None if value is None else int(value)


def describe(reliability: str, credibility: int) -> str:
    s = scale()
    return f"{reliability}{credibility}: {s['reliability'][reliability]['name']}, {s['credibility'][credibility]['name'].lower()}"


@dataclass(frozen=True)
class Claim:
    id: int
    subject: str
    statement: str
    relation: str | None
    object: str | None
    source: str
    reliability: str
    credibility: int
    document_id: str | None
    portion_id: int | None
    origin: str


def _normal(statement: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", statement.casefold()).split())


def group_key(c: Claim, order: Callable[[str], Any] = str) -> tuple[str, ...]:
    """What makes two claims the same claim. `order` ranks entities for the
    two sides of a symmetric relation (A met B is B met A)."""
    if c.relation:
        a, b = c.subject, c.object or ""
        if c.relation in SYMMETRIC and b and order(b) < order(a):
            a, b = b, a
        return ("rel", a, c.relation, b)
    return ("say", c.subject, _normal(c.statement))


def _negated(key: tuple[str, ...]) -> tuple[str, ...] | None:
    if key[0] != "say":
        return None
    words = key[2].split()
    if "not" in words:
        words.remove("not")
        return ("say", key[1], " ".join(words))
    return None


@dataclass
class Assessment:
    key: tuple[str, ...]
    claims: list[Claim]
    credibility: int
    reliability: str
    sources: list[str]
    contradicted_by: list[tuple[str, ...]]

    @property
    def confirmed(self) -> bool:
        return self.credibility == 1


def assess(claims: Iterable[Claim], order: Callable[[str], Any] = str) -> list[Assessment]:
    """Claims grouped, graded and checked for contradiction, best graded first.

    `order` ranks entities wherever an order is chosen; the archive passes
    the names its viewer is shown, so no order follows entity ids (keyed
    from first mentions that may be hidden). Sources are listed as first
    stated.
    """
    groups: dict[tuple[str, ...], list[Claim]] = {}
    for c in claims:
        groups.setdefault(group_key(c, order), []).append(c)
    out: list[Assessment] = []
    for key, members in groups.items():
        sources = list(dict.fromkeys(m.source for m in members))
        stated = min(m.credibility for m in members)
        credibility = 1 if len(sources) >= 2 else max(stated, 2)
        reliability = min(m.reliability for m in members)
        out.append(Assessment(key, members, credibility, reliability, sources, []))
    keys = {a.key for a in out}
    for a in out:
        if a.key[0] == "rel" and a.key[2] in ASYMMETRIC:
            inverse = ("rel", a.key[3], a.key[2], a.key[1])
            if inverse in keys:
                a.contradicted_by.append(inverse)
        neg = _negated(a.key)
        if neg and neg in keys:
            a.contradicted_by.append(neg)
    for a in out:  # contradiction is mutual
        for other in out:
            if a.key in other.contradicted_by and other.key not in a.contradicted_by:
                a.contradicted_by.append(other.key)

    def ranked(key: tuple[str, ...]) -> tuple[Any, ...]:
        if key[0] == "rel":
            return (key[0], order(key[1]), key[2], order(key[3]) if key[3] else "")
        return (key[0], order(key[1]), *key[2:])

    return sorted(out, key=lambda a: (a.credibility, a.reliability, ranked(a.key)))
