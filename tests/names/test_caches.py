"""The fast paths of a name index over a mapped file: bulk reads and caches give the answers
of the plain paths, before and after the index changes."""

from __future__ import annotations

import pickle
import random
from pathlib import Path

import numpy as np

from kartoteka.names.compare import compare_names
from kartoteka.names.frozen import Frozen, KeyTable, Rows, key_hash, key_hashes
from kartoteka.names.index import NameIndex
from kartoteka.names.layers import Counts, Multi
from kartoteka.names.parse import parse_name
from kartoteka.names.postings import Lru
from tests.names.test_frozen import FAMILY, GIVEN, QUERIES, answers, built, names


def test_a_loaded_file_is_read_through_plain_arrays(tmp_path: Path) -> None:
    # np.memmap's Python-level indexing was most of a warm query's time.
    built(names(200, seed=3)).freeze().save(tmp_path / "x")
    loaded = Frozen.load(tmp_path / "x")
    assert type(loaded.r_surname) is np.ndarray and type(loaded.by_surname.values) is np.ndarray
    assert not loaded.r_surname.flags.writeable


def test_keys_hashed_together_as_one_by_one() -> None:
    keys = ["petrov", "ptrov", "петров", "", "x" * 300]
    assert key_hashes(keys).tolist() == [key_hash(k) for k in keys]
    assert len(key_hashes([])) == 0


def test_rows_gathered_at_once_as_one_by_one() -> None:
    rng = np.random.default_rng(1)
    rows = rng.integers(0, 50, 400)
    table = Rows.of(60, rows, rng.integers(0, 1000, 400))
    for picked in ([], [3], [0, 59], [5, 5, 7], list(range(60))):
        idx = np.asarray(picked, dtype=np.int64)
        expected = np.concatenate([table.row(r) for r in picked]) if picked else np.empty(0, np.int32)
        assert table.gather(idx).tolist() == expected.tolist()


def test_a_key_table_finds_every_row_of_the_keys_asked() -> None:
    pairs = [("petrov", 1), ("petrov", 4), ("sokolov", 2), ("zorin", 3), ("zorin", 1)]
    table = KeyTable.of(key_hashes(k for k, _ in pairs), np.asarray([v for _, v in pairs], dtype=np.int64))
    assert sorted(table.lookup(key_hashes(["zorin", "petrov", "absent", "zorin"])).tolist()) == [1, 1, 3, 4]
    assert table.lookup(key_hashes(["absent"])).tolist() == []


def test_counts_read_in_bulk_as_one_by_one() -> None:
    dense = Counts(base_dense=np.asarray([0, 2, 5, 1], dtype=np.int32))
    sparse = Counts(base_keys=np.asarray([3, 10, 40], dtype=np.int64), base_counts=np.asarray([1, 7, 2], np.int32))
    for counts in (dense, sparse, Counts()):
        counts.add(2, -1)
        counts.add(10, 3)
        counts.add(99, 1)
        keys = np.asarray([0, 1, 2, 3, 10, 40, 41, 99, 5], dtype=np.int64)
        assert counts.get_many(keys).tolist() == [counts.get(int(k)) for k in keys]


def test_postings_read_in_bulk_as_one_by_one() -> None:
    base = Rows.of(5, np.asarray([0, 0, 2, 4], dtype=np.int64), np.asarray([7, 8, 9, 10], dtype=np.int64))
    multi = Multi(base)
    for keys in ([0, 2, 4], [1], [4, 0]):
        values, sizes = multi.get_many(keys)
        assert values.tolist() == [v for k in keys for v in multi.get(k).tolist()]
        assert sizes.tolist() == [len(multi.get(k)) for k in keys]
    multi.append(2, 11)
    multi.append(6, 12)  # beyond the base
    values, sizes = multi.get_many([2, 6, 0])
    assert values.tolist() == [9, 11, 12, 7, 8] and sizes.tolist() == [2, 1, 2]


def test_an_lru_forgets_the_least_recently_used() -> None:
    lru: Lru[str, int] = Lru(2)
    lru.put("a", 1)
    lru.put("b", 2)
    assert lru.get("a") == 1  # "b" is now the oldest
    lru.put("c", 3)
    assert lru.get("b") is None and lru.get("a") == 1 and lru.get("c") == 3
    assert len(lru) == 2


def test_an_index_with_filled_caches_pickles_and_answers_the_same(tmp_path: Path) -> None:
    # A Ray screen sends the index to its workers pickled; the caches (and their locks) stay behind.
    built(names(600, seed=4)).freeze().save(tmp_path / "x")
    index = NameIndex(Frozen.load(tmp_path / "x"))
    before = answers(index)
    copy = pickle.loads(pickle.dumps(index))
    assert len(copy._family_cache) == 0
    assert answers(copy) == before


def test_caches_filled_before_a_change_answer_as_a_rebuild_after_it(tmp_path: Path) -> None:
    rows = names(2000, seed=21)
    half = len(rows) // 2
    built(rows[:half]).freeze().save(tmp_path / "base")
    layered = NameIndex(Frozen.load(tmp_path / "base"))
    assert answers(layered) == answers(built(rows[:half]))  # every query's caches filled
    # New spellings of the family names asked for, new people, and people gone.
    rng = random.Random(8)
    more = [(f"n{i}", f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}{rng.choice(['in', 'y', ''])}", 1) for i in range(300)]
    more += [(f"z{i}", name, 2) for i, name in enumerate(["Sorin Arkady", "Kalmykoff", "Ivan Petroff", "Anna Smyth"])]
    for row in rows[half:] + more:
        layered.add(*row)
    gone = set(rng.sample(sorted({eid for eid, _, _ in rows}), 150))
    for eid in gone:
        layered.discard(eid)
    reference = built([r for r in rows if r[0] not in gone] + more)
    assert answers(layered) == answers(reference)
    assert answers(layered) == answers(reference)  # and again, from the caches
    assert any(h for hits in answers(reference) for h in hits if h[0].startswith("z"))
    # A base that has answered many queries still answers each as it did first.
    fresh = NameIndex(Frozen.load(tmp_path / "base"))
    first = [[(h.entity_id, h.score) for h in fresh.search(q, 10)] for q in QUERIES]
    for _ in range(3):
        assert [[(h.entity_id, h.score) for h in fresh.search(q, 10)] for q in QUERIES] == first


def test_records_alike_rescored_once_answer_as_each_rescored() -> None:
    # Hundreds of "Oleg Danilovich ..." tie at the last place of an address-form
    # query; records alike share one rescoring, which must be each one's own.
    index = NameIndex()
    family = ["Kalugin", "Petrov", "Sokolov", "Zorin", "Bortnik"]
    for i in range(120):
        index.add(f"p{i}", f"Oleg Danilovich {family[i % 5]}{'' if i < 5 else i}", i % 3)
    index.add("q1", "Oleg Daniilovich Orlov")
    index.add("q2", "O. Danilovich Orlov")
    for query in ("Oleg Danilovich", "Oleg Daniilovich", "Oleg Kalugin", "Oleg D. Kalugin"):
        q = parse_name(query)
        hits = index.search(q, limit=200, floor=0.0)
        assert hits
        for h in hits:
            alone = compare_names(q, parse_name(h.matched))
            assert (h.score, h.explanation) == (alone.score, alone.explanation), (query, h)
