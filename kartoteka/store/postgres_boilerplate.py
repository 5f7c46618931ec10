"""Learned boilerplate lines of the PostgreSQL store: sightings and masks, per label partition.

A part of `PostgresStore` (kartoteka/store/postgres.py), which mixes the parts
together over one connection; split by what the rows are for.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
from psycopg.rows import TupleRow


class PgBoilerplateRows:
    db: psycopg.Connection[TupleRow]
    path: str

    # boilerplate -------------------------------------------------------------
    # A line is counted per partition: (line key, document label, governing
    # portion label). Every viewer sees a partition whole or not at all.
    def boilerplate_learned(self, keys: Sequence[tuple[int, str, str]], min_docs: int) -> set[tuple[int, str, str]]:
        """Which (line key, document label, portion label) recur in at least `min_docs` documents."""
        wanted = set(keys)
        if not wanted:
            return set()
        # One query for a document's lines: keys are 64-bit integers, so they
        # go into the statement's IN list without quoting; labels are checked after.
        found = self.db.execute(
            "SELECT key, document_label, label FROM boilerplate_lines"
            f" WHERE docs >= %s AND key IN ({','.join(str(int(k)) for k, _, _ in wanted)})",
            (min_docs,),
        ).fetchall()
        return {(int(k), str(d), str(lab)) for k, d, lab in found} & wanted

    def boilerplate_seen(
        self, document_id: str, keys: Sequence[tuple[int, str, str]], min_docs: int
    ) -> list[tuple[int, str, str]]:
        """Count a document's candidate lines; the partitions' lines that reach `min_docs` with it."""
        crossed: list[tuple[int, str, str]] = []
        for key, document_label, label in sorted(set(keys)):
            cur = self.db.execute(
                "INSERT INTO boilerplate_sightings(key, document_label, label, document_id) VALUES (%s,%s,%s,%s)"
                " ON CONFLICT DO NOTHING",
                (key, document_label, label, document_id),
            )
            if not cur.rowcount:
                continue
            row = self.db.execute(
                "INSERT INTO boilerplate_lines(key, document_label, label, docs) VALUES (%s,%s,%s,1)"
                " ON CONFLICT(key, document_label, label) DO UPDATE SET docs=boilerplate_lines.docs+1 RETURNING docs",
                (key, document_label, label),
            ).fetchone()
            if row is not None and int(row[0]) == min_docs:
                crossed.append((key, document_label, label))
        return crossed

    def boilerplate_documents(self, key: int, document_label: str, label: str) -> list[str]:
        """The documents of the partition that carry the line."""
        return [
            str(r[0])
            for r in self.db.execute(
                "SELECT document_id FROM boilerplate_sightings WHERE key=%s AND document_label=%s AND label=%s"
                " ORDER BY document_id",
                (key, document_label, label),
            )
        ]

    def mask_boilerplate(self, portion_id: int, spans: Sequence[tuple[int, int]], whole: bool) -> int:
        """Mark lines of a stored portion as boilerplate: a marking each, and
        the mentions and dates inside them removed. Returns mentions removed."""
        row = self.db.execute("SELECT document_id FROM portions WHERE id=%s", (portion_id,)).fetchone()
        if row is None:
            return 0
        removed = 0
        for start, end in spans:
            self.db.execute(
                'INSERT INTO markings(document_id, portion_id, kind, value, start, "end") VALUES (%s,%s,%s,%s,%s,%s)',
                (row[0], portion_id, "boilerplate", "learned", start, end),
            )
            removed += self.db.execute(
                'DELETE FROM mentions WHERE portion_id=%s AND start>=%s AND "end"<=%s', (portion_id, start, end)
            ).rowcount
            self.db.execute(
                'DELETE FROM dates WHERE portion_id=%s AND start>=%s AND "end"<=%s', (portion_id, start, end)
            )
        if whole:
            self.db.execute("UPDATE portions SET boilerplate=1 WHERE id=%s", (portion_id,))
        return removed
