"""Schema 11: learned boilerplate counted per (document label, portion label),
and a card's names one row per (name, source, label); an archive of schema 10
keeps its counts and names."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from kartoteka.store.sqlite import APPLICATION_ID, SQLiteStore, _migrations, _split_sql


def _schema_10(path: Path) -> None:
    db = sqlite3.connect(path)
    for v, sql in _migrations():
        if v > 10:
            break
        for statement in _split_sql(sql):
            db.execute(statement)
    db.execute(f"PRAGMA application_id={APPLICATION_ID}")
    db.execute("PRAGMA user_version=10")
    for doc, label in (("doc-1", "U"), ("doc-2", "S:HUM"), ("doc-3", "U")):
        db.execute(
            "INSERT INTO documents(id, content_hash, source, format, char_count, pipeline, ingested_at, label)"
            " VALUES (?,?,?,?,?,?,?,?)",
            (doc, doc, f"{doc}.txt", "txt", 1, "test", "2024-01-01", label),
        )
        # Under v10 a (U) line of the S:HUM document counted with the U ones.
        db.execute("INSERT INTO boilerplate_sightings(key, label, document_id) VALUES (7, 'U', ?)", (doc,))
    db.execute("INSERT INTO boilerplate_lines(key, label, docs) VALUES (7, 'U', 3)")
    db.execute("INSERT INTO entities(id, kind, name, origin, created_at) VALUES ('per-1','PERSON','A','analyst','t')")
    db.execute("INSERT INTO entity_names(entity_id, name, source, label) VALUES ('per-1','Sasha','analyst','S:HUM')")
    db.execute("INSERT INTO entity_names(entity_id, name, source, label) VALUES ('per-1','A','mention',NULL)")
    db.commit()
    db.close()


def test_schema_10_counts_are_split_by_partition_and_names_kept(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _schema_10(path)
    s = SQLiteStore(path)
    try:
        assert s.boilerplate_learned([(7, "U", "U"), (7, "S:HUM", "U")], 2) == {(7, "U", "U")}
        assert s.boilerplate_learned([(7, "U", "U")], 3) == set()
        assert s.boilerplate_documents(7, "U", "U") == ["doc-1", "doc-3"]
        assert s.boilerplate_documents(7, "S:HUM", "U") == ["doc-2"]
        # The same name given again under U is a row of its own; shown once.
        s.add_given_names("per-1", [("Sasha", "analyst")], "U")
        s.add_given_names("per-1", [("Sasha", "analyst")], "U")
        s.add_given_names("per-1", [("A", "analyst")])
        rows = sorted(s.db.execute("SELECT name, source, label FROM entity_names"), key=str)
        assert rows == sorted(
            [("A", "analyst", None), ("A", "mention", None), ("Sasha", "analyst", "S:HUM"), ("Sasha", "analyst", "U")],
            key=str,
        )
        entity = s.entity("per-1")
        assert entity is not None and entity.names == ("A", "Sasha")
    finally:
        s.close()
