"""What the access policy reads from the PostgreSQL store: labels, portions, label partitions, search.

A part of `PostgresStore` (kartoteka/store/postgres.py), which mixes the parts
together over one connection; split by what the rows are for.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import psycopg
from psycopg.rows import TupleRow

from kartoteka.store import postgres_partitions as partitions
from kartoteka.store import postgres_search as search
from kartoteka.store.records import (
    PassageFacets,
    SearchHit,
)

# Parameters per statement, well under PostgreSQL's limit of 65,535.
_CHUNK = 900


class PgCompartmentRows:
    db: psycopg.Connection[TupleRow]
    path: str

    # compartments -----------------------------------------------------------
    def portion_labels(self) -> Iterator[tuple[int, str, str | None, str]]:
        yield from self.db.execute(
            "SELECT p.id, p.document_id, p.label, d.label FROM portions p JOIN documents d ON d.id=p.document_id ORDER BY p.id"
        )

    def portion_rows(self, document_id: str) -> list[tuple[int, int, str, str, str | None, str | None]]:
        return [
            (int(r[0]), int(r[1]), str(r[2]), str(r[3]), r[4], r[5])
            for r in self.db.execute(
                "SELECT id, seq, kind, text, mark, label FROM portions WHERE document_id=%s ORDER BY seq",
                (document_id,),
            )
        ]

    def portion_spans(self, document_id: str) -> list[tuple[int, int, str, str, str | None, str | None, int]]:
        """Like portion_rows, with each portion's start offset in the document."""
        return [
            (int(r[0]), int(r[1]), str(r[2]), str(r[3]), r[4], r[5], int(r[6]))
            for r in self.db.execute(
                "SELECT id, seq, kind, text, mark, label, start FROM portions WHERE document_id=%s ORDER BY seq",
                (document_id,),
            )
        ]

    def document_label(self, document_id: str) -> str | None:
        row = self.db.execute("SELECT label FROM documents WHERE id=%s", (document_id,)).fetchone()
        return str(row[0]) if row else None

    def portion_markings(self, document_id: str) -> list[tuple[str, str, int, int, int | None]]:
        return [
            (str(r[0]), str(r[1]), int(r[2]), int(r[3]), r[4])
            for r in self.db.execute(
                'SELECT kind, value, start, "end", portion_id FROM markings WHERE document_id=%s ORDER BY start',
                (document_id,),
            )
        ]

    def search_partitions(self) -> list[tuple[int, str, str]]:
        return search.partitions(self.db)

    def search_in_partitions(self, query: str, partitions: Sequence[int]) -> list[tuple[int, float, int]]:
        return search.ranked(self.db, query, partitions)

    def passage_facets(self, portion_ids: Sequence[int]) -> dict[int, PassageFacets]:
        """Facets of passages (search): document and source, kinds of entity mentioned, years of dates."""
        out: dict[int, tuple[str, str, set[str], set[str]]] = {}
        for i in range(0, len(portion_ids), _CHUNK):
            chunk = list(portion_ids[i : i + _CHUNK])
            marks = ",".join(["%s"] * len(chunk))
            for pid, doc, source in self.db.execute(
                f"SELECT p.id, p.document_id, d.source FROM portions p JOIN documents d ON d.id=p.document_id"
                f" WHERE p.id IN ({marks})",
                chunk,
            ):
                out[int(pid)] = (str(doc), str(source), set(), set())
            for pid, kind in self.db.execute(
                f"SELECT DISTINCT portion_id, kind FROM mentions WHERE portion_id IN ({marks})", chunk
            ):
                out[int(pid)][2].add(str(kind))
            for pid, value in self.db.execute(
                f"SELECT DISTINCT portion_id, substr(value, 1, 4) FROM dates WHERE portion_id IN ({marks})"
                " AND value IS NOT NULL",
                chunk,
            ):
                out[int(pid)][2].add("DATE")
                if str(value).isdigit():
                    out[int(pid)][3].add(str(value))
        return {pid: PassageFacets(d, s, frozenset(k), frozenset(y)) for pid, (d, s, k, y) in out.items()}

    def partition_hits(self, query: str, hits: Sequence[tuple[int, float, int]]) -> list[SearchHit]:
        """Search hits, in the order given, for (portion id, rank, partition) matches."""
        if not hits:
            return []
        texts = search.snippets(self.db, query, [(pid, part) for pid, _, part in hits])
        pids = [pid for pid, _, _ in hits]
        marks = ",".join(["%s"] * len(pids))
        rows = {
            int(r[0]): r
            for r in self.db.execute(
                "SELECT p.id, p.document_id, d.source, p.seq FROM portions p JOIN documents d ON d.id=p.document_id"
                f" WHERE p.id IN ({marks})",
                pids,
            )
        }
        return [
            SearchHit(rows[pid][1], rows[pid][2], int(rows[pid][3]), texts.get(pid, ""), rank, pid)
            for pid, rank, _ in hits
            if pid in rows
        ]

    def person_mention_names(self) -> Iterator[tuple[str, str, int, int]]:
        """(entity id, mention text, portion id, mention count) for live people."""
        yield from self.db.execute(
            "SELECT m.entity_id, m.text, m.portion_id,"
            " (SELECT count(*) FROM mentions c WHERE c.entity_id=m.entity_id)"
            " FROM mentions m JOIN entities e ON e.id=m.entity_id"
            " WHERE m.kind='PERSON' AND e.merged_into IS NULL ORDER BY m.id"
        )

    def unlabelled_person_names(self) -> Iterator[tuple[str, str, str | None]]:
        """Names that no document gave, imported records' and analysts' aliases, with their labels."""
        yield from self.db.execute(
            "SELECT n.entity_id, n.name, n.label FROM entity_names n JOIN entities e ON e.id=n.entity_id"
            " WHERE e.kind='PERSON' AND e.merged_into IS NULL AND n.source IN ('import', 'analyst') ORDER BY n.rowid"
        )

    def entities_without_mentions(self) -> list[str]:
        return [
            r[0]
            for r in self.db.execute(
                "SELECT id FROM entities e WHERE merged_into IS NULL AND origin != 'extracted'"
                " AND NOT EXISTS (SELECT 1 FROM mentions m WHERE m.entity_id=e.id) ORDER BY e.rowid"
            )
        ]

    def entity_portions(self) -> Iterator[tuple[str, str, int]]:
        """(entity id, kind, portion id) for every mention of a live entity."""
        yield from self.db.execute(
            "SELECT m.entity_id, e.kind, m.portion_id FROM mentions m JOIN entities e ON e.id=m.entity_id"
            " WHERE e.merged_into IS NULL ORDER BY m.id"
        )

    def co_mention_rows(self, entity_id: str, parts: Sequence[int] | None = None) -> list[tuple[str, str, str, int]]:
        """(entity id, name, kind, portion id) of everyone named in a passage with the entity;
        with `parts`, only passages in these label partitions (the other mention is in the same one)."""
        return [
            (r[0], r[1], r[2], int(r[3]))
            for r in self.db.execute(
                "SELECT DISTINCT e.id, e.name, e.kind, o.portion_id"
                " FROM mentions m JOIN mentions o ON o.portion_id=m.portion_id AND o.entity_id != m.entity_id"
                f" JOIN entities e ON e.id=o.entity_id WHERE m.entity_id=%s AND {partitions.where_in('m.partition_id', parts)}"
                " ORDER BY 1, 2, 3, 4",
                (entity_id,),
            )
        ]

    def label_partitions(self) -> list[tuple[int, str, str]]:
        """(partition, document label, governing label) of every portion and mention partition."""
        return partitions.partitions(self.db)

    def entity_portions_in(self, parts: Sequence[int] | None) -> Iterator[tuple[str, str, int, str]]:
        """(entity id, kind, portion id, document id) for every mention of a live entity in these partitions."""
        yield from self.db.execute(
            "SELECT m.entity_id, e.kind, m.portion_id, m.document_id FROM mentions m JOIN entities e ON e.id=m.entity_id"
            f" WHERE e.merged_into IS NULL AND {partitions.where_in('m.partition_id', parts)} ORDER BY m.id"
        )

    def documents_in(self, parts: Sequence[int] | None) -> int:
        """How many documents have a portion in these partitions."""
        row = self.db.execute(
            f"SELECT count(DISTINCT document_id) FROM portions WHERE {partitions.where_in('partition_id', parts)}"
        ).fetchone()
        return int(row[0]) if row else 0

    def per_portion_counts(self, table: str) -> dict[int, int]:
        assert table in ("mentions", "dates", "markings")
        return {
            int(r[0]): int(r[1])
            for r in self.db.execute(
                f"SELECT portion_id, count(*) FROM {table} GROUP BY portion_id ORDER BY portion_id"
            )
            if r[0] is not None
        }
