"""`kartoteka doctor` on a PostgreSQL archive: a sound one passes, and each kind of damage the
server lets through (a dropped index, rows loaded past disabled foreign keys, a search table out
of step with its portions, a later schema version, a tampered audit entry) is named."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from kartoteka.archive import Archive
from kartoteka.registry.readers import RawDocument
from kartoteka.store.location import parse
from tests.backends import pg_location
from tests.store.transfer_helpers import cli

CHECKS = ["header", "pages", "schema", "foreign_keys", "full_text", "audit"]
OPEN = "(U) The station reported that Mr. Zorin had dinner with Mr. Mendes at the embassy.\n"
SECRET = "(S//HUM) Arkady Zorin met Duarte Mendes in Lisbon in 1977.\n"


@pytest.fixture
def url(pg_database: str, tmp_path: Path) -> Iterator[str]:
    location = pg_location(pg_database, tmp_path, "doctor.db")
    arch = Archive(location)
    list(arch.ingest([RawDocument("open.txt", "txt", "test.v1", OPEN)]))
    list(arch.ingest([RawDocument("secret.txt", "txt", "test.v1", SECRET)], label="S:HUM"))
    arch.close()
    yield location


def sql(url: str, *statements: str) -> None:
    libpq, schema, _ = parse(url)
    with psycopg.connect(libpq, autocommit=True) as db:
        db.execute(f'SET search_path TO "{schema}", public')
        for s in statements:
            db.execute(s)


def doctor(url: str) -> tuple[int, dict[str, object], str]:
    code, out, err = cli("--archive", url, "doctor", "--json")
    return code, json.loads(out) if out.strip() else {}, err


def by_name(report: dict[str, object]) -> dict[str, dict[str, object]]:
    return {str(c["check"]): c for c in report["checks"]}  # type: ignore[attr-defined]


@pytest.fixture
def amcheck(url: str) -> Iterator[None]:
    """amcheck installed in the test database (the test server's superuser may), for this test."""
    sql(url, "CREATE EXTENSION IF NOT EXISTS amcheck SCHEMA public")
    yield
    sql(url, "DROP EXTENSION IF EXISTS amcheck")


def test_a_sound_archive_with_amcheck(url: str, amcheck: None) -> None:
    code, report, err = doctor(url)
    assert code == 0 and err == "", err
    assert [c["check"] for c in report["checks"]] == CHECKS  # type: ignore[attr-defined]
    checks = by_name(report)
    assert all(c["ok"] is True for c in checks.values()), checks
    assert "B-tree indexes checked by amcheck" in str(checks["pages"]["note"])
    assert "expected" in str(checks["schema"]["note"]) and "entries" in str(checks["audit"]["note"])
    assert "***" not in str(report["archive"]) and str(report["archive"]).startswith("postgresql://")
    text = cli("--archive", url, "doctor")
    assert text[0] == 0 and text[1].strip().endswith("The archive is sound.")


def test_pages_that_cannot_be_checked_are_said_to_be_unchecked(url: str) -> None:
    with psycopg.connect(parse(url)[0]) as db:
        row = db.execute("SHOW data_checksums").fetchone()
    if row and row[0] == "on":
        pytest.skip("the test server has data checksums on: its pages can be checked without amcheck")
    code, report, err = doctor(url)
    pages = by_name(report)["pages"]
    # Said, not failed: only the server's configuration could let the doctor read its pages.
    assert code == 0 and err == "" and report["ok"] is True
    assert pages["ok"] is None and pages["required"] is False and "CREATE EXTENSION amcheck" in str(pages["note"])
    assert all(c["ok"] is True for n, c in by_name(report).items() if n != "pages")


def test_nothing_is_written(url: str, amcheck: None) -> None:
    libpq = parse(url)[0]

    def state() -> tuple[object, ...]:
        with psycopg.connect(libpq) as db:
            db.execute(f'SET search_path TO "{parse(url)[1]}"')
            names = db.execute("SELECT nspname FROM pg_namespace ORDER BY 1").fetchall()
            version = db.execute("SELECT version, data_version FROM kartoteka_schema").fetchall()
            counts = db.execute("SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM portions)").fetchall()
        return names, version, counts

    before = state()
    assert doctor(url)[0] == 0
    # No scratch schema left behind, no write transaction on the archive (data_version), rows as they were.
    assert state() == before


def test_a_dropped_index(url: str, amcheck: None) -> None:
    sql(url, "DROP INDEX portions_partition")
    code, report, _ = doctor(url)
    assert code == 1 and by_name(report)["schema"]["problems"] == ["index portions_partition missing"]


def test_rows_loaded_past_the_foreign_keys(url: str, amcheck: None) -> None:
    sql(
        url,
        "SET session_replication_role = replica",
        "DELETE FROM documents WHERE id = (SELECT document_id FROM portions ORDER BY id LIMIT 1)",
    )
    code, report, _ = doctor(url)
    problems = by_name(report)["foreign_keys"]["problems"]
    assert code == 1
    assert any(str(p).endswith("point to missing rows of documents") and "portions" in str(p) for p in problems)  # type: ignore[attr-defined]


def test_disabled_foreign_key_triggers(url: str, amcheck: None) -> None:
    sql(url, "ALTER TABLE portions DISABLE TRIGGER ALL")
    code, report, _ = doctor(url)
    assert code == 1
    assert "the foreign-key triggers of portions are disabled" in by_name(report)["foreign_keys"]["problems"]  # type: ignore[operator]


def test_a_search_table_out_of_step(url: str, amcheck: None) -> None:
    sql(
        url,
        "UPDATE portions SET text = 'Moscow' WHERE id = (SELECT min(portion_id) FROM portions_tsv_1)",
        "DELETE FROM portions_tsv_2",
    )
    code, report, _ = doctor(url)
    problems = by_name(report)["full_text"]["problems"]
    assert code == 1
    assert "portions_tsv_1 holds 1 portion(s) whose text has changed since" in problems  # type: ignore[operator]
    assert any(str(p).startswith("portions_tsv_2 lacks") for p in problems)  # type: ignore[attr-defined]


def test_a_later_schema_version(url: str) -> None:
    sql(url, "UPDATE kartoteka_schema SET version = version + 50")
    code, report, _ = doctor(url)
    checks = by_name(report)
    assert code == 1 and "is newer than this Kartoteka supports" in str(checks["header"]["problems"])
    assert checks["schema"]["ok"] is None and checks["audit"]["ok"] is None


def test_a_tampered_audit_entry(url: str, amcheck: None) -> None:
    libpq, schema, _ = parse(url)
    with psycopg.connect(libpq, autocommit=True) as db:
        db.execute(
            f'UPDATE "{schema}_trail".audit SET actor = \'someone\' WHERE seq = (SELECT min(seq) FROM "{schema}_trail".audit)'
        )
    code, report, _ = doctor(url)
    assert code == 1 and by_name(report)["audit"]["ok"] is False


def test_the_owner_only(url: str) -> None:
    arch = Archive(url)
    arch.add_user("clerk", "U", [])
    arch.close()
    code, _, err = cli("--archive", url, "--as", "clerk", "doctor")
    assert code == 1 and "[E042]" in err


def test_a_schema_that_holds_no_archive(pg_database: str, tmp_path: Path) -> None:
    url = pg_location(pg_database, tmp_path, "empty.db")
    sql(url, f'CREATE SCHEMA "{parse(url)[1]}"')
    code, report, _ = doctor(url)
    assert code == 1 and "holds no Kartoteka archive" in str(by_name(report)["header"]["problems"])
