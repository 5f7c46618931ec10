"""Embedded SQLite backend: one file, WAL mode, FTS5 full text."""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from kartoteka.errors import E, KartotekaError
from kartoteka.store import partitions, search
from kartoteka.store.integrity import database_error, quick_check_on_open, schema_on_open
from kartoteka.store.private import create_private
from kartoteka.store.records import (
    Document,
    DocumentSummary,
    now_iso,
)
from kartoteka.store.sqlite_analysis import AnalysisRows
from kartoteka.store.sqlite_boilerplate import BoilerplateRows
from kartoteka.store.sqlite_cards import CardRows
from kartoteka.store.sqlite_compartments import CompartmentRows
from kartoteka.store.sqlite_people import PeopleRows
from kartoteka.store.trail import busy_error, busy_seconds, immediate, is_locked

APPLICATION_ID = 0x4B54_4B41  # "KTKA": marks the file as a Kartoteka archive


def _migrations() -> list[tuple[int, str]]:
    folder = resources.files("kartoteka.store").joinpath("migrations")
    out = []
    for item in folder.iterdir():
        if item.name.endswith(".sql"):
            out.append((int(item.name.split("_", 1)[0]), item.read_text(encoding="utf-8")))
    return sorted(out)


SCHEMA_VERSION = max(v for v, _ in _migrations())


class SQLiteStore(BoilerplateRows, CardRows, CompartmentRows, PeopleRows, AnalysisRows):
    """The archive in one SQLite file. The rows of each capability live in a
    module of their own (`sqlite_cards`, `sqlite_compartments`, ...); this
    class holds the connection, the migrations, transactions and documents."""

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
            with immediate(self.db, self.path):
                for statement in _split_sql(sql):
                    self.db.execute(statement)
                if v == search.MIGRATION:
                    search.backfill(self.db)
                if v == partitions.MIGRATION:
                    partitions.backfill(self.db)
                self.db.execute(f"PRAGMA application_id={APPLICATION_ID}")
                self.db.execute(f"PRAGMA user_version={v}")

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
        self._depth = 1
        try:
            with immediate(self.db, self.path):
                yield
        finally:
            self._depth = 0

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

    def alive(self) -> bool:
        return True

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
                now_iso(),
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
            "cryptonyms": "SELECT count(*) FROM entities WHERE kind='CRYPTONYM' AND merged_into IS NULL",
            "dates": "SELECT count(*) FROM dates",
            "markings": "SELECT count(*) FROM markings",
        }
        return {k: int(self.db.execute(sql).fetchone()[0]) for k, sql in q.items()}


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
