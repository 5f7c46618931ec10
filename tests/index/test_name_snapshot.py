"""The owner's name index persisted beside the archive: used, brought up to date, never wrong.

Every path (first build, unchanged, after an ingest, an alias, a split, a
merge, an import, a damaged or foreign file, a clock behind the file's) is
checked against a full rebuild from the store, on both backends.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from kartoteka.archive import Archive
from kartoteka.demo import corpus_path
from kartoteka.index import name_snapshot
from kartoteka.index.resolve import build_name_index
from kartoteka.names.index import NameIndex
from kartoteka.store.location import side_path
from tests.backends import Where
from tests.conftest import ingest_paths

QUERIES = [
    "Arkady Zorin",
    "Зорин",
    "Sorin",
    "Grigory Bortnik",
    "Anton Sorokin",
    "Kalmykov",
    "Pyotr Kalmykov",
    "Wetrowa",
    "Mendes",
    "Ivan Petrov",
    "Nadia Holloway",
    "Boris Sokolov",
]


def answers(index: NameIndex) -> list[list[tuple[str, str, float, str]]]:
    # Case-only spelling differences share a token, spelt as first met (tests/names/test_frozen.py).
    return [[(h.entity_id, h.matched, h.score, h.explanation.casefold()) for h in index.search(q, 10)] for q in QUERIES]


def snapshot(arch: Archive) -> Path:
    return name_snapshot.snapshot_path(side_path(arch.path))


def fresh_index(arch: Archive) -> NameIndex:
    """The index a new process opening the archive would search."""
    again = Archive(arch.path)
    try:
        return again._cards.name_index()
    finally:
        again.close()


def assert_current(arch: Archive) -> None:
    assert answers(fresh_index(arch)) == answers(build_name_index(arch._ctx.store))


@pytest.fixture
def arch(where: Where, tmp_path: Path) -> Iterator[Archive]:
    a = Archive(where(tmp_path, "a.db"))
    ingest_paths(a, corpus_path())
    yield a
    a.close()


class NoBuild:
    """Fails the test if a full build runs: the file must have been used."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(name_snapshot, "build_name_index", self)

    def __call__(self, *_: object) -> NameIndex:
        raise AssertionError("the name index was rebuilt instead of read from its file")


def test_the_file_is_written_once_and_then_read(arch: Archive, monkeypatch: pytest.MonkeyPatch) -> None:
    arch.check("Zorin")
    assert snapshot(arch).exists()
    assert snapshot(arch).stat().st_mode & 0o777 == 0o600
    NoBuild(monkeypatch)
    assert answers(fresh_index(arch)) != [[]] * len(QUERIES)
    monkeypatch.undo()
    assert_current(arch)


def test_each_correction_and_ingest_is_read_in_without_a_rebuild(
    arch: Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    arch.check("Zorin")  # the file, at the ingest's clock
    store = arch._ctx.store
    zorin = str(arch.check("Arkady Zorin")["matches"][0]["entity_id"])  # type: ignore[index]
    bortnik = str(arch.check("Grigory Bortnik")["matches"][0]["entity_id"])  # type: ignore[index]
    steps = []
    seq = store.name_change_seq()

    def step(name: str) -> None:
        nonlocal seq
        now = store.name_change_seq()
        assert now > seq, f"{name} left no entry in the change log"
        seq = now
        steps.append(name)
        with monkeypatch.context() as m:
            NoBuild(m)  # type: ignore[arg-type]
            index = fresh_index(arch)
        assert answers(index) == answers(build_name_index(store)), f"after {name}"

    arch.alias(zorin, "Anton Sorokin")
    step("alias")
    mention = arch.dossier(zorin)["documents"][0]["snippets"][0]["mention_id"]
    arch.split(zorin, [mention])
    step("split")
    arch.merge(zorin, bortnik)
    step("merge")
    (tmp_path / "known.csv").write_text("id,name,aliases\nw1,Ivan Petrov,Ivan Petrow;Иван Петров\n")
    list(arch.import_persons(tmp_path / "known.csv"))
    step("import")
    (tmp_path / "new.txt").write_text("A later cable: Boris Sokolov met Anton Sorokin in Rome on 3 May 1979.\n")
    ingest_paths(arch, tmp_path / "new.txt")
    step("ingest")
    assert steps == ["alias", "split", "merge", "import", "ingest"]


def test_a_large_delta_rewrites_the_file(arch: Archive, monkeypatch: pytest.MonkeyPatch) -> None:
    arch.check("Zorin")
    before = name_snapshot.Frozen.load(snapshot(arch)).stamp["seq"]
    zorin = str(arch.check("Arkady Zorin")["matches"][0]["entity_id"])  # type: ignore[index]
    arch.alias(zorin, "Anton Sorokin")
    monkeypatch.setattr(name_snapshot, "REFREEZE_MIN", 0)
    fresh_index(arch)
    after = name_snapshot.Frozen.load(snapshot(arch)).stamp["seq"]
    assert after == arch._ctx.store.name_change_seq() > before
    assert_current(arch)


def test_a_damaged_file_is_rebuilt_with_a_warning(arch: Archive, capsys: pytest.CaptureFixture[str]) -> None:
    arch.check("Zorin")
    snapshot(arch).write_bytes(b"KTKNAMES" + b"\x00" * 20)
    assert_current(arch)
    assert "name index" in capsys.readouterr().err
    assert name_snapshot.Frozen.load(snapshot(arch))  # written again, whole


def test_another_archives_file_is_not_taken(where: Where, tmp_path: Path, arch: Archive) -> None:
    arch.check("Zorin")
    other = Archive(where(tmp_path, "b.db"))
    try:
        (tmp_path / "c.txt").write_text("Report: Ivan Petrov arrived in Lisbon.\n")
        ingest_paths(other, tmp_path / "c.txt")
        shutil.copy(snapshot(arch), snapshot(other))  # the same clock would not be enough
        assert answers(fresh_index(other)) == answers(build_name_index(other._ctx.store))
        assert not fresh_index(other).search("Arkady Zorin")
    finally:
        other.close()


def test_a_file_ahead_of_the_archive_is_rebuilt(arch: Archive, tmp_path: Path) -> None:
    """A backup restored over the archive: its clock is behind the file's."""
    arch.check("Zorin")
    old = tmp_path / "old.names-index"
    shutil.copy(snapshot(arch), old)
    frozen = name_snapshot.Frozen.load(old)
    stamp = {**frozen.stamp, "seq": int(frozen.stamp["seq"]) + 1000}
    ahead = name_snapshot.Frozen(**{**frozen.__dict__, "stamp": stamp})
    ahead.save(snapshot(arch))
    assert_current(arch)
    assert name_snapshot.Frozen.load(snapshot(arch)).stamp["seq"] == arch._ctx.store.name_change_seq()


@pytest.mark.parametrize("readings", [None, "another engine"])
def test_a_file_of_another_engines_readings_is_rebuilt(arch: Archive, tmp_path: Path, readings: str | None) -> None:
    """A file written before the name vocabulary or the reading code changed
    (None: before files carried the stamp at all) holds other token keys: a
    query would miss what the new readings find (a German transcription)."""
    arch.check("Zorin")
    frozen = name_snapshot.Frozen.load(snapshot(arch))
    assert frozen.stamp["readings"] == name_snapshot.readings_fingerprint()
    stamp = {k: v for k, v in frozen.stamp.items() if k != "readings"}
    if readings is not None:
        stamp["readings"] = readings
    old = name_snapshot.Frozen(**{**frozen.__dict__, "stamp": stamp})
    tmp = tmp_path / "old.names-index"
    old.save(tmp)
    shutil.copy(tmp, snapshot(arch))
    assert_current(arch)
    assert name_snapshot.Frozen.load(snapshot(arch)).stamp["readings"] == name_snapshot.readings_fingerprint()
