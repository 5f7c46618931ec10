"""Search facets: counts of the passages a query found, by what they mention and where they come from.

Counted over the viewer's matches only (the visible label partitions the
search ran in), so every count is a function of what the viewer may see.
Five facets, each a plain property of a visible passage:

- `kind`: the kinds of entity it mentions (PERSON, ORG, PLACE, DATE)
- `year`: the years of the dates in it
- `classification`: its own label, as stored (`S:HUM`; shown as a banner)
- `source`: the file (or corpus file) its document came from
- `collection`: the folder that file is in

Choosing a value keeps the passages that have it; choices of different
facets are combined with AND.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath

from kartoteka.access.policy import stored_label
from kartoteka.store.records import PassageFacets

FACETS = ("kind", "year", "classification", "source", "collection")
# Facet counts are taken over at most this many best matches, so that a query
# matching most of a large archive stays bounded; the answer says when.
FACET_LIMIT = 20_000
TOP = 12  # values shown per facet


@dataclass(frozen=True)
class Passage:
    portion_id: int
    values: Mapping[str, frozenset[str]]


def source_file(source: str) -> str:
    # A corpus record's source is "corpus.jsonl.gz#record-id".
    return PurePath(source.split("#", 1)[0]).name


def collection_of(source: str) -> str:
    parent = PurePath(source.split("#", 1)[0]).parent.name
    return parent or "(none)"


def passage(portion_id: int, label: str, facts: PassageFacets) -> Passage:
    return Passage(
        portion_id,
        {
            "kind": facts.kinds,
            "year": facts.years,
            "classification": frozenset({str(stored_label(label))}),
            "source": frozenset({source_file(facts.source)}),
            "collection": frozenset({collection_of(facts.source)}),
        },
    )


def keep(passages: Sequence[Passage], chosen: Mapping[str, str]) -> list[Passage]:
    return [p for p in passages if all(value in p.values[name] for name, value in chosen.items())]


def counts(passages: Sequence[Passage]) -> dict[str, list[dict[str, object]]]:
    """Per facet, its values by count (then by value, so that ties have one order)."""
    out: dict[str, list[dict[str, object]]] = {}
    for name in FACETS:
        c: Counter[str] = Counter(v for p in passages for v in p.values[name])
        ordered = sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))
        # Every label is listed: a page's banner is rolled up from all the passages it counts.
        ordered = ordered if name == "classification" else ordered[:TOP]
        out[name] = [{"value": v, "count": n} for v, n in ordered]
    return out
