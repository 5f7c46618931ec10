"""`NameIndex.search(accept=...)`: the cut is taken among the accepted records (entity, name) only."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from kartoteka.names.frozen import Frozen
from kartoteka.names.index import Hit, NameIndex

GIVEN = ["Ivan", "Pyotr", "Sergei", "Nikolai", "Mikhail", "Dmitri", "Boris", "Oleg", "Igor", "Viktor", "Pavel", "Lev"]
FAMILY = ["Petrov", "Petrova", "Petrovsky", "Petrenko", "Popov"]
QUERIES = ["Petrov", "Ivan Petrov", "I. Petrov", "Pyotr Petrovsky", "Mr. Petrenko", "Oleg Popov", "Petrof"]


def _crowded() -> NameIndex:
    """Sixty namesakes named five times each, and one card named once."""
    ix = NameIndex()
    for i in range(60):
        ix.add(f"hidden-{i:02}", f"{GIVEN[i % len(GIVEN)]} {'ABCDE'[i // len(GIVEN)]}. Petrov", 5)
    ix.add("seen", "Andrei Petrov", 1)
    return ix


def _ids(hits: list[Hit]) -> list[str]:
    return [h.entity_id for h in hits]


def _entities(keep: set[str]) -> Callable[[list[tuple[str, str]]], set[tuple[str, str]]]:
    """Accept every name of these entities."""
    return lambda records: {r for r in records if r[0] in keep}


def test_accepted_card_is_not_crowded_out() -> None:
    ix = _crowded()
    assert "seen" not in _ids(ix.search("Petrov", limit=50))  # the crowding the filter is for
    asked: Counter[str] = Counter()

    def only_seen(records: list[tuple[str, str]]) -> set[tuple[str, str]]:
        asked.update(e for e, _ in records)
        return {r for r in records if r[0] == "seen"}

    assert _ids(ix.search("Petrov", limit=50, accept=only_seen)) == ["seen"]
    assert max(asked.values()) == 1  # each entity (one name each) asked once
    assert set(asked) <= {"seen", *(f"hidden-{i:02}" for i in range(60))}


def _hidden_ids(n: int) -> set[str]:
    return {f"x-{i:02}" for i in range(n)}


def test_a_hidden_name_of_an_accepted_card_does_not_rank_it() -> None:
    # Sixty cards whose visible names are "X Petrov" and which each hold a
    # hidden alias "Andrei Petrov": judged by entity they would take every
    # place for "Andrei Petrov" by a name their readers may not see.
    ix = NameIndex()
    for i in range(60):
        ix.add(f"x-{i:02}", f"{GIVEN[i % len(GIVEN)]} {'ABCDE'[i // len(GIVEN)]}. Petrov", 3)
        ix.add(f"x-{i:02}", "Andrei Petrov", 3)  # the hidden alias
    ix.add("seen", "Petrov", 1)

    def visible(records: list[tuple[str, str]]) -> set[tuple[str, str]]:
        return {r for r in records if r[1] != "Andrei Petrov"}

    assert "seen" not in _ids(ix.search("Andrei Petrov", limit=50, accept=_entities({"seen", *_hidden_ids(60)})))
    found = ix.search("Andrei Petrov", limit=50, accept=visible)
    assert "seen" in _ids(found) and all(h.matched != "Andrei Petrov" for h in found)


def test_accepting_everything_changes_nothing() -> None:
    ix = _crowded()
    for q in QUERIES:
        for limit in (1, 5, 50):
            assert ix.search(q, limit=limit, accept=set) == ix.search(q, limit=limit), (q, limit)


def _random_index(rng: random.Random, n: int) -> NameIndex:
    ix = NameIndex()
    for i in range(n):
        ix.add(f"e{i:04}", f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}", rng.randrange(1, 6))
        if rng.random() < 0.2:
            ix.add(f"e{i:04}", rng.choice(FAMILY), 1)
    return ix


def test_the_cut_is_the_best_of_the_accepted() -> None:
    """Past the shortlist too (a few hundred records for one family name): the
    filtered answer is the unfiltered one, all of it, narrowed and then cut."""
    rng = random.Random(7)
    ix = _random_index(rng, 900)
    for _ in range(40):
        keep = {f"e{i:04}" for i in range(900) if rng.random() < rng.choice((0.02, 0.2, 0.7))}
        q, limit = rng.choice(QUERIES), rng.choice((1, 5, 20))
        everything = ix.search(q, limit=10_000)
        wanted = [h for h in everything if h.entity_id in keep][:limit]
        got = ix.search(q, limit=limit, accept=_entities(keep))
        assert got == wanted, (q, limit, len(keep))


def test_over_a_frozen_base(tmp_path: Path) -> None:
    rng = random.Random(11)
    built = _random_index(rng, 300)
    built.freeze().save(tmp_path / "base")
    layered = NameIndex(Frozen.load(tmp_path / "base"))
    layered.add("new", "Andrei Petrov", 1)
    built.add("new", "Andrei Petrov", 1)
    keep = {"new", *(f"e{i:04}" for i in range(0, 300, 3))}
    for q in QUERIES:
        assert layered.search(q, limit=5, accept=_entities(keep)) == built.search(q, limit=5, accept=_entities(keep))
