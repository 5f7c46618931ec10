"""PostgreSQL backend: an archive in a schema of a PostgreSQL database, full text on tsvector.

`kartoteka --archive postgresql://USER@HOST[:PORT]/DB[?schema=NAME&keys=DIR]`
selects it (kartoteka/store/location.py says where the side files live).
The tables and columns are SQLite's, so that an export from one backend
imports into the other; what differs is said where it differs:

- Migrations are numbered files in `migrations_pg/`, the first a
  consolidated version 13 (what SQLite's 0001..0013 make); the version is
  recorded in `kartoteka_schema` (SQLite: PRAGMA user_version) and each
  migration commits with its version bump.
- Writers are serialised, as SQLite's BEGIN IMMEDIATE serialises them: a
  write transaction first takes the archive's transaction-level advisory
  lock, so that what a write checks (is this text stored already?) still
  holds when it commits; readers never wait for it. A lock not had within
  $KARTOTEKA_BUSY_TIMEOUT seconds is `[E090]`, as for SQLite.
- Every write transaction raises `kartoteka_schema.data_version` (SQLite's
  PRAGMA data_version): a server's caches are dropped when it moves.
- Full-text search is one tsvector table per label partition
  (postgres_search.py); mentions, portions and claims are read by label
  partition in SQL (postgres_partitions.py).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources

import psycopg
from psycopg import errors as pg_errors

from kartoteka.errors import E, KartotekaError
from kartoteka.store import postgres_partitions as partitions
from kartoteka.store import postgres_search as search
from kartoteka.store.location import display, parse, side_path
from kartoteka.store.postgres_analysis import PgAnalysisRows
from kartoteka.store.postgres_boilerplate import PgBoilerplateRows
from kartoteka.store.postgres_cards import PgCardRows
from kartoteka.store.postgres_compartments import PgCompartmentRows
from kartoteka.store.postgres_people import PgPeopleRows
from kartoteka.store.postgres_pool import connect, quote_ident, release
from kartoteka.store.records import Document, DocumentSummary, now_iso
from kartoteka.store.trail import busy_seconds


def migrations() -> list[tuple[int, str]]:
    folder = resources.files("kartoteka.store").joinpath("migrations_pg")
    out = []
    for item in folder.iterdir():
        if item.name.endswith(".sql"):
            out.append((int(item.name.split("_", 1)[0]), item.read_text(encoding="utf-8")))
    return sorted(out)


SCHEMA_VERSION = max(v for v, _ in migrations())


def busy(url: str) -> KartotekaError:
    return KartotekaError(E.E090, path=display(url), seconds=f"{busy_seconds():g}")


def failed(url: str, exc: psycopg.Error) -> KartotekaError:
    """The one-line error for a PostgreSQL failure."""
    if isinstance(exc, pg_errors.LockNotAvailable):
        return busy(url)
    if isinstance(exc, psycopg.OperationalError):
        return KartotekaError(E.E161, url=display(url), reason=_first_line(exc))
    return KartotekaError(E.E162, url=display(url), reason=_first_line(exc))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class PostgresStore(PgBoilerplateRows, PgCardRows, PgCompartmentRows, PgPeopleRows, PgAnalysisRows):
    """The archive in one schema of a PostgreSQL database. The rows of each capability
    live in a module of their own (`postgres_cards`, ...); this class holds the
    connection, the migrations, transactions and documents."""

    def __init__(self, url: str) -> None:
        self.url = url
        _libpq, self.schema, _keys = parse(url)
        self.path = display(url)
        self.side = side_path(url)
        self._secret: bytes | None = None
        self._depth = 0
        self.db = connect(url)
        self._closed = False
        try:
            self.db.execute(f"SET lock_timeout TO {int(busy_seconds() * 1000)}")
            self._migrate()
        except psycopg.Error as exc:
            self.close()
            raise failed(url, exc) from exc
        except BaseException:
            self.close()
            raise

    # lifecycle -----------------------------------------------------------
    def _migrate(self) -> None:
        db, schema = self.db, quote_ident(self.schema)
        version = self._version()
        if version is not None and version >= SCHEMA_VERSION:
            if version > SCHEMA_VERSION:
                raise KartotekaError(E.E011, found=version, supported=SCHEMA_VERSION)
            return
        with db.transaction():
            # One migrating process at a time; the others wait, then find it done.
            db.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"kartoteka:{self.schema}",))
            db.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            version = self._version()
            if version is None:
                others = db.execute("SELECT count(*) FROM pg_tables WHERE schemaname=%s", (self.schema,)).fetchone()
                if others and int(others[0]):
                    raise KartotekaError(
                        E.E010, path=self.path, reason=f"schema {self.schema} holds tables of another application"
                    )
            for v, sql in migrations():
                if v <= (version or 0):
                    continue
                with db.transaction():  # each migration and its version bump together
                    db.execute(sql.encode())  # a migration file: SQL text, no parameters
                    if version is None:
                        db.execute("INSERT INTO kartoteka_schema(application, version) VALUES ('kartoteka', %s)", (v,))
                        db.execute("INSERT INTO archive_secret(secret) VALUES (%s)", (secrets.token_bytes(32),))
                        version = v
                    db.execute("UPDATE kartoteka_schema SET version=%s", (v,))

    def _version(self) -> int | None:
        table = f"{quote_ident(self.schema)}.kartoteka_schema"
        found = self.db.execute("SELECT to_regclass(%s)", (table,)).fetchone()
        if found is None or found[0] is None:
            return None
        row = self.db.execute(f"SELECT version FROM {table}").fetchone()
        return int(row[0]) if row else None

    def data_version(self) -> int:
        """Raised by every write transaction: tells a server its caches are stale."""
        row = self.db.execute("SELECT data_version FROM kartoteka_schema").fetchone()
        return int(row[0]) if row else 0

    def schema_version(self) -> int:
        return self._version() or 0

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
            with self.db.transaction():
                try:
                    self.db.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"kartoteka-write:{self.schema}",))
                except pg_errors.LockNotAvailable as exc:
                    raise busy(self.url) from exc
                yield
                self.db.execute("UPDATE kartoteka_schema SET data_version = data_version + 1")
        finally:
            self._depth = 0

    def in_transaction(self) -> bool:
        return self._depth > 0

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        with self.db.transaction():
            yield

    def alive(self) -> bool:
        return not (self._closed or self.db.closed or self.db.broken)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            release(self.url, self.db)

    # registry ------------------------------------------------------------
    def keyed_id(self, prefix: str, material: str) -> str:
        """An id keyed with the archive's secret (see SQLiteStore.keyed_id)."""
        if self._secret is None:
            row = self.db.execute("SELECT secret FROM archive_secret ORDER BY rowid LIMIT 1").fetchone()
            assert row is not None
            self._secret = bytes(row[0])
        digest = hmac.new(self._secret, material.encode("utf-8"), hashlib.sha256).hexdigest()
        return f"{prefix}-{digest[:16]}"

    def document_id_for_hash(self, content_hash: str) -> str | None:
        row = self.db.execute("SELECT id FROM documents WHERE content_hash=%s", (content_hash,)).fetchone()
        return str(row[0]) if row else None

    def documents_with_content(self, digest: str) -> list[str]:
        """Every document whose text has this SHA-256 (see SQLiteStore.documents_with_content)."""
        return [
            str(r[0])
            for r in self.db.execute(
                "SELECT id FROM documents WHERE content_hash=%s OR (content_hash > %s AND content_hash < %s)"
                " ORDER BY id",
                (digest, digest + "/", digest + "0"),
            )
        ]

    def add_document(self, doc: Document) -> dict[int, int]:
        db = self.db
        db.execute(
            "INSERT INTO documents(id, content_hash, source, format, title, classification, char_count, pipeline,"
            " ingested_at, label, encoding, replaced, markings) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
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
                doc.encoding,
                doc.replaced,
                doc.markings,
            ),
        )
        cur = db.cursor()
        cur.executemany(
            'INSERT INTO document_pages(document_id, page, start, "end", method, ocr_confidence)'
            " VALUES (%s,%s,%s,%s,%s,%s)",
            [(doc.id, pg.number, pg.start, pg.end, pg.method, pg.ocr_confidence) for pg in doc.pages],
        )
        parts: dict[str | None, int] = {}
        for p in doc.portions:
            if p.label not in parts:
                parts[p.label] = partitions.partition_of(db, doc.label, p.label)
        cur.executemany(
            'INSERT INTO portions(document_id, seq, start, "end", kind, mark, level, tokens, text, label,'
            " page, ocr_confidence, boilerplate, partition_id) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)"
            " RETURNING id",
            [
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
                )
                for p in doc.portions
            ],
            returning=True,
        )
        ids: dict[int, int] = {}
        for p in doc.portions:
            row = cur.fetchone()
            assert row is not None
            ids[p.seq] = int(row[0])
            cur.nextset()
        cur.executemany(
            'INSERT INTO markings(document_id, portion_id, kind, value, start, "end") VALUES (%s,%s,%s,%s,%s,%s)',
            [(doc.id, ids[p.seq], m.kind, m.value, m.start, m.end) for p in doc.portions for m in p.markings],
        )
        search.index_portions(
            db, doc.label or "", [(ids[p.seq], p.label, p.text) for p in doc.portions if p.kind == "text"]
        )
        cur.executemany(
            'INSERT INTO dates(document_id, portion_id, start, "end", text, value) VALUES (%s,%s,%s,%s,%s,%s)',
            [(doc.id, ids[d.portion_seq], d.start, d.end, d.text, d.value) for d in doc.dates],
        )
        return ids

    def portion_layout(self, document_id: str) -> dict[int, tuple[int, int | None, float | None, bool]]:
        return {
            int(r[0]): (int(r[1]), r[2], r[3], bool(r[4]))
            for r in self.db.execute(
                "SELECT id, start, page, ocr_confidence, boilerplate FROM portions WHERE document_id=%s",
                (document_id,),
            )
        }

    def document_pages(self, document_id: str) -> list[tuple[int, int, int, str, float | None]]:
        return [
            (int(r[0]), int(r[1]), int(r[2]), str(r[3]), r[4])
            for r in self.db.execute(
                'SELECT page, start, "end", method, ocr_confidence FROM document_pages WHERE document_id=%s'
                " ORDER BY page",
                (document_id,),
            )
        ]

    def document_encoding(self, document_id: str) -> tuple[str | None, int, str]:
        row = self.db.execute(
            "SELECT encoding, replaced, markings FROM documents WHERE id=%s", (document_id,)
        ).fetchone()
        return (row[0], int(row[1]), str(row[2])) if row else (None, 0, "enforce")

    def _summary_rows(self, where: str, params: tuple[object, ...]) -> list[DocumentSummary]:
        rows = self.db.execute(
            "SELECT d.id, d.source, d.format, d.classification, d.char_count,"
            " (SELECT count(*) FROM portions p WHERE p.document_id=d.id)"
            f" FROM documents d {where}",
            params,
        ).fetchall()
        return [DocumentSummary(r[0], r[1], r[2], r[3], int(r[4]), int(r[5])) for r in rows]

    def document(self, document_id: str) -> DocumentSummary | None:
        rows = self._summary_rows("WHERE d.id=%s", (document_id,))
        return rows[0] if rows else None

    def documents(self, limit: int, offset: int) -> list[DocumentSummary]:
        return self._summary_rows("ORDER BY d.rowid LIMIT %s OFFSET %s", (limit, offset))

    def portion_texts(self, document_id: str) -> list[tuple[int, str, str, str | None]]:
        return [
            (int(r[0]), str(r[1]), str(r[2]), r[3])
            for r in self.db.execute(
                "SELECT seq, kind, text, mark FROM portions WHERE document_id=%s ORDER BY seq", (document_id,)
            )
        ]

    def markings(self, document_id: str) -> list[tuple[str, str, int, int]]:
        return [
            (str(r[0]), str(r[1]), int(r[2]), int(r[3]))
            for r in self.db.execute(
                'SELECT kind, value, start, "end" FROM markings WHERE document_id=%s ORDER BY start, id',
                (document_id,),
            )
        ]

    def counts(self) -> dict[str, int]:
        row = self.db.execute(
            "SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM portions),"
            " (SELECT count(*) FROM mentions),"
            " (SELECT count(*) FROM entities WHERE kind='PERSON' AND merged_into IS NULL),"
            " (SELECT count(*) FROM entities WHERE kind='ORG' AND merged_into IS NULL),"
            " (SELECT count(*) FROM entities WHERE kind='PLACE' AND merged_into IS NULL),"
            " (SELECT count(*) FROM entities WHERE kind='CRYPTONYM' AND merged_into IS NULL),"
            " (SELECT count(*) FROM dates), (SELECT count(*) FROM markings)"
        ).fetchone()
        assert row is not None
        keys = (
            "documents",
            "portions",
            "mentions",
            "people",
            "organisations",
            "places",
            "cryptonyms",
            "dates",
            "markings",
        )
        return {k: int(v) for k, v in zip(keys, row, strict=True)}
