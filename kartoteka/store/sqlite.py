"""Embedded SQLite backend: one file, WAL mode, FTS5 full text."""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from kartoteka.errors import E, KartotekaError
from kartoteka.store import partitions, search
from kartoteka.store.integrity import database_error, quick_check_on_open, schema_on_open
from kartoteka.store.private import create_private
from kartoteka.store.records import (
    DateMention,
    Document,
    DocumentSummary,
    Entity,
    MentionHit,
    SearchHit,
    support_ids,
)
from kartoteka.store.trail import SQLiteAuditTrail, busy_error, busy_seconds, is_locked

APPLICATION_ID = 0x4B54_4B41  # "KTKA": marks the file as a Kartoteka archive


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _migrations() -> list[tuple[int, str]]:
    folder = resources.files("kartoteka.store").joinpath("migrations")
    out = []
    for item in folder.iterdir():
        if item.name.endswith(".sql"):
            out.append((int(item.name.split("_", 1)[0]), item.read_text(encoding="utf-8")))
    return sorted(out)


SCHEMA_VERSION = max(v for v, _ in _migrations())


class SQLiteStore:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        create_private(self.path)  # a new archive is 0600 like its keys; its -wal and -shm follow
        try:
            # Wait for another writer instead of failing at once (issue 11: two
            # ingests, or a read during an ingest, died with "database is locked").
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=busy_seconds())
            self.db.execute("PRAGMA journal_mode=WAL")
        except sqlite3.DatabaseError as exc:
            if is_locked(exc):
                raise busy_error(self.path) from exc
            raise database_error(self.path, exc) from exc
        self._secret: bytes | None = None
        self._depth = 0
        self._savepoints = 0
        try:
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute(f"PRAGMA busy_timeout={int(busy_seconds() * 1000)}")
            # A damaged file is refused before anything reads or migrates it,
            # and one that lost a table before a command trips on it (issue 11).
            quick_check_on_open(self.db, self.path)
            self._migrate()
            schema_on_open(self.db, self.path, SCHEMA_VERSION)
        except sqlite3.DatabaseError as exc:
            self.db.close()
            if is_locked(exc):
                raise busy_error(self.path) from exc
            raise database_error(self.path, exc) from exc
        except BaseException:
            self.db.close()
            raise

    # lifecycle -----------------------------------------------------------
    def _migrate(self) -> None:
        try:
            app_id = self.db.execute("PRAGMA application_id").fetchone()[0]
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            tables = self.db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise KartotekaError(E.E010, path=self.path, reason=str(exc)) from exc
        if tables and app_id != APPLICATION_ID:
            raise KartotekaError(E.E010, path=self.path, reason="it is an SQLite file of another application")
        if version > SCHEMA_VERSION:
            raise KartotekaError(E.E011, found=version, supported=SCHEMA_VERSION)
        for v, sql in _migrations():
            if v <= version:
                continue
            # Each migration and its version bump commit together, so a crash
            # mid-migration leaves the archive at the previous version.
            self._begin()
            try:
                for statement in _split_sql(sql):
                    self.db.execute(statement)
                if v == search.MIGRATION:
                    search.backfill(self.db)
                if v == partitions.MIGRATION:
                    partitions.backfill(self.db)
                self.db.execute(f"PRAGMA application_id={APPLICATION_ID}")
                self.db.execute(f"PRAGMA user_version={v}")
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise

    def data_version(self) -> int:
        """Changes whenever another connection commits: tells a server its caches are stale."""
        return int(self.db.execute("PRAGMA data_version").fetchone()[0])

    def schema_version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._begin()
        self._depth = 1
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            try:
                self.db.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                self.db.execute("ROLLBACK")
                if is_locked(exc):
                    raise busy_error(self.path) from exc
                raise
        finally:
            self._depth = 0

    def _begin(self) -> None:
        """Take the write lock, waiting up to the busy timeout; a lock still held
        after that is a one-line error (E090), not a traceback."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if is_locked(exc):
                raise busy_error(self.path) from exc
            raise

    def in_transaction(self) -> bool:
        return self._depth > 0

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        self._savepoints += 1
        name = f"sp_{self._savepoints}"
        self.db.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self.db.execute(f"ROLLBACK TO {name}")
            self.db.execute(f"RELEASE {name}")
            raise
        else:
            self.db.execute(f"RELEASE {name}")

    def close(self) -> None:
        self.db.close()

    # registry ------------------------------------------------------------
    def keyed_id(self, prefix: str, material: str) -> str:
        """An id keyed with the archive's secret: stable within this archive, not
        computable from content by anyone who does not hold the archive."""
        if self._secret is None:
            self._secret = bytes(self.db.execute("SELECT secret FROM archive_secret").fetchone()[0])
        digest = hmac.new(self._secret, material.encode("utf-8"), hashlib.sha256).hexdigest()
        return f"{prefix}-{digest[:16]}"

    def document_id_for_hash(self, content_hash: str) -> str | None:
        row = self.db.execute("SELECT id FROM documents WHERE content_hash=?", (content_hash,)).fetchone()
        return row[0] if row else None

    def documents_with_content(self, digest: str) -> list[str]:
        """Every document whose text has this SHA-256: the first stored under the bare
        digest, each further copy (an author who could not see the others) under
        `digest/document id`, which keeps the column unique."""
        return [
            r[0]
            for r in self.db.execute(
                "SELECT id FROM documents WHERE content_hash=? OR (content_hash > ? AND content_hash < ?) ORDER BY id",
                (digest, digest + "/", digest + "0"),
            )
        ]

    def add_document(self, doc: Document) -> dict[int, int]:
        db = self.db
        db.execute(
            "INSERT INTO documents(id, content_hash, source, format, title, classification, char_count, pipeline,"
            " ingested_at, label) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                doc.id,
                doc.content_hash,
                doc.source,
                doc.format,
                doc.title,
                doc.classification,
                len(doc.text),
                doc.pipeline,
                _now(),
                doc.label,
            ),
        )
        db.execute(
            "UPDATE documents SET encoding=?, replaced=?, markings=? WHERE id=?",
            (doc.encoding, doc.replaced, doc.markings, doc.id),
        )
        db.executemany(
            'INSERT INTO document_pages(document_id, page, start, "end", method, ocr_confidence) VALUES (?,?,?,?,?,?)',
            [(doc.id, pg.number, pg.start, pg.end, pg.method, pg.ocr_confidence) for pg in doc.pages],
        )
        ids: dict[int, int] = {}
        parts: dict[str | None, int] = {}
        for p in doc.portions:
            if p.label not in parts:
                parts[p.label] = partitions.partition_of(db, doc.label, p.label)
            cur = db.execute(
                'INSERT INTO portions(document_id, seq, start, "end", kind, mark, level, tokens, text, label,'
                " page, ocr_confidence, boilerplate, partition_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    doc.id,
                    p.seq,
                    p.start,
                    p.end,
                    p.kind,
                    p.mark,
                    p.level,
                    "&".join(p.tokens) or None,
                    p.text,
                    p.label,
                    p.page,
                    p.ocr_confidence,
                    int(p.boilerplate),
                    parts[p.label],
                ),
            )
            pid = int(cur.lastrowid or 0)
            ids[p.seq] = pid
            if p.markings:
                db.executemany(
                    'INSERT INTO markings(document_id, portion_id, kind, value, start, "end") VALUES (?,?,?,?,?,?)',
                    [(doc.id, pid, m.kind, m.value, m.start, m.end) for m in p.markings],
                )
        search.index_portions(
            db, doc.label or "", [(ids[p.seq], p.label, p.text) for p in doc.portions if p.kind == "text"]
        )
        db.executemany(
            'INSERT INTO dates(document_id, portion_id, start, "end", text, value) VALUES (?,?,?,?,?,?)',
            [(doc.id, ids[d.portion_seq], d.start, d.end, d.text, d.value) for d in doc.dates],
        )
        return ids

    def portion_layout(self, document_id: str) -> dict[int, tuple[int, int | None, float | None, bool]]:
        """Start offset, page, OCR confidence and boilerplate flag of each portion, by portion id."""
        return {
            int(r[0]): (int(r[1]), r[2], r[3], bool(r[4]))
            for r in self.db.execute(
                "SELECT id, start, page, ocr_confidence, boilerplate FROM portions WHERE document_id=?", (document_id,)
            )
        }

    def document_pages(self, document_id: str) -> list[tuple[int, int, int, str, float | None]]:
        return [
            (int(r[0]), int(r[1]), int(r[2]), str(r[3]), r[4])
            for r in self.db.execute(
                'SELECT page, start, "end", method, ocr_confidence FROM document_pages WHERE document_id=? ORDER BY page',
                (document_id,),
            )
        ]

    def document_encoding(self, document_id: str) -> tuple[str | None, int, str]:
        """How the document was read: encoding, bytes replaced, markings mode."""
        row = self.db.execute(
            "SELECT encoding, replaced, markings FROM documents WHERE id=?", (document_id,)
        ).fetchone()
        return (row[0], int(row[1]), str(row[2])) if row else (None, 0, "enforce")

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
            f" WHERE docs >= ? AND key IN ({','.join(str(int(k)) for k, _, _ in wanted)})",
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
                "INSERT OR IGNORE INTO boilerplate_sightings(key, document_label, label, document_id) VALUES (?,?,?,?)",
                (key, document_label, label, document_id),
            )
            if not cur.rowcount:
                continue
            row = self.db.execute(
                "INSERT INTO boilerplate_lines(key, document_label, label, docs) VALUES (?,?,?,1)"
                " ON CONFLICT(key, document_label, label) DO UPDATE SET docs=docs+1 RETURNING docs",
                (key, document_label, label),
            ).fetchone()
            if int(row[0]) == min_docs:
                crossed.append((key, document_label, label))
        return crossed

    def boilerplate_documents(self, key: int, document_label: str, label: str) -> list[str]:
        """The documents of the partition that carry the line."""
        return [
            str(r[0])
            for r in self.db.execute(
                "SELECT document_id FROM boilerplate_sightings WHERE key=? AND document_label=? AND label=?"
                " ORDER BY document_id",
                (key, document_label, label),
            )
        ]

    def mask_boilerplate(self, portion_id: int, spans: Sequence[tuple[int, int]], whole: bool) -> int:
        """Mark lines of a stored portion as boilerplate: a marking each, and
        the mentions and dates inside them removed. Returns mentions removed."""
        row = self.db.execute("SELECT document_id FROM portions WHERE id=?", (portion_id,)).fetchone()
        if row is None:
            return 0
        removed = 0
        for start, end in spans:
            self.db.execute(
                'INSERT INTO markings(document_id, portion_id, kind, value, start, "end") VALUES (?,?,?,?,?,?)',
                (row[0], portion_id, "boilerplate", "learned", start, end),
            )
            removed += self.db.execute(
                'DELETE FROM mentions WHERE portion_id=? AND start>=? AND "end"<=?', (portion_id, start, end)
            ).rowcount
            self.db.execute('DELETE FROM dates WHERE portion_id=? AND start>=? AND "end"<=?', (portion_id, start, end))
        if whole:
            self.db.execute("UPDATE portions SET boilerplate=1 WHERE id=?", (portion_id,))
        return removed

    def _summary_rows(self, where: str, params: tuple[object, ...]) -> list[DocumentSummary]:
        rows = self.db.execute(
            "SELECT d.id, d.source, d.format, d.classification, d.char_count,"
            " (SELECT count(*) FROM portions p WHERE p.document_id=d.id)"
            f" FROM documents d {where}",
            params,
        ).fetchall()
        return [DocumentSummary(*r) for r in rows]

    def document(self, document_id: str) -> DocumentSummary | None:
        rows = self._summary_rows("WHERE d.id=?", (document_id,))
        return rows[0] if rows else None

    def documents(self, limit: int, offset: int) -> list[DocumentSummary]:
        return self._summary_rows("ORDER BY d.rowid LIMIT ? OFFSET ?", (limit, offset))

    def portion_texts(self, document_id: str) -> list[tuple[int, str, str, str | None]]:
        return [
            (int(r[0]), str(r[1]), str(r[2]), r[3])
            for r in self.db.execute(
                "SELECT seq, kind, text, mark FROM portions WHERE document_id=? ORDER BY seq", (document_id,)
            )
        ]

    def markings(self, document_id: str) -> list[tuple[str, str, int, int]]:
        return [
            (str(r[0]), str(r[1]), int(r[2]), int(r[3]))
            for r in self.db.execute(
                'SELECT kind, value, start, "end" FROM markings WHERE document_id=? ORDER BY start', (document_id,)
            )
        ]

    def counts(self) -> dict[str, int]:
        q = {
            "documents": "SELECT count(*) FROM documents",
            "portions": "SELECT count(*) FROM portions",
            "mentions": "SELECT count(*) FROM mentions",
            "people": "SELECT count(*) FROM entities WHERE kind='PERSON' AND merged_into IS NULL",
            "organisations": "SELECT count(*) FROM entities WHERE kind='ORG' AND merged_into IS NULL",
            "places": "SELECT count(*) FROM entities WHERE kind='PLACE' AND merged_into IS NULL",
            "dates": "SELECT count(*) FROM dates",
            "markings": "SELECT count(*) FROM markings",
        }
        return {k: int(self.db.execute(sql).fetchone()[0]) for k, sql in q.items()}

    # card index ----------------------------------------------------------
    def create_entity(self, entity_id: str, kind: str, name: str, origin: str) -> None:
        self.db.execute(
            "INSERT INTO entities(id, kind, name, origin, created_at) VALUES (?,?,?,?,?)",
            (entity_id, kind, name, origin, _now()),
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
        sql = (
            "WITH counts AS (SELECT entity_id, count(*) AS n FROM mentions WHERE kind='PERSON' GROUP BY entity_id),"
            # An extracted card whose every mention turned out to be boilerplate is no card.
            " live AS (SELECT id, name FROM entities e WHERE kind='PERSON' AND merged_into IS NULL"
            " AND (origin != 'extracted' OR EXISTS (SELECT 1 FROM mentions m WHERE m.entity_id=e.id)))"
            " SELECT l.id, l.name, coalesce(c.n, 0) FROM live l LEFT JOIN counts c ON c.entity_id=l.id"
            " UNION SELECT l.id, n.name, coalesce(c.n, 0) FROM live l JOIN entity_names n ON n.entity_id=l.id"
            " LEFT JOIN counts c ON c.entity_id=l.id"
        )
        # A cursor of its own, read to the end: the index is built while
        # nothing else uses the connection.
        yield from self.db.execute(sql)

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
            (_now(), op, json.dumps(payload, ensure_ascii=False)),
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

    # compartments -----------------------------------------------------------
    def portion_labels(self) -> Iterator[tuple[int, str, str | None, str]]:
        yield from self.db.execute(
            "SELECT p.id, p.document_id, p.label, d.label FROM portions p JOIN documents d ON d.id=p.document_id"
        )

    def portion_rows(self, document_id: str) -> list[tuple[int, int, str, str, str | None, str | None]]:
        return [
            (int(r[0]), int(r[1]), str(r[2]), str(r[3]), r[4], r[5])
            for r in self.db.execute(
                "SELECT id, seq, kind, text, mark, label FROM portions WHERE document_id=? ORDER BY seq", (document_id,)
            )
        ]

    def portion_spans(self, document_id: str) -> list[tuple[int, int, str, str, str | None, str | None, int]]:
        """Like portion_rows, with each portion's start offset in the document."""
        return [
            (int(r[0]), int(r[1]), str(r[2]), str(r[3]), r[4], r[5], int(r[6]))
            for r in self.db.execute(
                "SELECT id, seq, kind, text, mark, label, start FROM portions WHERE document_id=? ORDER BY seq",
                (document_id,),
            )
        ]

    def document_label(self, document_id: str) -> str | None:
        row = self.db.execute("SELECT label FROM documents WHERE id=?", (document_id,)).fetchone()
        return str(row[0]) if row else None

    def portion_markings(self, document_id: str) -> list[tuple[str, str, int, int, int | None]]:
        return [
            (str(r[0]), str(r[1]), int(r[2]), int(r[3]), r[4])
            for r in self.db.execute(
                'SELECT kind, value, start, "end", portion_id FROM markings WHERE document_id=? ORDER BY start',
                (document_id,),
            )
        ]

    def search_partitions(self) -> list[tuple[int, str, str]]:
        return search.partitions(self.db)

    def search_in_partitions(self, query: str, partitions: Sequence[int]) -> list[tuple[int, float, int]]:
        return search.ranked(self.db, query, partitions)

    def partition_hits(self, query: str, hits: Sequence[tuple[int, float, int]]) -> list[SearchHit]:
        """Search hits, in the order given, for (portion id, rank, partition) matches."""
        if not hits:
            return []
        texts = search.snippets(self.db, query, [(pid, part) for pid, _, part in hits])
        pids = [pid for pid, _, _ in hits]
        marks = ",".join("?" * len(pids))
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
            " WHERE m.kind='PERSON' AND e.merged_into IS NULL"
        )

    def unlabelled_person_names(self) -> Iterator[tuple[str, str, str | None]]:
        """Names that no document gave, imported records' and analysts' aliases, with their labels."""
        yield from self.db.execute(
            "SELECT n.entity_id, n.name, n.label FROM entity_names n JOIN entities e ON e.id=n.entity_id"
            " WHERE e.kind='PERSON' AND e.merged_into IS NULL AND n.source IN ('import', 'analyst')"
        )

    def entities_without_mentions(self) -> list[str]:
        return [
            r[0]
            for r in self.db.execute(
                "SELECT id FROM entities e WHERE merged_into IS NULL AND origin != 'extracted'"
                " AND NOT EXISTS (SELECT 1 FROM mentions m WHERE m.entity_id=e.id)"
            )
        ]

    def entity_portions(self) -> Iterator[tuple[str, str, int]]:
        """(entity id, kind, portion id) for every mention of a live entity."""
        yield from self.db.execute(
            "SELECT m.entity_id, e.kind, m.portion_id FROM mentions m JOIN entities e ON e.id=m.entity_id"
            " WHERE e.merged_into IS NULL"
        )

    def co_mention_rows(self, entity_id: str, parts: Sequence[int] | None = None) -> list[tuple[str, str, str, int]]:
        """(entity id, name, kind, portion id) of everyone named in a passage with the entity;
        with `parts`, only passages in these label partitions (the other mention is in the same one)."""
        return [
            (r[0], r[1], r[2], int(r[3]))
            for r in self.db.execute(
                "SELECT DISTINCT e.id, e.name, e.kind, o.portion_id"
                " FROM mentions m JOIN mentions o ON o.portion_id=m.portion_id AND o.entity_id != m.entity_id"
                f" JOIN entities e ON e.id=o.entity_id WHERE m.entity_id=? AND {partitions.where_in('m.partition_id', parts)}",
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
            f" WHERE e.merged_into IS NULL AND {partitions.where_in('m.partition_id', parts)}"
        )

    def documents_in(self, parts: Sequence[int] | None) -> int:
        """How many documents have a portion in these partitions."""
        row = self.db.execute(
            f"SELECT count(DISTINCT document_id) FROM portions WHERE {partitions.where_in('partition_id', parts)}"
        ).fetchone()
        return int(row[0])

    def per_portion_counts(self, table: str) -> dict[int, int]:
        assert table in ("mentions", "dates", "markings")
        return {
            int(r[0]): int(r[1])
            for r in self.db.execute(f"SELECT portion_id, count(*) FROM {table} GROUP BY portion_id")
            if r[0] is not None
        }

    # users ---------------------------------------------------------------------
    def add_user(self, name: str, clearance: str, tokens: str, password_hash: str | None) -> None:
        self.db.execute(
            "INSERT INTO users(name, clearance, tokens, password_hash, created_at) VALUES (?,?,?,?,?)"
            " ON CONFLICT(name) DO UPDATE SET clearance=excluded.clearance, tokens=excluded.tokens,"
            " password_hash=coalesce(excluded.password_hash, users.password_hash)",
            (name, clearance, tokens, password_hash, _now()),
        )

    def user(self, name: str) -> tuple[str, str, str, str | None] | None:
        row = self.db.execute(
            "SELECT name, clearance, tokens, password_hash FROM users WHERE name=?", (name,)
        ).fetchone()
        return (row[0], row[1], row[2], row[3]) if row else None

    def users(self) -> list[tuple[str, str, str]]:
        return [(r[0], r[1], r[2]) for r in self.db.execute("SELECT name, clearance, tokens FROM users ORDER BY name")]

    # audit -------------------------------------------------------------------
    # The trail itself is in its own file (store/trail.py); the archive keeps
    # only the outbox: entries of writes, committed in the write's own
    # transaction and chained into the trail right after (access/audit.py).
    def audit_trail(self) -> SQLiteAuditTrail:
        return SQLiteAuditTrail(self.path)

    def audit_outbox_add(self, at: str, actor: str, action: str, subjects: str, detail: str) -> None:
        self.db.execute(
            "INSERT INTO audit_outbox(at, actor, action, subjects, detail) VALUES (?,?,?,?,?)",
            (at, actor, action, subjects, detail),
        )

    def audit_outbox_after(self, done: int) -> list[tuple[int, str, str, str, str, str]]:
        return [
            (int(r[0]), r[1], r[2], r[3], r[4], r[5])
            for r in self.db.execute(
                "SELECT id, at, actor, action, subjects, detail FROM audit_outbox WHERE id > ? ORDER BY id", (done,)
            )
        ]

    def audit_outbox_prune(self, done: int) -> None:
        self.db.execute("DELETE FROM audit_outbox WHERE id <= ?", (done,))

    def legacy_audit(self) -> list[tuple[int, str, str, str, str, str, str]]:
        """Entries kept in the archive itself before schema 8 moved the trail out."""
        return [
            (int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6])
            for r in self.db.execute("SELECT seq, at, actor, action, subjects, detail, head FROM audit ORDER BY seq")
        ]

    def drop_legacy_audit(self) -> None:
        self.db.execute("DELETE FROM audit")

    # protected sources ---------------------------------------------------------
    def add_source(self, cryptonym: str, sealed: bytes, handler: str) -> None:
        self.db.execute(
            "INSERT INTO sources(cryptonym, sealed, handler, created_at) VALUES (?,?,?,?)",
            (cryptonym, sealed, handler, _now()),
        )

    def source(self, cryptonym: str) -> tuple[str, bytes, str] | None:
        row = self.db.execute(
            "SELECT cryptonym, sealed, handler FROM sources WHERE cryptonym=?", (cryptonym,)
        ).fetchone()
        return (row[0], bytes(row[1]), row[2]) if row else None

    def sources(self) -> list[tuple[str, str]]:
        return [(r[0], r[1]) for r in self.db.execute("SELECT cryptonym, handler FROM sources ORDER BY cryptonym")]

    def set_source_handler(self, cryptonym: str, handler: str) -> None:
        self.db.execute("UPDATE sources SET handler=? WHERE cryptonym=?", (handler, cryptonym))

    def source_label(self, cryptonym: str) -> str | None:
        row = self.db.execute("SELECT label FROM sources WHERE cryptonym=?", (cryptonym,)).fetchone()
        return str(row[0]) if row else None

    def set_source_label(self, cryptonym: str, label: str) -> None:
        self.db.execute("UPDATE sources SET label=? WHERE cryptonym=?", (label, cryptonym))

    # relations ---------------------------------------------------------------
    def documents_without_relations(self, component: str) -> list[str]:
        return [
            r[0]
            for r in self.db.execute(
                "SELECT id FROM documents WHERE relations IS NULL OR relations != ? ORDER BY rowid",
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
                " WHERE m.document_id=? AND e.merged_into IS NULL ORDER BY p.id, m.start",
                (document_id,),
            )
        ]

    def replace_relations(self, document_id: str, component: str, rows: Iterable[tuple[object, ...]]) -> int:
        self.db.execute("DELETE FROM relations WHERE document_id=?", (document_id,))
        cur = self.db.executemany(
            'INSERT OR IGNORE INTO relations(type, subject_id, object_id, document_id, portion_id, start, "end",'
            " trigger, confidence, date_start, date_end, support) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            list(rows),
        )
        self.db.execute("UPDATE documents SET relations=? WHERE id=?", (component, document_id))
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
            )
        ]

    def portion_text(self, portion_id: int) -> tuple[int, str, int]:
        """(seq, text, start offset in the document)."""
        row = self.db.execute("SELECT seq, text, start FROM portions WHERE id=?", (portion_id,)).fetchone()
        return int(row[0]), str(row[1]), int(row[2])

    # assessment ----------------------------------------------------------------
    def grade_document(self, document_id: str, reliability: str, credibility: int, reported_by: str | None) -> None:
        self.db.execute(
            "UPDATE documents SET reliability=?, credibility=?, reported_by=coalesce(?, reported_by) WHERE id=?",
            (reliability, credibility, reported_by, document_id),
        )

    def document_grade(self, document_id: str) -> tuple[str | None, int | None, str | None]:
        row = self.db.execute(
            "SELECT reliability, credibility, reported_by FROM documents WHERE id=?", (document_id,)
        ).fetchone()
        return (row[0], row[1], row[2]) if row else (None, None, None)

    def add_claim(self, row: tuple[object, ...]) -> int:
        cur = self.db.execute(
            "INSERT OR IGNORE INTO claims(subject_id, statement, relation, object_id, source, reliability, credibility,"
            " document_id, portion_id, origin, support, label, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (*row, _now()),
        )
        return int(cur.rowcount or 0)

    def claims_about(self, entity_id: str) -> list[tuple[Any, ...]]:
        return list(
            self.db.execute(
                "SELECT id, subject_id, statement, relation, object_id, source, reliability, credibility,"
                " document_id, portion_id, origin, support, label FROM claims WHERE subject_id=? OR object_id=?"
                " ORDER BY id",
                (entity_id, entity_id),
            )
        )


def _split_sql(sql: str) -> list[str]:
    """Split a migration into statements; triggers contain ';' inside BEGIN..END."""
    statements: list[str] = []
    buf: list[str] = []
    for line in sql.splitlines():
        if line.strip().startswith("--") and not buf:
            continue
        buf.append(line)
        joined = "\n".join(buf)
        if sqlite3.complete_statement(joined):
            if joined.strip():
                statements.append(joined)
            buf = []
    return statements
