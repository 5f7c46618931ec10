"""The audit log under concurrency, interruption and growth (issues 10 item 8, 11 items 6 and 10)."""

from __future__ import annotations

import gzip
import json
import sqlite3
import threading
from pathlib import Path

import pytest

from kartoteka.access import audit as audit_module
from kartoteka.archive import Archive
from kartoteka.errors import KartotekaError
from kartoteka.registry import ingest as ingest_module
from kartoteka.registry.readers import RawDocument

REPORT = "UNCLASSIFIED\n\n(U) Colonel Arkady Zorin met the journalist Duarte Mendes in Lisbon in March 1977.\n"


def _doc(i: int) -> RawDocument:
    return RawDocument(f"r{i}.txt", "txt", "test.v1", REPORT + f"\n(U) Filed as report {i}.\n")


def _trail(path: Path) -> Path:
    return path.with_name(path.name + ".audit.sqlite")


def _anchors(path: Path) -> list[dict[str, object]]:
    f = path.with_name(path.name + ".audit-anchors")
    return [json.loads(x) for x in f.read_text().splitlines()] if f.exists() else []


def _verify(path: Path) -> dict[str, object]:
    arch = Archive(path)
    try:
        return arch.audit_verify()
    finally:
        arch.close()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    p = tmp_path / "a.db"
    arch = Archive(p)
    list(arch.ingest([_doc(0)]))
    arch.add_user("clerk", "U", [])
    arch.add_user("analyst", "S", [])
    arch.close()
    return p


def test_concurrent_writers_never_chain_onto_one_head(path: Path) -> None:
    """Four users read at once, each through their own connection: every entry
    chains onto its own predecessor (issue 11 item 6)."""
    users = ["clerk", "analyst", None, "clerk"]
    archives = [Archive(path, user=u) for u in users]
    barrier = threading.Barrier(len(archives))

    def reads(arch: Archive) -> None:
        barrier.wait()
        for i in range(60):
            arch.search("Lisbon" if i % 2 else "Zorin")

    threads = [threading.Thread(target=reads, args=(a,)) for a in archives]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for a in archives:
        a.close()
    result = _verify(path)
    assert result["ok"], result["problems"]
    assert result["entries"] >= 4 * 60


def test_two_sessions_closing_write_one_anchor_per_head(path: Path) -> None:
    """Two users and a clean shutdown once wrote the same head twice ("replays an old head")."""
    a, b = Archive(path, user="clerk"), Archive(path, user="analyst")
    a.search("Lisbon")
    b.search("Zorin")
    a.close()
    b.close()
    seqs = [int(str(x["seq"])) for x in _anchors(path)]
    assert seqs == sorted(set(seqs)), seqs
    result = _verify(path)
    assert result["ok"], result["problems"]
    assert result["unanchored"] == 0


def test_an_unanchored_tail_is_not_tampering_but_a_deleted_anchored_entry_is(path: Path) -> None:
    """A process killed before it anchored leaves entries no anchor covers: reported, not a failure."""
    arch = Archive(path, user="clerk")
    for _ in range(5):
        arch.search("Lisbon")
    del arch  # never closed, as after kill -9: nothing anchored these five
    result = _verify(path)
    assert result["ok"], result["problems"]
    assert result["unanchored"] == 5
    # With no anchor file at all, an intact log is still not "tampered".
    path.with_name(path.name + ".audit-anchors").unlink()
    db = sqlite3.connect(_trail(path))
    db.execute("DELETE FROM meta WHERE key='anchored'")  # as if it had never been anchored
    db.commit()
    db.close()
    result = _verify(path)
    assert result["ok"], result["problems"]
    # Entries that an anchor covers cannot go quietly.
    last = int(str(_anchors(path)[-1]["seq"]))
    db = sqlite3.connect(_trail(path))
    db.execute("DELETE FROM audit WHERE seq >= ?", (last - 1,))
    db.commit()
    db.close()
    assert not _verify(path)["ok"]


def test_a_deleted_anchor_file_is_reported(path: Path) -> None:
    path.with_name(path.name + ".audit-anchors").unlink()
    result = _verify(path)
    assert not result["ok"]
    assert any("anchored up to entry" in str(p) for p in result["problems"]), result["problems"]  # type: ignore[attr-defined]


def test_anchors_are_written_every_n_entries(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit_module, "ANCHOR_EVERY", 5)
    before = len(_anchors(path))
    arch = Archive(path, user="clerk")
    for _ in range(12):
        arch.search("Lisbon")
    # Not closed: the anchors were written while it ran.
    assert len(_anchors(path)) - before == 2
    arch.close()
    assert _verify(path)["ok"]


def test_anchor_from_a_timer_thread_while_requests_record(path: Path) -> None:
    """anchor() is called by a server's timer while requests are being logged."""
    arch = Archive(path, user="clerk")
    stop = threading.Event()

    def timer() -> None:
        while not stop.is_set():
            arch._ctx.audit.anchor()

    t = threading.Thread(target=timer)
    t.start()
    try:
        for _ in range(80):
            arch.search("Lisbon")
    finally:
        stop.set()
        t.join()
    arch.close()
    seqs = [int(str(x["seq"])) for x in _anchors(path)]
    assert len(seqs) > 2 and seqs == sorted(set(seqs))
    assert _verify(path)["ok"]


def test_a_missing_audit_key_is_an_error_not_replaced(path: Path) -> None:
    key = path.with_name(path.name + ".audit-key")
    original = key.read_bytes()
    key.unlink()
    with pytest.raises(KartotekaError, match="E091"):
        Archive(path)
    assert not key.exists()
    key.write_bytes(original)
    assert _verify(path)["ok"]


def test_a_trail_of_another_archive_is_refused(path: Path) -> None:
    for f in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        f.unlink(missing_ok=True)
    with pytest.raises(KartotekaError, match="E093"):
        Archive(path)


def test_every_stored_document_has_its_entry_after_an_interrupt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A document and its entry commit together: once, the last document of each
    batch was stored in one transaction and its entry left in the next."""
    monkeypatch.setattr(ingest_module, "COMMIT_EVERY_DOCS", 3)
    monkeypatch.setattr(ingest_module, "BATCH_SIZE", 2)
    path = tmp_path / "k.db"

    def interrupted() -> object:
        for i in range(10):
            if i == 7:
                raise KeyboardInterrupt
            yield _doc(i)

    arch = Archive(path)
    with pytest.raises(KeyboardInterrupt):
        list(arch.ingest(interrupted()))  # type: ignore[arg-type]
    stored = {d["id"] for d in arch.documents(limit=100)}
    del arch  # killed: no close, no anchor
    assert stored
    trail = sqlite3.connect(_trail(path))
    logged = {
        s
        for (subjects,) in trail.execute("SELECT subjects FROM audit WHERE action='ingest'")
        for s in json.loads(subjects)
    }
    assert stored <= logged, stored - logged
    assert _verify(path)["ok"]


def test_outbox_entries_left_by_a_kill_are_chained_once(path: Path) -> None:
    """A write committed with its entry in the outbox, then the process died before
    chaining it: the next two processes to open the archive chain it exactly once."""
    arch = Archive(path)
    with arch._ctx.store.transaction():
        arch._ctx.audit.record("owner", "merge", ["per-a", "per-b"])
    del arch  # no flush, no close
    first, second = Archive(path, user="clerk"), Archive(path, user="analyst")
    first.close()
    second.close()
    trail = sqlite3.connect(_trail(path))
    assert trail.execute("SELECT count(*) FROM audit WHERE action='merge'").fetchone()[0] == 1
    assert _verify(path)["ok"]


def test_entries_of_an_archive_before_schema_8_move_to_the_trail(path: Path) -> None:
    """Old archives kept the log inside: on first open it moves out, heads unchanged."""
    trail = sqlite3.connect(_trail(path))
    rows = trail.execute("SELECT seq, at, actor, action, subjects, detail, head FROM audit ORDER BY seq").fetchall()
    trail.close()
    assert rows
    for suffix in ("", "-wal", "-shm"):
        Path(f"{_trail(path)}{suffix}").unlink(missing_ok=True)
    db = sqlite3.connect(path)
    db.executemany("INSERT INTO audit(seq, at, actor, action, subjects, detail, head) VALUES (?,?,?,?,?,?,?)", rows)
    db.commit()
    db.close()
    assert _verify(path)["ok"]
    assert sqlite3.connect(path).execute("SELECT count(*) FROM audit").fetchone()[0] == 0
    assert sqlite3.connect(_trail(path)).execute("SELECT count(*) FROM audit").fetchone()[0] >= len(rows)


def test_compact_seals_a_signed_segment_that_verify_reads(path: Path) -> None:
    arch = Archive(path, user="clerk")
    for _ in range(300):
        arch.search("Lisbon")
    arch.close()
    live_before = _trail(path).stat().st_size
    owner = Archive(path)
    try:
        done = owner.audit_compact(keep=10)
        with pytest.raises(KartotekaError, match="E042"):
            Archive(path, user="clerk").audit_compact()
    finally:
        owner.close()
    assert done["sealed"] >= 290 and Path(str(done["file"])).exists()
    # Well under the ~340 bytes a live row costs.
    assert int(done["bytes"]) / int(done["sealed"]) < 150, done
    live = sqlite3.connect(_trail(path)).execute("SELECT count(*) FROM audit").fetchone()[0]
    assert live <= 12
    assert _trail(path).stat().st_size <= live_before
    result = _verify(path)
    assert result["ok"] and result["segments"] == 1 and result["entries"] >= 300, result
    # More entries chain on from the sealed head; a second segment follows the first.
    arch = Archive(path, user="clerk")
    arch.search("Zorin")
    arch.close()
    owner = Archive(path)
    owner.audit_compact()
    owner.close()
    assert _verify(path)["ok"]

    # A changed entry inside a sealed segment is caught.
    seg = Path(str(done["file"]))
    lines = gzip.decompress(seg.read_bytes()).decode().splitlines()
    row = json.loads(lines[5])
    row[2] = "mallory"
    lines[5] = json.dumps(row)
    original = seg.read_bytes()
    seg.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    assert not _verify(path)["ok"]
    # And so is a deleted segment file.
    seg.unlink()
    result = _verify(path)
    assert not result["ok"] and any("missing" in str(p) for p in result["problems"])  # type: ignore[attr-defined]
    seg.write_bytes(original)
    assert _verify(path)["ok"]
