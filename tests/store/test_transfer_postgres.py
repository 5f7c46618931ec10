"""Export and import between SQLite and PostgreSQL (issue "A team server on PostgreSQL"): a SQLite
archive imported into PostgreSQL answers every viewer as before and verifies; exported from there and
imported into SQLite again it holds the same rows as the original; the archive's files of both exports
are byte for byte the same; a PostgreSQL target that holds anything, or an export with a row pointing at
nothing, is refused with nothing written, and so is an import killed by SIGKILL midway; ids go on
after the imported ones. A PostgreSQL archive's
backup (pg_dump of one snapshot, with its side files) restores with pg_restore and verifies."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from kartoteka.archive import Archive
from kartoteka.store.location import parse
from tests.backends import fresh_database, pg_location
from tests.store.transfer_helpers import (
    ANALYST_PASSWORD,
    TRUE_NAME,
    answers,
    cli,
    lengthen_trail,
    rewrite,
    rich_archive,
    tables,
)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return rich_archive(tmp_path_factory.mktemp("src") / "rich.db")


@pytest.fixture(scope="module")
def exported(source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("exp") / "export"
    code, _, err = cli("--archive", str(source), "export", str(dest), "--with-keys")
    assert code == 0, err
    return dest


@pytest.fixture(scope="module")
def on_postgres(exported: Path, pg_database: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    url = pg_location(pg_database, tmp_path_factory.mktemp("keys"), "copy.db")
    code, out, err = cli("--archive", url, "import", str(exported), "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["keys"] == ["audit-key", "sources-key"] and result["rows"] > 200
    return url


def across_backends(found: list[object]) -> list[object]:
    """The answers, with each search's hits as the set of passages found: ranks and snippets are the
    backend's own (FTS5's BM25 and snippet, PostgreSQL's ts_rank and ts_headline; README "PostgreSQL")."""
    out: list[object] = []
    for answer in found:
        if isinstance(answer, dict) and "hits" in answer and "query" in answer:
            hits = sorted((h["document_id"], h["portion"], h["label"]) for h in answer["hits"])
            answer = {**answer, "hits": hits}
        out.append(answer)
    return out


def _count(url: str, table: str) -> int:
    libpq, schema, _ = parse(url)
    with psycopg.connect(libpq) as db:
        row = db.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()
        return int(row[0]) if row else 0


def test_a_sqlite_archive_imported_into_postgresql_verifies(on_postgres: str) -> None:
    code, out, err = cli("--archive", on_postgres, "audit", "verify", "--json")
    report = json.loads(out)
    assert code == 0, err
    assert report["ok"] is True and report["segments"] == 1 and report["problems"] == []


@pytest.mark.parametrize("user", [None, "clerk", "analyst"])
def test_every_answer_is_the_same_on_postgresql(source: Path, on_postgres: str, user: str | None) -> None:
    assert across_backends(answers(on_postgres, user)) == across_backends(answers(source, user))  # type: ignore[arg-type]


def test_users_and_sealed_sources_travel_to_postgresql(on_postgres: str) -> None:
    assert Archive.login(on_postgres, "analyst", ANALYST_PASSWORD)
    assert not Archive.login(on_postgres, "analyst", "wrong")
    arch = Archive(on_postgres, user="analyst")
    try:
        assert arch.source_show("GLACIER")["true_name"] == TRUE_NAME  # the key went to the keys folder
    finally:
        arch.close()


def test_back_to_sqlite_every_row_is_the_original(
    source: Path, exported: Path, on_postgres: str, tmp_path: Path
) -> None:
    again, back = tmp_path / "from-pg", tmp_path / "back.db"
    code, _, err = cli("--archive", on_postgres, "export", str(again), "--with-keys")
    assert code == 0, err
    # The archive's tables are written the same by both backends: same rows, same order, same bytes.
    first = {t["file"]: t for t in json.loads((exported / "manifest.json").read_text())["tables"]}
    second = {t["file"]: t for t in json.loads((again / "manifest.json").read_text())["tables"]}
    assert first.keys() == second.keys()
    for file, entry in first.items():
        if file.startswith("archive/"):
            assert (entry["rows"], entry["sha256"]) == (second[file]["rows"], second[file]["sha256"]), file
    code, _, err = cli("--archive", str(back), "import", str(again))
    assert code == 0, err
    before, after = tables(source), tables(back)
    assert before.keys() == after.keys()
    for name, rows in before.items():
        assert after[name] == rows, name
    code, out, err = cli("--archive", str(back), "doctor", "--json")
    assert code == 0, err + out
    code, out, _ = cli("--archive", str(back), "audit", "verify", "--json")
    assert code == 0 and json.loads(out)["ok"] is True
    assert answers(back, "clerk") == answers(source, "clerk")


def test_ids_go_on_after_the_imported_ones(exported: Path, pg_database: str, tmp_path: Path, source: Path) -> None:
    url = pg_location(pg_database, tmp_path, "ids.db")
    assert cli("--archive", url, "import", str(exported))[0] == 0
    portions = _count(url, "portions")
    new = tmp_path / "note.txt"
    new.write_text("MEMORANDUM\n\nArkady Zorin met Grigory Bortnik in Porto on 3 May 1984.\n", encoding="utf-8")
    code, _, err = cli("--archive", url, "ingest", str(new))
    assert code == 0, err
    assert cli("--archive", url, "user", "add", "newcomer", "--clearance", "U")[0] == 0
    assert _count(url, "portions") > portions
    code, out, _ = cli("--archive", url, "search", "Bortnik Porto", "--json")
    assert code == 0 and json.loads(out)["total"] >= 1
    code, out, _ = cli("--archive", url, "audit", "verify", "--json")
    assert code == 0 and json.loads(out)["ok"] is True


def test_into_a_postgresql_archive_that_holds_anything_is_refused(
    exported: Path, pg_database: str, tmp_path: Path
) -> None:
    url = pg_location(pg_database, tmp_path, "busy.db")
    assert cli("--archive", url, "init")[0] == 0
    assert cli("--archive", url, "user", "add", "someone", "--clearance", "U")[0] == 0
    code, _, err = cli("--archive", url, "import", str(exported))
    assert code == 1 and "[E142]" in err and "users" in err and "postgres@" in err
    assert _count(url, "documents") == 0 and _count(url, "users") == 1
    assert not list(tmp_path.glob("*.import"))  # the staged side files are gone again


def test_a_row_pointing_at_nothing_leaves_postgresql_as_it_was(
    exported: Path, pg_database: str, tmp_path: Path
) -> None:
    dest = tmp_path / "exp"
    shutil.copytree(exported, dest)
    lines = (dest / "archive/markings.jsonl").read_bytes().splitlines(keepends=True)
    row = json.loads(lines[-1])
    row.update(id=row["id"] + 1000, document_id="doc-0000000000000000")
    rewrite(dest, "archive/markings.jsonl", b"".join([*lines, json.dumps(row).encode() + b"\n"]))
    url = pg_location(pg_database, tmp_path / "keys", "bad.db")
    code, _, err = cli("--archive", url, "import", str(dest))
    assert code == 1 and "[E144]" in err and "archive/markings.jsonl" in err
    assert _count(url, "documents") == 0 and _count(url, "markings") == 0
    assert not [p for p in (tmp_path / "keys").iterdir() if p.name.endswith(".import")]
    # The empty archive the failed import left takes the good export.
    code, _, err = cli("--archive", url, "import", str(exported))
    assert code == 0, err


@pytest.fixture
def other_database(pg_database: str) -> Iterator[str]:
    """A second database on the same server, for a restore that keeps the schema's name."""
    with fresh_database(pg_database.rsplit("/", 1)[1] + "_restore") as url:
        yield url


def test_a_postgresql_backup_restores_with_pg_restore(
    source: Path, on_postgres: str, other_database: str, tmp_path: Path
) -> None:
    dest = tmp_path / "backup"
    code, out, err = cli("--archive", on_postgres, "backup", str(dest), "--json")
    assert code == 0, err
    result = json.loads(out)
    manifest = json.loads((dest / "backup.json").read_text())
    assert manifest["backend"] == "postgresql" and manifest["schema"] == parse(on_postgres)[1]
    assert (dest / manifest["dump"]).is_file() and result["audit_entries"] > 0
    assert all(stat.S_IMODE(os.stat(p).st_mode) == 0o600 for p in dest.rglob("*") if p.is_file())
    # The dump holds its schema's name: the same name, in another database.
    schema = parse(on_postgres)[1]
    target = f"{other_database}?schema={schema}&keys={quote(str(tmp_path / 'keys'))}"
    code, out, err = cli("--archive", target, "restore", str(dest), "--json")
    assert code == 0, err + out
    report = json.loads(out)
    # The PostgreSQL doctor ran on the restored schema: every check but the pages (no amcheck here) ok.
    checks = [c["check"] for c in report["checks"]]
    assert report["ok"] is True and checks == ["header", "pages", "schema", "foreign_keys", "full_text", "audit"]
    assert all(c["ok"] is True for c in report["checks"] if c["check"] != "pages")
    assert "postgres@" in report["archive"]
    assert across_backends(answers(target, "analyst")) == across_backends(answers(source, "analyst"))  # type: ignore[arg-type]
    arch = Archive(target, user="analyst")
    try:
        assert arch.source_show("GLACIER")["true_name"] == TRUE_NAME  # the keys came with the backup
    finally:
        arch.close()
    # Restored once, the schema is there: a second restore is refused and changes nothing.
    code, _, err = cli("--archive", target, "restore", str(dest))
    assert code == 1 and "[E148]" in err


def test_a_postgresql_backup_goes_only_where_it_can(on_postgres: str, other_database: str, tmp_path: Path) -> None:
    dest = tmp_path / "backup"
    assert cli("--archive", on_postgres, "backup", str(dest))[0] == 0
    renamed = f"{other_database}?schema=elsewhere&keys={quote(str(tmp_path / 'keys'))}"
    code, _, err = cli("--archive", renamed, "restore", str(dest))
    assert code == 1 and "[E148]" in err and f"?schema={parse(on_postgres)[1]}" in err
    assert not (tmp_path / "keys").exists() or not any((tmp_path / "keys").iterdir())
    code, _, err = cli("--archive", str(tmp_path / "file.db"), "restore", str(dest))
    assert code == 1 and "[E148]" in err and "postgresql://" in err
    assert not (tmp_path / "file.db").exists()


def _rows(url: str) -> dict[str, int]:
    """Rows per table of the archive's schema and its trail's (NAME_trail)."""
    libpq, schema, _ = parse(url)
    out: dict[str, int] = {}
    with psycopg.connect(libpq) as db:
        names = db.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
            " WHERE table_schema IN (%s, %s) AND table_type = 'BASE TABLE' ORDER BY 1, 2",
            (schema, f"{schema}_trail"),
        ).fetchall()
        for sch, name in names:
            row = db.execute(f'SELECT count(*) FROM "{sch}"."{name}"').fetchone()
            out[f"{sch}.{name}"] = int(row[0]) if row else 0
    return out


def test_kill_9_during_an_import_into_postgresql_leaves_it_as_it_was(
    exported: Path, pg_database: str, tmp_path: Path
) -> None:
    dest = tmp_path / "exp"
    shutil.copytree(exported, dest)
    lengthen_trail(dest)  # a long import: the kill lands inside the transaction
    url = pg_location(pg_database, tmp_path / "keys", "killed.db")
    assert cli("--archive", url, "init")[0] == 0
    before = _rows(url)
    libpq = parse(url)[0]
    proc = subprocess.Popen(
        [sys.executable, "-m", "kartoteka.cli", "--archive", url, "import", str(dest)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # Killed while PostgreSQL is taking the rows in (a COPY of the import's transaction).
    copying = False
    deadline = time.monotonic() + 120
    with psycopg.connect(libpq, autocommit=True) as watch:
        while not copying and proc.poll() is None and time.monotonic() < deadline:
            found = watch.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND query ILIKE 'COPY%%' AND state <> 'idle' AND pid <> pg_backend_pid()"
            ).fetchone()
            copying = bool(found and found[0])
            time.sleep(0.01)
        assert copying and proc.poll() is None, "the import ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        # The server sees the client gone and rolls the transaction back.
        while time.monotonic() < deadline:
            found = watch.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()"
            ).fetchone()
            if not (found and found[0]):
                break
            time.sleep(0.05)
    assert _rows(url) == before
    code, out, err = cli("--archive", url, "doctor", "--json")
    assert code == 0, err + out
    # Still empty, so still importable; the staged side files of the killed run are no hindrance.
    code, _, err = cli("--archive", url, "import", str(exported))
    assert code == 0, err
    assert _count(url, "documents") == _count_rows(exported, "archive/documents.jsonl")
    assert not [p for p in (tmp_path / "keys").iterdir() if p.name.endswith(".import")]


def _count_rows(export: Path, rel: str) -> int:
    return sum(1 for line in (export / rel).read_bytes().splitlines() if line.strip())
