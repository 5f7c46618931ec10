"""Relations, grades and claims in the PostgreSQL store.

A part of `PostgresStore` (kartoteka/store/postgres.py), which mixes the parts
together over one connection; split by what the rows are for.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
from psycopg.rows import TupleRow

from kartoteka.store import queries
from kartoteka.store.records import (
    now_iso,
    support_ids,
)


class PgAnalysisRows:
    db: psycopg.Connection[TupleRow]
    path: str

    # relations ---------------------------------------------------------------
    def documents_without_relations(self, component: str) -> list[str]:
        return [
            r[0]
            for r in self.db.execute(
                "SELECT id FROM documents WHERE relations IS NULL OR relations != %s ORDER BY rowid",
                (component,),
            )
        ]

    def portion_mentions(self, document_id: str) -> list[tuple[int, int, str, int, int, str, str]]:
        """(portion id, portion start, portion text, mention start, end, kind, entity id)."""
        return [
            (int(r[0]), int(r[1]), str(r[2]), int(r[3]), int(r[4]), str(r[5]), str(r[6]))
            for r in self.db.execute(
                'SELECT p.id, p.start, p.text, m.start, m."end", e.kind, m.entity_id FROM mentions m'
                " JOIN portions p ON p.id=m.portion_id JOIN entities e ON e.id=m.entity_id"
                " WHERE m.document_id=%s AND e.merged_into IS NULL ORDER BY p.id, m.start",
                (document_id,),
            )
        ]

    def replace_relations(self, document_id: str, component: str, rows: Iterable[tuple[object, ...]]) -> int:
        self.db.execute("DELETE FROM relations WHERE document_id=%s", (document_id,))
        cur = self.db.cursor()
        cur.executemany(
            'INSERT INTO relations(type, subject_id, object_id, document_id, portion_id, start, "end",'
            " trigger, confidence, date_start, date_end, support, modality)"
            " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)"
            " ON CONFLICT DO NOTHING",
            list(rows),
        )
        self.db.execute("UPDATE documents SET relations=%s WHERE id=%s", (component, document_id))
        return int(cur.rowcount or 0)

    def relations(
        self,
    ) -> list[tuple[int, str, str, str, str, int, int, int, float, str | None, str | None, str, tuple[int, ...]]]:
        """(id, type, subject, object, document id, portion id, start, end, confidence, date start, date end,
        source, supporting portion ids)."""
        return [
            (
                int(r[0]),
                r[1],
                r[2],
                r[3],
                r[4],
                int(r[5]),
                int(r[6]),
                int(r[7]),
                float(r[8]),
                r[9],
                r[10],
                r[11],
                support_ids(r[12]),
            )
            for r in self.db.execute(
                "SELECT r.id, r.type, coalesce(ms.merged_into, r.subject_id), coalesce(mo.merged_into, r.object_id),"
                ' r.document_id, r.portion_id, r.start, r."end", r.confidence, r.date_start, r.date_end, d.source,'
                " r.support"
                " FROM relations r JOIN documents d ON d.id=r.document_id"
                " JOIN entities ms ON ms.id=r.subject_id JOIN entities mo ON mo.id=r.object_id"
                " WHERE r.modality='asserted' ORDER BY r.id"
            )
        ]

    def marked_relations(
        self, entity_id: str
    ) -> list[tuple[str, str, str, str, int, int, int, tuple[int, ...], str, str]]:
        """queries.marked_relations: the relations naming an entity that are kept, marked, but are no fact."""
        return [
            (r[0], r[1], r[2], r[3], int(r[4]), int(r[5]), int(r[6]), support_ids(r[7]), r[8], r[9])
            for r in self.db.execute(queries.marked_relations("%s"), (entity_id, entity_id))
        ]

    def portion_text(self, portion_id: int) -> tuple[int, str, int]:
        """(seq, text, start offset in the document)."""
        row = self.db.execute("SELECT seq, text, start FROM portions WHERE id=%s", (portion_id,)).fetchone()
        assert row is not None, f"no portion {portion_id}"
        return int(row[0]), str(row[1]), int(row[2])

    # assessment ----------------------------------------------------------------
    def grade_document(self, document_id: str, reliability: str, credibility: int, reported_by: str | None) -> None:
        self.db.execute(
            "UPDATE documents SET reliability=%s, credibility=%s, reported_by=coalesce(%s, reported_by) WHERE id=%s",
            (reliability, credibility, reported_by, document_id),
        )

    def document_grade(self, document_id: str) -> tuple[str | None, int | None, str | None]:
        row = self.db.execute(
            "SELECT reliability, credibility, reported_by FROM documents WHERE id=%s", (document_id,)
        ).fetchone()
        return (row[0], row[1], row[2]) if row else (None, None, None)

    def add_claim(self, row: tuple[object, ...]) -> int:
        """A claim (subject, statement, relation, object, source, reliability, credibility,
        document, portion, origin, support, label); it takes its portion's label partition."""
        portion_id = row[8]
        part = (
            self.db.execute("SELECT partition_id FROM portions WHERE id=%s", (portion_id,)).fetchone()
            if portion_id is not None
            else None
        )
        cur = self.db.execute(
            "INSERT INTO claims(subject_id, statement, relation, object_id, source, reliability, credibility,"
            " document_id, portion_id, origin, support, label, created_at, partition_id)"
            " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) ON CONFLICT DO NOTHING",
            (*row, now_iso(), part[0] if part else None),
        )
        return int(cur.rowcount or 0)

    def claims_about(self, entity_id: str, parts: Sequence[int] | None = None) -> list[tuple[Any, ...]]:
        """Claims naming an entity, in the order made; with `parts`, only claims from
        passages in those label partitions, and claims by hand (no passage)."""
        cols = (
            "id, subject_id, statement, relation, object_id, source, reliability, credibility,"
            " document_id, portion_id, origin, support, label"
        )
        if parts is None:
            sql = f"SELECT {cols} FROM claims WHERE subject_id=%s OR object_id=%s ORDER BY id"
            return list(self.db.execute(sql, (entity_id, entity_id)))
        # Each branch is one seek in an index on (partition, subject) or
        # (partition, object): hidden claims are never read, nor handed back.
        sql = (
            f"SELECT {cols} FROM claims WHERE partition_id = ANY(%s) AND subject_id=%s"
            f" UNION SELECT {cols} FROM claims WHERE partition_id = ANY(%s) AND object_id=%s"
            f" UNION SELECT {cols} FROM claims WHERE partition_id IS NULL AND subject_id=%s"
            f" UNION SELECT {cols} FROM claims WHERE partition_id IS NULL AND object_id=%s"
            " ORDER BY id"
        )
        ids = [int(p) for p in parts]
        return list(self.db.execute(sql, (ids, entity_id, ids, entity_id, entity_id, entity_id)))
