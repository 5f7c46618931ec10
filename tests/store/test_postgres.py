"""The PostgreSQL backend's own parts: schema versions, label filtering in SQL, the search syntax, side files."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from kartoteka.archive import Archive
from kartoteka.errors import KartotekaError
from kartoteka.registry.readers import RawDocument
from kartoteka.store import postgres, sqlite
from kartoteka.store.location import parse, side_path
from kartoteka.store.postgres import PostgresStore
from kartoteka.store.tsquery import translate
from tests.backends import pg_location

OPEN = "UNCLASSIFIED\n\n(U) Colonel Arkady Zorin met the journalist Duarte Mendes in Lisbon in March 1977.\n"
SECRET = "SECRET\n\n(S//HUM) Colonel Arkady Zorin met Boris Kovalenko in Vienna in May 1979.\n"


@pytest.fixture
def url(pg_database: str, tmp_path: Path) -> str:
    return pg_location(pg_database, tmp_path, "pg.db")


def test_both_backends_are_at_the_same_schema_version() -> None:
    # An export of one imports into the other only at the same version: a new
    # SQLite migration needs its PostgreSQL twin in migrations_pg/.
    assert postgres.SCHEMA_VERSION == sqlite.SCHEMA_VERSION


def test_new_archive_is_versioned_and_a_newer_one_refused(url: str) -> None:
    s = PostgresStore(url)
    assert s.schema_version() == postgres.SCHEMA_VERSION
    with s.transaction():
        s.db.execute("UPDATE kartoteka_schema SET version = version + 1")
    s.close()
    with pytest.raises(KartotekaError, match="E011"):
        PostgresStore(url)


def test_a_schema_of_another_application_is_refused(pg_database: str, url: str) -> None:
    _libpq, schema, _keys = parse(url)
    with psycopg.connect(pg_database, autocommit=True) as db:
        db.execute(f"CREATE SCHEMA {schema}")
        db.execute(f"CREATE TABLE {schema}.invoices (n int)")
    with pytest.raises(KartotekaError, match="E010"):
        PostgresStore(url)


def test_a_write_raises_the_data_version_and_a_read_does_not(url: str) -> None:
    arch = Archive(url)
    try:
        before = arch._store.data_version()
        arch.search("Zorin")
        arch.stats()
        assert arch._store.data_version() == before
        list(arch.ingest([RawDocument("open.txt", "txt", "test.v1", OPEN)]))
        assert arch._store.data_version() > before
    finally:
        arch.close()


def test_side_files_are_in_the_keys_folder_never_in_the_database(url: str, tmp_path: Path) -> None:
    arch = Archive(url)
    try:
        list(arch.ingest([RawDocument("open.txt", "txt", "test.v1", OPEN)]))
        arch.add_user("handler", "S", ["HUM"])
        arch.source_add("GTWREN", "Ivan Ivanovich Petrov", "handler")
    finally:
        arch.close()
    side = side_path(url)
    assert side.parent == tmp_path
    for suffix in (".audit-key", ".sources-key", ".audit-anchors"):
        found = side.with_name(side.name + suffix)
        assert found.exists() and found.stat().st_mode & 0o077 == 0, suffix
    key = side.with_name(side.name + ".audit-key").read_bytes()
    # Neither key, nor the true name, is anywhere in the database's rows.
    _libpq, schema, _keys = parse(url)
    with psycopg.connect(parse(url)[0], autocommit=True) as db:
        tables = db.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema IN (%s, %s)",
            (schema, f"{schema}_trail"),
        ).fetchall()
        for sch, table in tables:
            for row in db.execute(f'SELECT t::text FROM "{sch}"."{table}" t'):
                assert "Petrov" not in row[0]
                assert key.hex() not in row[0]


def test_reads_without_authorised_partitions_return_no_row(url: str) -> None:
    """Label filtering happens in SQL: a query built with no partition the viewer may see
    returns nothing from the database, whatever it holds."""
    owner = Archive(url)
    try:
        list(owner.ingest([RawDocument("open.txt", "txt", "test.v1", OPEN)]))
        list(owner.ingest([RawDocument("secret.txt", "txt", "test.v1", SECRET)], label="S:HUM"))
        owner.build_relations()
        owner.derive_claims()
        zorin = str(owner.check("Arkady Zorin")["matches"][0]["entity_id"])
        store = owner._store
        # With every partition: rows. With none: nothing, for every read that takes partitions.
        everything = [p for p, _d, _l in store.label_partitions()]
        assert store.mentions_of(zorin, everything) and store.co_mention_rows(zorin, everything)
        search_parts = [p for p, _d, _l in store.search_partitions()]
        assert store.search_in_partitions("Zorin", search_parts)
        assert store.mentions_of(zorin, []) == []
        assert store.search_in_partitions("Zorin", []) == []
        assert store.partition_hits("Zorin", []) == []
        assert store.co_mention_rows(zorin, []) == []
        assert list(store.entity_portions_in([])) == []
        assert store.documents_in([]) == 0
        assert [c for c in store.claims_about(zorin, []) if c[9] is not None] == []  # only claims by hand remain
        # A U viewer's partitions hold the open passage only: the secret one never leaves the database.
        owner.add_user("clerk", "U", [])
    finally:
        owner.close()
    clerk = Archive(url, user="clerk")
    try:
        parts = clerk._ctx.visible_partitions()
        assert parts
        texts = [h.portion_text for h in clerk._store.mentions_of(zorin, parts)]
        assert texts and not any("Kovalenko" in t for t in texts)
        hits = clerk.search("Zorin")
        assert hits["total"] == 1 and "Vienna" not in str(hits)
    finally:
        clerk.close()


def test_search_syntax_and_snippets(url: str) -> None:
    arch = Archive(url)
    try:
        list(arch.ingest([RawDocument("open.txt", "txt", "test.v1", OPEN)]))
        assert arch.search('"Duarte Mendes"')["total"] == 1
        assert arch.search('"Mendes Duarte"')["total"] == 0  # a phrase keeps its order
        assert arch.search("Zorin AND Lisbon")["total"] == 1
        assert arch.search("Zorin NOT Lisbon")["total"] == 0
        assert arch.search("Vienna OR Lisbon")["total"] == 1
        assert arch.search("Kovalenko OR (Mendes AND journalist)")["total"] == 1
        assert arch.search("Lisb*")["total"] == 1
        assert arch.search('"Duarte Men"*')["total"] == 1
        assert arch.search("lisbon")["total"] == 1  # case folded
        assert arch.search("Lisbón")["total"] == 1  # accents folded, as FTS5's remove_diacritics
        assert arch.search("Gen. Zorin")["total"] == 0  # not the syntax: its words, all of them
        snippet = arch.search("Mendes")["hits"][0]["snippet"]
        assert "«Mendes»" in snippet
    finally:
        arch.close()


@pytest.mark.parametrize(
    ("query", "sql"),
    [
        ("a b", "(phraseto_tsquery('kartoteka', %s) && phraseto_tsquery('kartoteka', %s))"),
        ("a OR b c", "(phraseto_tsquery('kartoteka', %s) || (phraseto_tsquery('kartoteka', %s) && "),
        ("a NOT b", "(phraseto_tsquery('kartoteka', %s) && !!phraseto_tsquery('kartoteka', %s))"),
        ("ab*", "to_tsquery('kartoteka', %s)"),
    ],
)
def test_translation(query: str, sql: str) -> None:
    assert translate(query).sql.startswith(sql)


@pytest.mark.parametrize("query", ["", "a AND", "(a", '"a', "Gen. Zorin", "NEAR(a b)", "title:a", "^a", "OR a"])
def test_what_fts5_refuses_is_refused(query: str) -> None:
    with pytest.raises(ValueError):
        translate(query)


def test_words_are_bound_parameters_never_sql(url: str) -> None:
    q = translate('"x\'); DROP TABLE documents; --" y*')
    assert "DROP" not in q.sql and any("DROP" in p for p in q.params)
    arch = Archive(url)
    try:
        assert arch.search('"x\'); DROP TABLE documents; --"')["total"] == 0
        assert arch.stats()["documents"] == 0
    finally:
        arch.close()
