"""Damaged and missing archives (issue 11, item 8): one numbered line naming the file, never an answer."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from kartoteka.cli import app
from kartoteka.store import integrity
from tests.cli.conftest import runner

READS = [
    ["stats"],
    ["search", "Lisbon"],
    ["dossier", "Vetrova"],
    ["check", "Sorin"],
    ["show", "doc-0"],
    ["timeline", "Vetrova"],
    ["user", "list"],
    ["audit", "verify"],
]


def flip_page_headers(path: Path, every: int = 3) -> None:
    """Scattered byte flips: one byte in the b-tree header of every third page."""
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big") or 65536
    for start in range(page, len(data), page * every):
        data[start + 3] ^= 0x5A  # the page's cell count
    path.write_bytes(data)


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def quick_check(path: Path) -> str:
    db = sqlite3.connect(path)
    try:
        return str(db.execute("PRAGMA quick_check(1)").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        return str(exc)
    finally:
        db.close()


@pytest.mark.parametrize("args", [*READS, ["ingest", "kartoteka/demo/corpus"]])
def test_flipped_bytes_are_refused_in_one_line(db: Path, args: list[str]) -> None:
    flip_page_headers(db)
    assert quick_check(db) != "ok"
    r = runner.invoke(app, ["--archive", str(db), *args])
    assert r.exit_code == 1, r.output
    line = one_line(r.stderr)
    assert line.startswith("Error: [E111]") and str(db) in line and "doctor" in line
    assert r.stdout == ""


@pytest.mark.parametrize("args", READS)
def test_a_dropped_table_is_refused(db: Path, args: list[str]) -> None:
    con = sqlite3.connect(db)
    con.execute("DROP TABLE mentions")
    con.commit()
    con.close()
    r = runner.invoke(app, ["--archive", str(db), *args, "--json"])
    assert r.exit_code == 1, r.output
    err = json.loads(one_line(r.stderr))
    assert err["error"] == "E111" and "(table mentions, " in err["message"] and str(db) in err["message"]


def test_damage_past_the_open_check_is_still_one_line(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Above QUICK_CHECK_MAX_BYTES the open does not read every page; the
    # command then meets the damage itself, and the root command reports it.
    monkeypatch.setattr(integrity, "QUICK_CHECK_MAX_BYTES", 0)
    flip_page_headers(db, every=1)
    r = runner.invoke(app, ["--archive", str(db), "search", "Lisbon"])
    assert r.exit_code == 1, r.output
    line = one_line(r.stderr)
    assert line.startswith("Error: [E111]") and str(db) in line


def test_a_foreign_sqlite_file_is_not_an_archive(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE t(x)")
    con.commit()
    con.close()
    r = runner.invoke(app, ["--archive", str(other), "stats"])
    assert r.exit_code == 1 and one_line(r.stderr).startswith("Error: [E010]")


@pytest.mark.parametrize("args", [*READS, ["doctor"], ["relations"]])
def test_a_missing_archive_is_not_created_by_reads(tmp_path: Path, args: list[str]) -> None:
    missing = tmp_path / "typo.db"
    r = runner.invoke(app, ["--archive", str(missing), *args])
    assert r.exit_code == 1, r.output
    line = one_line(r.stderr)
    assert line.startswith("Error: [E110]") and str(missing) in line and "init" in line
    assert list(tmp_path.iterdir()) == []


def test_serve_on_a_missing_archive_fails_at_once(tmp_path: Path) -> None:
    # A subprocess with a timeout: were the archive created, the server would run on.
    missing = tmp_path / "typo.db"
    r = subprocess.run(
        [sys.executable, "-m", "kartoteka.cli", "--archive", str(missing), "serve", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 1 and one_line(r.stderr).startswith("Error: [E110]")
    assert not missing.exists()


def test_init_creates_an_empty_archive_once(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    r = runner.invoke(app, ["--archive", str(path), "init", "--json"])
    assert r.exit_code == 0, r.output
    first = json.loads(r.stdout)
    assert first["archive"] == str(path) and first["created"] is True and first["schema_version"] >= 1
    again = json.loads(runner.invoke(app, ["--archive", str(path), "init", "--json"]).stdout)
    assert again["created"] is False
    stats = runner.invoke(app, ["--archive", str(path), "stats", "--json"])
    assert stats.exit_code == 0 and json.loads(stats.stdout)["documents"] == 0


@pytest.mark.parametrize(
    "args",
    [["ingest", "kartoteka/demo/corpus/cable-1977-lisbon.txt"], ["user", "add", "clerk", "--clearance", "U"]],
)
def test_writing_commands_still_create(tmp_path: Path, args: list[str]) -> None:
    path = tmp_path / "fresh.db"
    r = runner.invoke(app, ["--archive", str(path), *args])
    assert r.exit_code == 0, r.output
    assert path.exists()
