"""Many processes on one archive: writers wait for each other, readers never wait (issue 11 items 4 and 5)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from kartoteka.archive import Archive
from kartoteka.registry.readers import RawDocument
from kartoteka.store.location import Location
from tests.backends import Where

NAMES = ["Arkady Zorin", "Yelena Vetrova", "Duarte Mendes", "Grigory Bortnik", "Margaret Holloway", "Pyotr Kalmykov"]
FILLER = "filler sentence about the residency. " * 200


def _corpus(folder: Path, start: int, n: int) -> None:
    folder.mkdir(parents=True)
    for i in range(start, start + n):
        a, b = NAMES[i % len(NAMES)], NAMES[(i + 1) % len(NAMES)]
        text = f"UNCLASSIFIED\n\n(U) Report {i}: {a} met {b} in Lisbon on {i % 28 + 1} March 1977.\n\n{FILLER}\n"
        (folder / f"d{i:03}.txt").write_text(text)


def _cli(db: Location, *args: str) -> list[str]:
    return [sys.executable, "-m", "kartoteka.cli", "--archive", str(db), *args]


def test_two_ingests_and_cli_reads_at_once_all_succeed(where: Where, tmp_path: Path) -> None:
    """Once, ingest held the write lock across the model and every read wrote to the
    archive: a second ingest died with a traceback, and half the reads failed (SQLite and PostgreSQL)."""
    db = where(tmp_path, "k.db")
    _corpus(tmp_path / "a", 0, 45)
    _corpus(tmp_path / "b", 30, 45)  # 15 documents in both folders
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # Create the archive first, so both ingests open an existing one.
    subprocess.run(_cli(db, "user", "add", "clerk", "--clearance", "U"), check=True, capture_output=True, env=env)
    ingests = [
        subprocess.Popen(
            _cli(db, "ingest", str(tmp_path / f), "--json"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for f in ("a", "b")
    ]
    reads = [
        ["search", "Lisbon", "--json"],
        ["stats", "--json"],
        ["--as", "clerk", "check", "Arkady Zorin", "--json"],
        ["--as", "clerk", "search", "Vetrova"],
    ]
    done: list[subprocess.CompletedProcess[str]] = []
    while any(p.poll() is None for p in ingests) or len(done) < len(reads):
        args = reads[len(done) % len(reads)]
        done.append(subprocess.run(_cli(db, *args), capture_output=True, text=True, env=env))
        if len(done) > 60:
            break
    outputs = [p.communicate() for p in ingests]
    for p, (out, err) in zip(ingests, outputs, strict=True):
        assert p.returncode == 0, err
        assert "Traceback" not in err
        assert all(json.loads(line)["status"] in ("added", "unchanged") for line in out.splitlines())
    for r in done:
        assert r.returncode == 0 and "Traceback" not in r.stderr, (r.args, r.stderr)
    assert len(done) >= 4
    arch = Archive(db)
    try:
        assert arch.stats()["documents"] == 75
        result = arch.audit_verify()
        assert result["ok"], result["problems"]
    finally:
        arch.close()
    added = sum(json.loads(line)["status"] == "added" for out, _ in outputs for line in out.splitlines())
    assert added == 75  # each shared document stored once, by whichever ingest came first


def test_a_lock_held_past_the_timeout_is_a_one_line_error(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    Archive(db).close()
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        env = {**os.environ, "KARTOTEKA_BUSY_TIMEOUT": "0.3"}
        started = time.monotonic()
        r = subprocess.run(
            _cli(db, "user", "add", "clerk", "--clearance", "U"), capture_output=True, text=True, env=env
        )
        assert time.monotonic() - started < 30
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "E090" in lines[0], r.stderr


def test_other_users_reads_keep_a_viewers_caches(where: Where, tmp_path: Path) -> None:
    """Reads are audited outside the archive, so they no longer change its data_version:
    a server's cached name index survives every other user's request (issue 11 item 5)."""
    db = where(tmp_path, "k.db")
    owner = Archive(db)
    text = "UNCLASSIFIED\n\n(U) Colonel Arkady Zorin met Duarte Mendes in Lisbon in March 1977.\n"
    list(owner.ingest([RawDocument("r.txt", "txt", "test.v1", text)]))
    owner.add_user("clerk", "U", [])
    owner.add_user("analyst", "U", [])
    owner.close()
    clerk, analyst = Archive(db, user="clerk"), Archive(db, user="analyst")
    try:
        clerk.check("Arkady Zorin")
        cached = clerk._ctx.names
        assert cached is not None
        for _ in range(3):
            analyst.check("Zorin")
            analyst.search("Lisbon")
            analyst.dossier("Arkady Zorin")
            clerk.refresh()
        assert clerk._ctx.names is cached
        # A real write still reaches the viewer.
        writer = Archive(db)
        writer.alias(writer.check("Arkady Zorin")["matches"][0]["entity_id"], "Arkasha Zorin")
        writer.close()
        clerk.refresh()
        assert clerk._ctx.names is None
    finally:
        clerk.close()
        analyst.close()
