"""The card index in the SQLite store: entities, names, keys, mentions, corrections and their reads.

A part of `SQLiteStore` (kartoteka/store/sqlite.py), which mixes the parts
together over one connection; split by what the rows are for.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from kartoteka.store import partitions, queries
from kartoteka.store.records import (
    DateMention,
    Entity,
    MentionHit,
    now_iso,
)


class CardRows:
    db: sqlite3.Connection
    path: str

    # card index ----------------------------------------------------------
    def create_entity(self, entity_id: str, kind: str, name: str, origin: str) -> None:
        self.db.execute(
            "INSERT INTO entities(id, kind, name, origin, created_at) VALUES (?,?,?,?,?)",
            (entity_id, kind, name, origin, now_iso()),
        )

    def entity(self, entity_id: str) -> Entity | None:
        row = self.db.execute(
            "SELECT id, kind, name, origin FROM entities WHERE id=? AND merged_into IS NULL", (entity_id,)
        ).fetchone()
        if row is None:
            return None
        names = tuple(
            r[0]
            for r in self.db.execute(
                "SELECT DISTINCT name FROM entity_names WHERE entity_id=? ORDER BY name", (entity_id,)
            )
        )
        # No mention count (`entities` gives one): counting every mention, hidden
        # ones too, made each look-up of a card take longer the more hidden
        # passages name it, and every viewer's read looks cards up.
        return Entity(row[0], row[1], row[2], row[3], names)

    def resolve_redirect(self, entity_id: str) -> str:
        seen = set()
        current = entity_id
        while current not in seen:
            seen.add(current)
            row = self.db.execute("SELECT merged_into FROM entities WHERE id=?", (current,)).fetchone()
            if row is None or row[0] is None:
                return current
            current = row[0]
        return current

    def add_names(self, entity_id: str, names: Iterable[tuple[str, str]], label: str | None = None) -> None:
        self.db.executemany(
            "INSERT OR IGNORE INTO entity_names(entity_id, name, source, label) VALUES (?,?,?,?)",
            [(entity_id, n, s, label) for n, s in names],
        )

    def sourced_entities(self) -> Iterator[tuple[str, str | None]]:
        """(entity id, label) of every live entity's imported names: a source of its own."""
        yield from self.db.execute(
            "SELECT n.entity_id, n.label FROM entity_names n JOIN entities e ON e.id=n.entity_id"
            " WHERE e.merged_into IS NULL AND n.source='import'"
        )

    def add_given_names(self, entity_id: str, names: Iterable[tuple[str, str]], label: str | None = None) -> None:
        """Add names a person gave (source 'import' or 'analyst') under their label.
        A name is a row per (source, label): the same name given under another
        label, or given by a mention, is another row, so a row the giver cannot
        see never swallows theirs (whether it shows would depend on it)."""
        self.db.executemany(
            "INSERT OR IGNORE INTO entity_names(entity_id, name, source, label) VALUES (?,?,?,?)",
            [(entity_id, n, s, label) for n, s in names],
        )

    def add_keys(self, entity_id: str, keys: Iterable[str]) -> None:
        self.db.executemany(
            "INSERT OR IGNORE INTO name_keys(key, entity_id) VALUES (?,?)", [(k, entity_id) for k in keys]
        )

    def rebuild_entity_keys(self, entity_id: str, keys: Iterable[str]) -> None:
        self.db.execute("DELETE FROM name_keys WHERE entity_id=?", (entity_id,))
        self.add_keys(entity_id, keys)

    def entities_for_keys(self, keys: Sequence[str], kind: str | None = None) -> list[str]:
        out: list[str] = []
        for i in range(0, len(keys), 500):
            chunk = list(keys[i : i + 500])
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT DISTINCT k.entity_id FROM name_keys k JOIN entities e ON e.id=k.entity_id WHERE k.key IN ({marks}) AND e.merged_into IS NULL"
            params: list[object] = list(chunk)
            if kind:
                sql += " AND e.kind=?"
                params.append(kind)
            out.extend(r[0] for r in self.db.execute(sql, params))
        return sorted(set(out))

    def entity_names(self, entity_ids: Sequence[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {e: [] for e in entity_ids}
        for i in range(0, len(entity_ids), 500):
            chunk = list(entity_ids[i : i + 500])
            marks = ",".join("?" * len(chunk))
            for eid, name in self.db.execute(
                f"SELECT DISTINCT entity_id, name FROM entity_names WHERE entity_id IN ({marks})", chunk
            ):
                out[eid].append(name)
        return out

    def person_names(self) -> Iterator[tuple[str, str, int]]:
        # A cursor of its own, read to the end: the index is built while
        # nothing else uses the connection.
        yield from self.db.execute(queries.person_names())

    def _by_ids(self, query: Callable[[str], str], column: str, entity_ids: Sequence[str]) -> list[Any]:
        """The rows of a queries.py text whose condition on `column` stands twice, for
        these ids, in chunks that keep within SQLite's bound on parameters."""
        out: list[Any] = []
        ids = list(entity_ids)
        for i in range(0, len(ids), 400):
            chunk = ids[i : i + 400]
            out.extend(self.db.execute(query(f"{column} IN ({','.join('?' * len(chunk))})"), chunk * 2))
        return out

    def person_names_of(self, entity_ids: Sequence[str]) -> list[tuple[str, str, int]]:
        return self._by_ids(queries.person_names, "e.id", entity_ids)

    def person_name_sources(self, entity_ids: Sequence[str]) -> list[tuple[str, str, str | None, str]]:
        return self._by_ids(queries.person_name_sources, "entity_id", entity_ids)

    def name_change_seq(self) -> int:
        row = self.db.execute(queries.NAME_CHANGE_SEQ).fetchone()
        return int(row[0]) if row else 0

    def name_changes_since(self, seq: int) -> list[str]:
        return [r[0] for r in self.db.execute(queries.name_changes_since("?"), (seq,))]

    def entities(self, kind: str | None, limit: int) -> list[Entity]:
        sql = (
            "SELECT e.id, e.kind, e.name, e.origin, count(m.id) AS n FROM entities e"
            " LEFT JOIN mentions m ON m.entity_id=e.id WHERE e.merged_into IS NULL"
        )
        params: list[object] = []
        if kind:
            sql += " AND e.kind=?"
            params.append(kind)
        sql += " GROUP BY e.id ORDER BY n DESC, e.name LIMIT ?"
        params.append(limit)
        return [Entity(r[0], r[1], r[2], r[3], (), int(r[4])) for r in self.db.execute(sql, params)]

    def add_mentions(
        self,
        document_id: str,
        portion_ids: dict[int, int],
        rows: Iterable[tuple[int, int, int, str, str, str | None]],
    ) -> None:
        # A mention takes its portion's label partition (kartoteka/store/partitions.py).
        self.db.executemany(
            'INSERT OR IGNORE INTO mentions(document_id, portion_id, start, "end", text, kind, entity_id, partition_id)'
            " VALUES (?,?,?,?,?,?,?,(SELECT partition_id FROM portions WHERE id=?))",
            [(document_id, portion_ids[seq], s, e, t, k, eid, portion_ids[seq]) for seq, s, e, t, k, eid in rows],
        )

    @staticmethod
    def _split_key(mention_key: str) -> tuple[str, int, int]:
        doc, _, span = mention_key.rpartition(":")
        start, _, end = span.partition("-")
        return doc, int(start), int(end)

    def mention_entity(self, mention_key: str) -> str | None:
        try:
            doc, start, end = self._split_key(mention_key)
        except ValueError:
            return None
        row = self.db.execute(
            'SELECT entity_id FROM mentions WHERE document_id=? AND start=? AND "end"=?', (doc, start, end)
        ).fetchone()
        return row[0] if row else None

    def move_mentions(self, mention_keys: Sequence[str], to_entity: str, pin: bool) -> int:
        n = 0
        for key in mention_keys:
            doc, start, end = self._split_key(key)
            cur = self.db.execute(
                'UPDATE mentions SET entity_id=?, pinned=? WHERE document_id=? AND start=? AND "end"=?',
                (to_entity, int(pin), doc, start, end),
            )
            n += cur.rowcount
        return n

    def merge_entities(self, keep: str, gone: str) -> None:
        db = self.db
        db.execute("UPDATE mentions SET entity_id=? WHERE entity_id=?", (keep, gone))
        db.execute(
            # Labels go with the names: an alias given under S stays S on the kept card.
            "INSERT OR IGNORE INTO entity_names(entity_id, name, source, label)"
            " SELECT ?, name, source, label FROM entity_names WHERE entity_id=?",
            (keep, gone),
        )
        db.execute("DELETE FROM entity_names WHERE entity_id=?", (gone,))
        db.execute(
            "INSERT OR IGNORE INTO name_keys(key, entity_id) SELECT key, ? FROM name_keys WHERE entity_id=?",
            (keep, gone),
        )
        db.execute("DELETE FROM name_keys WHERE entity_id=?", (gone,))
        db.execute("UPDATE entities SET merged_into=? WHERE id=?", (keep, gone))
        db.execute("UPDATE entities SET merged_into=? WHERE merged_into=?", (keep, gone))

    def mark_distinct(self, a: str, b: str) -> None:
        x, y = sorted((a, b))
        self.db.execute("INSERT OR IGNORE INTO distinct_entities(a, b) VALUES (?,?)", (x, y))

    def set_entity_name(self, entity_id: str, name: str) -> None:
        self.db.execute("UPDATE entities SET name=? WHERE id=?", (name, entity_id))

    def record_correction(self, op: str, payload: dict[str, object]) -> None:
        self.db.execute(
            "INSERT INTO corrections(at, op, payload) VALUES (?,?,?)",
            (now_iso(), op, json.dumps(payload, ensure_ascii=False)),
        )

    def corrections(self) -> list[tuple[str, str, dict[str, object]]]:
        return [
            (r[0], r[1], json.loads(r[2]))
            for r in self.db.execute("SELECT at, op, payload FROM corrections ORDER BY id")
        ]

    # reads -----------------------------------------------------------------
    def mentions_of(self, entity_id: str, parts: Sequence[int] | None = None) -> list[MentionHit]:
        """An entity's mentions in document order; with `parts`, only those in these label partitions."""
        rows = self.db.execute(
            'SELECT m.document_id, m.start, m."end", d.source, p.seq, p.id, m.text, p.text, p.start'
            " FROM mentions m JOIN documents d ON d.id=m.document_id JOIN portions p ON p.id=m.portion_id"
            f" WHERE m.entity_id=? AND {partitions.where_in('m.partition_id', parts)} ORDER BY d.rowid, m.start",
            (entity_id,),
        ).fetchall()
        return [
            MentionHit(
                f"{r[0]}:{r[1]}-{r[2]}", r[0], r[3], int(r[4]), int(r[5]), r[6], int(r[1]), int(r[2]), r[7], int(r[8])
            )
            for r in rows
        ]

    def dates_in_portions(self, portion_ids: Sequence[int]) -> dict[int, list[DateMention]]:
        out: dict[int, list[DateMention]] = {}
        ids = list(portion_ids)
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for pid, start, end, text, value in self.db.execute(
                f'SELECT portion_id, start, "end", text, value FROM dates WHERE portion_id IN ({marks}) ORDER BY start',
                chunk,
            ):
                out.setdefault(int(pid), []).append(DateMention(0, int(start), int(end), text, value))
        return out

    def co_mentions(self, entity_id: str, limit: int) -> list[tuple[str, str, str, int]]:
        rows = self.db.execute(
            "SELECT e.id, e.name, e.kind, count(DISTINCT o.portion_id) AS n"
            " FROM mentions m JOIN mentions o ON o.portion_id=m.portion_id AND o.entity_id != m.entity_id"
            " JOIN entities e ON e.id=o.entity_id"
            " WHERE m.entity_id=? GROUP BY e.id ORDER BY n DESC, e.name LIMIT ?",
            (entity_id, limit),
        ).fetchall()
        return [(r[0], r[1], r[2], int(r[3])) for r in rows]
