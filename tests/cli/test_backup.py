"""`kartoteka backup DEST` and `kartoteka restore DEST`: a restored backup is the archive, and a backup
taken while another process ingests is consistent (doctor and audit verify pass, every stored
document has its audit entry)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.store.transfer_helpers import answers, cli, digest, rich_archive, tables, trail_file


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return rich_archive(tmp_path_factory.mktemp("src") / "rich.db")


def test_a_restored_backup_is_the_archive(source: Path, tmp_path: Path) -> None:
    dest = tmp_path / "backup"
    code, out, err = cli("--archive", str(source), "backup", str(dest), "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["archive"] == "rich.db" and result["audit_entries"] > 0
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o700
    names = sorted(p.name for p in dest.iterdir())
    assert names == [
        "backup.json",
        "rich.db",
        "rich.db.audit-anchors",
        "rich.db.audit-key",
        "rich.db.audit-segments",
        "rich.db.audit.sqlite",
        "rich.db.sources-key",
    ]
    assert all(stat.S_IMODE(os.stat(p).st_mode) == 0o600 for p in dest.rglob("*") if p.is_file())
    before = (tables(source), tables(trail_file(source)))

    target = tmp_path / "restored" / "again.db"
    target.parent.mkdir()
    code, out, err = cli("--archive", str(target), "restore", str(dest), "--json")
    assert code == 0, err + out
    report = json.loads(out)
    assert report["ok"] is True and [c["check"] for c in report["checks"]][-1] == "audit"
    assert (tables(target), tables(trail_file(target))) == before
    for suffix in (".audit-key", ".sources-key", ".audit-anchors"):
        assert digest(Path(f"{target}{suffix}")) == digest(Path(f"{source}{suffix}"))
    code, out, _ = cli("--archive", str(target), "audit", "verify", "--json")
    assert code == 0 and json.loads(out)["ok"] is True
    for user in (None, "clerk"):
        assert answers(target, user) == answers(source, user)
    # Nothing is overwritten.
    code, _, err = cli("--archive", str(target), "restore", str(dest))
    assert code == 1 and "[E148]" in err
    code, _, err = cli("--archive", str(source), "backup", str(dest))
    assert code == 1 and "[E145]" in err


def test_a_changed_backup_is_not_restored(source: Path, tmp_path: Path) -> None:
    dest = tmp_path / "backup"
    assert cli("--archive", str(source), "backup", str(dest))[0] == 0
    key = dest / "rich.db.audit-key"
    key.write_bytes(bytes(32))
    target = tmp_path / "t.db"
    code, _, err = cli("--archive", str(target), "restore", str(dest))
    assert code == 1 and "[E147]" in err and "rich.db.audit-key" in err
    assert not target.exists() and not Path(f"{target}.audit.sqlite").exists()
    code, _, err = cli("--archive", str(source), "--as", "clerk", "backup", str(tmp_path / "b2"))
    assert code == 1 and "[E042]" in err


def _corpus(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            text = " ".join(
                f"Report {i}.{j}: Colonel Arkady Zorin met Ivan Petrov{i} in Lisbon on 12 March 197{j % 10}."
                for j in range(40)
            )
            fh.write(json.dumps({"id": f"r-{i}", "text": text}) + "\n")


def test_a_backup_taken_during_an_ingest_is_consistent(tmp_path: Path) -> None:
    archive = tmp_path / "live.db"
    corpus = tmp_path / "corpus.jsonl"
    _corpus(corpus, 150)
    assert cli("--archive", str(archive), "init")[0] == 0
    ingest = subprocess.Popen(
        [sys.executable, "-m", "kartoteka.cli", "--archive", str(archive), "ingest", str(corpus)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    backups: list[Path] = []
    try:
        while ingest.poll() is None and len(backups) < 6:
            dest = tmp_path / f"b{len(backups)}"
            run = subprocess.run(
                [sys.executable, "-m", "kartoteka.cli", "--archive", str(archive), "backup", str(dest)],
                capture_output=True,
                text=True,
            )
            assert run.returncode == 0, run.stderr
            if ingest.poll() is None:
                backups.append(dest)
            time.sleep(0.2)
    finally:
        _, err = ingest.communicate(timeout=600)
    assert ingest.returncode == 0, err
    assert len(backups) >= 2, "the ingest ended before two backups were taken during it"
    counts = []
    for i, dest in enumerate(backups):
        target = tmp_path / f"r{i}" / "live.db"
        target.parent.mkdir()
        code, out, err = cli("--archive", str(target), "restore", str(dest), "--json")
        assert code == 0 and json.loads(out)["ok"] is True, err + out
        code, out, _ = cli("--archive", str(target), "audit", "verify", "--json")
        assert code == 0 and json.loads(out)["ok"] is True
        # Every document in the copy has its ingest entry in the copy's trail.
        docs = {str(r[0]) for r in tables(target)["documents"]}
        logged = {s for r in tables(trail_file(target))["audit"] if r[3] == "ingest" for s in json.loads(str(r[4]))}
        assert docs <= logged
        counts.append(len(docs))
    assert counts == sorted(counts) and counts[-1] < 150  # taken mid-ingest, in order
