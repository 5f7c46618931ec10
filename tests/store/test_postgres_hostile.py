"""What the hostile review of the PostgreSQL transfer and server found, each now a test: schema
names Kartoteka keeps for an archive's own, another application's tables in a trail's schema, a
password in a connection string that can't be read, an export whose sequence is out of range, and
the password handed to pg_dump and pg_restore."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from kartoteka.archive import Archive
from kartoteka.errors import NotFound
from kartoteka.store.location import parse
from kartoteka.store.postgres_backup import _dsn_and_env
from tests.backends import Where, pg_location
from tests.store.transfer_helpers import cli


@pytest.mark.parametrize("suffix", ["_trail", "_sessions"])
def test_a_schema_named_like_an_archives_own_is_refused(pg_database: str, tmp_path: Path, suffix: str) -> None:
    url = f"{pg_database}?schema=team{suffix}&keys={tmp_path}"
    code, _, err = cli("--archive", url, "init")
    assert code == 1 and "[E160]" in err and f"team{suffix}" in err


def test_another_applications_tables_in_the_trail_schema_are_not_joined(pg_database: str, tmp_path: Path) -> None:
    url = pg_location(pg_database, tmp_path, "other.db")
    schema = parse(url)[1]
    with psycopg.connect(parse(url)[0], autocommit=True) as db:
        db.execute(f'CREATE SCHEMA "{schema}_trail"')
        db.execute(f'CREATE TABLE "{schema}_trail".ledger (id int)')
    code, _, err = cli("--archive", url, "init")
    assert code == 1 and "[E092]" in err and "ledger" in err
    with psycopg.connect(parse(url)[0], autocommit=True) as db:
        tables = db.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema=%s", (f"{schema}_trail",)
        ).fetchall()
    assert tables == [("ledger",)]


def test_a_connection_string_that_cant_be_read_never_prints_its_password(tmp_path: Path) -> None:
    code, out, err = cli("--archive", "postgresql://kart:se%zzcret@127.0.0.1:5432/db?schema=x", "stats")
    assert code == 1 and "[E160]" in err
    assert "zzcret" not in err + out


def test_the_password_reaches_pg_dump_decoded_and_never_on_its_command_line() -> None:
    dsn, env = _dsn_and_env("postgresql://kart:p%40ss%2Fw0rd@db.example:5432/news?schema=team")
    assert env["PGPASSWORD"] == "p@ss/w0rd"
    assert "p%40ss" not in dsn and "w0rd" not in dsn and dsn.startswith("postgresql://kart@db.example:5432/news")


def test_an_export_with_a_sequence_out_of_range_is_refused(pg_database: str, tmp_path: Path) -> None:
    source = tmp_path / "small.db"
    arch = Archive(source)
    arch.add_user("clerk", "U", [])
    arch.close()
    dest = tmp_path / "exp"
    assert cli("--archive", str(source), "export", str(dest))[0] == 0
    manifest = json.loads((dest / "manifest.json").read_text())
    manifest["sequences"] = {"audit_outbox": 2**63 - 1}
    (dest / "manifest.json").write_text(json.dumps(manifest))
    url = pg_location(pg_database, tmp_path / "keys", "seq.db")
    code, _, err = cli("--archive", url, "import", str(dest))
    assert code == 1 and "[E140]" in err and "sequence" in err


def test_a_reference_holding_a_nul_is_a_missing_one(where: Where, tmp_path: Path) -> None:
    """PostgreSQL text holds no NUL, and asking for one failed with a raw DataError (a 500 over HTTP):
    on both backends it is now what a missing card or document is."""
    arch = Archive(where(tmp_path, "nul.db"))  # type: ignore[arg-type]
    try:
        for ask in (
            lambda: arch.dossier("per-\x00"),
            lambda: arch.timeline("Zorin\x00"),
            lambda: arch.links("a\x00", "b"),
            lambda: arch.document("doc-\x00"),
        ):
            with pytest.raises(NotFound):
                ask()
    finally:
        arch.close()
