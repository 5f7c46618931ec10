"""Schema 12: every portion and mention carries its label partition
(`kartoteka.store.partitions`); an archive of schema 11 gets them from the
migration, and a viewer's reads of mentions ask only for their partitions."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from kartoteka.store import partitions
from kartoteka.store.sqlite import APPLICATION_ID, SQLiteStore, _migrations, _split_sql

# (document, document label, [(portion label, entity)]) of an archive made before partitions.
ROWS: list[tuple[str, str, list[tuple[str | None, str]]]] = [
    ("doc-1", "U", [(None, "per-z"), ("S:HUM", "per-z"), ("", "per-z"), ("U", "per-m")]),
    ("doc-2", "S:HUM", [(None, "per-z"), ("S:HUM", "per-z")]),
    ("doc-3", "", [(None, "per-z")]),
]


def _schema_11(path: Path) -> None:
    db = sqlite3.connect(path)
    for v, sql in _migrations():
        if v >= partitions.MIGRATION:
            break
        for statement in _split_sql(sql):
            db.execute(statement)
    db.execute(f"PRAGMA application_id={APPLICATION_ID}")
    db.execute(f"PRAGMA user_version={partitions.MIGRATION - 1}")
    for eid in ("per-z", "per-m"):
        db.execute(
            "INSERT INTO entities(id, kind, name, origin, created_at) VALUES (?,'PERSON',?,'extracted','t')", (eid, eid)
        )
    for doc, label, portions in ROWS:
        db.execute(
            "INSERT INTO documents(id, content_hash, source, format, char_count, pipeline, ingested_at, label)"
            " VALUES (?,?,?,?,?,?,?,?)",
            (doc, doc, f"{doc}.txt", "txt", 1, "test", "2024-01-01", label),
        )
        for seq, (plabel, eid) in enumerate(portions):
            pid = db.execute(
                'INSERT INTO portions(document_id, seq, start, "end", kind, text, label) VALUES (?,?,?,?,?,?,?)',
                (doc, seq, seq * 10, seq * 10 + 9, "text", "Zorin met", plabel),
            ).lastrowid
            db.execute(
                'INSERT INTO mentions(document_id, portion_id, start, "end", text, kind, entity_id) VALUES (?,?,?,?,?,?,?)',
                (doc, pid, seq * 10, seq * 10 + 5, "Zorin", "PERSON", eid),
            )
    db.commit()
    db.close()


def test_schema_11_archive_gets_partitions(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _schema_11(path)
    s = SQLiteStore(path)
    try:
        assert s.schema_version() >= partitions.MIGRATION
        pairs = {part: (dl, pl) for part, dl, pl in s.label_partitions()}
        # An unmarked portion (or one with an empty mark) is governed by its document.
        assert sorted(pairs.values()) == [("", ""), ("S:HUM", "S:HUM"), ("U", "S:HUM"), ("U", "U")]
        for pid, plabel, dlabel, part in s.db.execute(
            "SELECT p.id, p.label, d.label, p.partition_id FROM portions p JOIN documents d ON d.id=p.document_id"
        ):
            assert pairs[part] == partitions.governing(dlabel, plabel), pid
        unset = s.db.execute(
            "SELECT count(*) FROM mentions m JOIN portions p ON p.id=m.portion_id WHERE m.partition_id IS NOT p.partition_id"
        ).fetchone()[0]
        assert unset == 0
        low = [part for part, pair in pairs.items() if pair == ("U", "U")]
        assert [h.document_id for h in s.mentions_of("per-z", low)] == ["doc-1", "doc-1"]
        assert len(s.mentions_of("per-z")) == 6  # the owner's read is not filtered
        assert s.mentions_of("per-z", []) == []
        assert s.documents_in(low) == 1 and s.documents_in(None) == 3
        assert {(e, d) for e, _, _, d in s.entity_portions_in(low)} == {("per-z", "doc-1"), ("per-m", "doc-1")}
        assert [r[0] for r in s.co_mention_rows("per-z", low)] == []
    finally:
        s.close()
