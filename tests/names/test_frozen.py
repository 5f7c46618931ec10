"""The name index frozen to a file and laid over: the same answers as one built in memory."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from kartoteka.names.frozen import MAGIC, Frozen, FrozenError
from kartoteka.names.index import NameIndex

GIVEN = ["Ivan", "Oleg", "Arkady", "Pyotr", "Vladimir", "Sergei", "Anna", "Irina", "John", "Lee", "Silvia", "José"]
FAMILY = ["Petrov", "Sokolov", "Zorin", "Kalmykov", "Bortnik", "Oswald", "Duran", "Smith", "Nechiporenko", "Kuran"]
FORMS = [
    "{g} {f}",
    "{f}, {g}",
    "{g} {p} {f}",
    "{F}",
    "{g}. {f}",
    "{g} ((F))",
    "Зорин",
    "{g} Tirado de {f}",
]
PATRONYMICS = ["Petrovich", "Ivanovich", "Sergeyevna", "Pavlovich"]
QUERIES = [
    "Ivan Petrov",
    "Petrov",
    "I. Petrov",
    "Arkady Pavlovich Zorin",
    "Зорин",
    "Sorin",
    "ZORIN, Arkadiy P.",
    "Lee Oswald",
    "Ли Харви Освальд",
    "Silvia Duran",
    "Sylwia Kuran",
    "Oleg Nechiporenko",
    "Jon Smith",
    "Anna",
    "Vladimir Ivanovich",
    "Kalmykoff",
]


def names(n: int, seed: int) -> list[tuple[str, str, int]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        g, f, p = rng.choice(GIVEN), rng.choice(FAMILY), rng.choice(PATRONYMICS)
        form = rng.choice(FORMS)
        f = f + rng.choice(["", "", "", "a", "ov", "s"])
        text = form.format(g=g, f=f, p=p, F=f.upper()).replace("((F))", f"(({f.upper()}))")
        out.append((f"p{i % (n // 2)}", text, rng.randrange(5)))  # two names per entity, on average
    return out


def answers(index: NameIndex) -> list[list[tuple[str, str, float, str]]]:
    # Spellings that differ only in case share one token, written in the
    # explanation as the index first met it ("DURANS", "Durans"): an index
    # brought up to date may have met them in another order.
    return [[(h.entity_id, h.matched, h.score, h.explanation.casefold()) for h in index.search(q, 10)] for q in QUERIES]


def built(rows: list[tuple[str, str, int]]) -> NameIndex:
    index = NameIndex()
    for eid, name, weight in rows:
        index.add(eid, name, weight)
    return index


@pytest.fixture(scope="module")
def rows() -> list[tuple[str, str, int]]:
    return names(3000, seed=11)


def test_a_loaded_file_answers_as_the_index_it_was_frozen_from(
    rows: list[tuple[str, str, int]], tmp_path: Path
) -> None:
    index = built(rows)
    index.freeze({"seq": 3}).save(tmp_path / "x.names-index")
    loaded = Frozen.load(tmp_path / "x.names-index")
    assert loaded.stamp == {"seq": 3}
    again = NameIndex(loaded)
    assert answers(again) == answers(index)
    assert any(answers(index)), "the queries find something"
    assert len(again) == len(index) and again.token_count == index.token_count
    assert (tmp_path / "x.names-index").stat().st_mode & 0o777 == 0o600


def test_additions_and_discards_over_a_base_equal_a_rebuild(rows: list[tuple[str, str, int]], tmp_path: Path) -> None:
    half = len(rows) // 2
    built(rows[:half]).freeze().save(tmp_path / "base")
    layered = NameIndex(Frozen.load(tmp_path / "base"))
    for eid, name, weight in rows[half:]:
        layered.add(eid, name, weight)
    assert answers(layered) == answers(built(rows))
    # Cards changed: taken out and read again with other names, some gone for good.
    rng = random.Random(5)
    entities = sorted({eid for eid, _, _ in rows})
    changed = rng.sample(entities, 200)
    renamed = {eid: [(eid, f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}", 9)] for eid in changed[:120]}
    for eid in changed:
        layered.discard(eid)
    for eid in changed[:120]:
        for row in renamed[eid]:
            layered.add(*row)
    gone = set(changed)
    reference = built([r for r in rows if r[0] not in gone] + [r for eid in changed[:120] for r in renamed[eid]])
    assert answers(layered) == answers(reference)
    # Frozen again (dead records dropped), it still answers the same.
    layered.freeze().save(tmp_path / "again")
    refrozen = NameIndex(Frozen.load(tmp_path / "again"))
    assert answers(refrozen) == answers(reference)
    assert len(refrozen) == len(reference)


def test_a_discarded_name_no_longer_counts_as_common() -> None:
    index = NameIndex()
    for i in range(6):
        index.add(f"p{i}", "Ivan Petrov")
    crowded = index.search("Ivan Petrov", 1)[0].score
    for i in range(1, 6):
        index.discard(f"p{i}")
    assert index.search("Ivan Petrov", 1)[0].score > crowded
    assert [h.entity_id for h in index.search("Ivan Petrov")] == ["p0"]


@pytest.mark.parametrize(
    "damage",
    [b"", b"not an index at all", MAGIC + b"\xff" * 8, MAGIC + (12).to_bytes(8, "little") + b'{"format": 99}'],
)
def test_a_damaged_or_foreign_file_is_refused(tmp_path: Path, damage: bytes) -> None:
    (tmp_path / "bad").write_bytes(damage)
    with pytest.raises(FrozenError):
        Frozen.load(tmp_path / "bad")


def test_a_truncated_file_is_refused(rows: list[tuple[str, str, int]], tmp_path: Path) -> None:
    built(rows[:200]).freeze().save(tmp_path / "x")
    data = (tmp_path / "x").read_bytes()
    (tmp_path / "x").write_bytes(data[: len(data) // 2])
    with pytest.raises(FrozenError, match="truncated"):
        Frozen.load(tmp_path / "x")
