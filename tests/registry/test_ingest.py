import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kartoteka.archive import Archive
from kartoteka.registry import ingest as ingest_module
from kartoteka.registry.readers import RawDocument, ReadError, read_path
from kartoteka.registry.structure import analyse

NAMES = ["Arkady Zorin", "Yelena Vetrova", "Duarte Mendes", "Grigory Bortnik", "Margaret Holloway", "Pyotr Kalmykov"]


def synthetic(n: int) -> list[RawDocument]:
    docs = []
    for i in range(n):
        a, b = NAMES[i % len(NAMES)], NAMES[(i + 1) % len(NAMES)]
        text = f"SECRET\n\n(S) Report {i}: {a} met {b} in Lisbon on {i % 28 + 1} March 1977.\n\n(U) Filed {i}.\n"
        docs.append(RawDocument(f"doc{i}.txt", "text", "kartoteka.reader.text.v1", text))
    return docs


def consistent(arch: Archive) -> None:
    """Every stored document is whole: all its portions, mentions in its portions."""
    store = arch._store
    for d in store.documents(10_000, 0):
        assert d.portion_count > 0
    db = store.db  # type: ignore[attr-defined]
    orphans = db.execute(
        "SELECT count(*) FROM mentions m LEFT JOIN portions p ON p.id=m.portion_id WHERE p.id IS NULL"
    ).fetchone()[0]
    assert orphans == 0
    for (doc_id,) in db.execute("SELECT id FROM documents").fetchall():
        portions = db.execute("SELECT count(*) FROM portions WHERE document_id=?", (doc_id,)).fetchone()[0]
        text_portions = db.execute(
            "SELECT group_concat(text, '') FROM portions WHERE document_id=?", (doc_id,)
        ).fetchone()[0]
        assert portions >= 3 and "Report" in text_portions


def test_ingest_is_idempotent(archive: Archive) -> None:
    docs = synthetic(6)
    first = list(archive.ingest(iter(docs)))
    assert [r.status for r in first] == ["added"] * 6
    again = list(archive.ingest(iter(docs)))
    assert [r.status for r in again] == ["unchanged"] * 6
    assert [r.document_id for r in again] == [r.document_id for r in first]
    assert archive.stats()["documents"] == 6
    # Same content under another path is the same document.
    dup = RawDocument("elsewhere.txt", "text", "kartoteka.reader.text.v1", docs[0].text)
    assert [r.status for r in archive.ingest(iter([dup]))] == ["unchanged"]


def test_errors_are_reported_and_the_batch_goes_on(archive: Archive) -> None:
    docs: list[RawDocument | ReadError] = [
        *synthetic(2),
        ReadError("bad.pdf", "[E001] Can't read bad.pdf: broken"),
        *synthetic(4)[2:],
    ]
    results = list(archive.ingest(iter(docs)))
    assert sorted(r.status for r in results) == ["added"] * 4 + ["error"]
    assert next(r for r in results if r.status == "error").error == "[E001] Can't read bad.pdf: broken"


def test_interrupt_rolls_back_open_batch_and_resume_completes(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest_module, "COMMIT_EVERY_DOCS", 3)
    monkeypatch.setattr(ingest_module, "BATCH_SIZE", 2)
    docs = synthetic(10)

    def interrupted() -> Iterator[RawDocument]:
        for i, d in enumerate(docs):
            if i == 7:
                raise KeyboardInterrupt
            yield d

    with pytest.raises(KeyboardInterrupt):
        list(archive.ingest(interrupted()))
    stored = archive.stats()["documents"]
    assert isinstance(stored, int) and 0 < stored < 10
    consistent(archive)
    results = list(archive.ingest(iter(docs)))
    assert sum(r.status == "added" for r in results) == 10 - stored
    assert archive.stats()["documents"] == 10
    consistent(archive)


def test_document_of_markings_only(archive: Archive) -> None:
    doc = RawDocument("m.txt", "text", "kartoteka.reader.text.v1", "SECRET\n\n25X1\n\n-2-\n\nSECRET\n")
    [r] = list(archive.ingest(iter([doc])))
    assert r.status == "added"
    d = archive.document(str(r.document_id))
    assert d["classification"] == "SECRET"
    assert {p["kind"] for p in d["portions"]} == {"banner", "marking", "page_marker"}  # type: ignore[union-attr]


def test_killed_process_leaves_archive_whole_and_resumable(tmp_path: Path) -> None:
    """SIGKILL mid-ingest (no chance to clean up): committed documents are whole, re-run finishes."""
    folder = tmp_path / "docs"
    folder.mkdir()
    for i, d in enumerate(synthetic(80)):
        (folder / f"d{i:03}.txt").write_text(d.text + ("filler sentence about the residency. " * 200))
    db = tmp_path / "k.db"
    cmd = [sys.executable, "-m", "kartoteka.cli", "--archive", str(db), "ingest", str(folder), "--json"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
    assert proc.stdout is not None
    printed: list[str] = []
    for line in proc.stdout:
        if json.loads(line)["status"] == "added":
            printed.append(json.loads(line)["document_id"])
        if len(printed) == 30:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait()
    arch = Archive(db)
    try:
        consistent(arch)
        partial = arch.stats()["documents"]
        assert isinstance(partial, int) and partial < 80
        # What was printed as added is stored (a result is printed after its commit).
        stored = {d["id"] for d in arch.documents(limit=1000)}
        assert set(printed) <= stored, set(printed) - stored
        # And every stored document has its audit entry, chained when the archive was opened again.
        trail = sqlite3.connect(db.with_name(db.name + ".audit.sqlite"))
        rows = trail.execute("SELECT subjects FROM audit WHERE action='ingest'").fetchall()
        assert stored <= {s for (subjects,) in rows for s in json.loads(subjects)}
        assert arch.audit_verify()["ok"]
    finally:
        arch.close()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    statuses = [json.loads(x)["status"] for x in done.stdout.splitlines()]
    assert statuses.count("added") == 80 - partial and statuses.count("unchanged") == partial
    arch = Archive(db)
    try:
        assert arch.stats()["documents"] == 80
        consistent(arch)
    finally:
        arch.close()


def test_sigterm_reports_what_was_stored(tmp_path: Path) -> None:
    """The interrupt message once counted results printed before their commit (18 said, 4 stored)."""
    folder = tmp_path / "docs"
    folder.mkdir()
    for i, d in enumerate(synthetic(60)):
        (folder / f"d{i:03}.txt").write_text(d.text + ("filler sentence about the residency. " * 200))
    db = tmp_path / "k.db"
    cmd = [sys.executable, "-m", "kartoteka.cli", "--archive", str(db), "ingest", str(folder), "--json"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    assert proc.stdout is not None and proc.stderr is not None
    for n, _line in enumerate(proc.stdout, start=1):
        if n == 5:
            proc.send_signal(signal.SIGTERM)
            break
    proc.stdout.read()
    err = proc.stderr.read()
    assert proc.wait() == 130
    said = int(err.split("Interrupted: ", 1)[1].split(" ", 1)[0])
    arch = Archive(db)
    try:
        assert said == arch.stats()["documents"], err
    finally:
        arch.close()


def test_reader_warnings_are_in_the_json_result(archive: Archive, tmp_path: Path) -> None:
    f = tmp_path / "stray.txt"
    f.write_bytes("(U) Полковник Аркадий Зорин встретился с журналистом в Лиссабоне.\n".encode() + b"\x97\n")
    [result] = [r.as_json() for r in archive.ingest(read_path(f))]
    assert result["status"] == "added"
    warnings = result["warnings"]
    assert isinstance(warnings, list) and any("[E061]" in w for w in warnings), result
    # A document read without complaint carries no warnings field (the shape is unchanged).
    [clean] = [r.as_json() for r in archive.ingest(iter(synthetic(1)))]
    assert "warnings" not in clean


def test_portion_offsets_survive_storage(archive: Archive) -> None:
    text = synthetic(1)[0].text
    [r] = list(archive.ingest(iter(synthetic(1))))
    stored = archive.document(str(r.document_id))["portions"]
    assert [p["text"] for p in stored] == [p.text for p in analyse(text).portions]  # type: ignore[union-attr]


def test_two_workers_give_the_same_archive(tmp_path: Path) -> None:
    """The fork pool is an optimisation only: same documents, mentions, entities."""
    docs = synthetic(30)

    def snapshot(workers: int) -> tuple[object, ...]:
        arch = Archive(tmp_path / f"w{workers}.db")
        try:
            results = list(arch.ingest(iter(docs), workers=workers))
            db = arch._store.db  # type: ignore[attr-defined]
            # Ids are keyed with each archive's own secret, so two archives
            # are compared by what the ids stand for: sources and first mentions.
            mentions = db.execute(
                'SELECT d.source, m.start, m."end", m.text, m.kind, m.entity_id FROM mentions m'
                " JOIN documents d ON d.id=m.document_id ORDER BY 1, 2"
            ).fetchall()
            names: dict[str, str] = {}
            for source, start, _, _, _, eid in mentions:
                names.setdefault(eid, f"{source}:{start}")
            canon = [(*m[:5], names[m[5]]) for m in mentions]
            entities = sorted((names.get(i, i), k, n) for i, k, n in db.execute("SELECT id, kind, name FROM entities"))
            return [{**r.as_json(), "document_id": None} for r in results], canon, entities
        finally:
            arch.close()

    one, two = snapshot(1), snapshot(2)
    assert one == two
    assert len(one[1]) >= 60  # type: ignore[arg-type]
