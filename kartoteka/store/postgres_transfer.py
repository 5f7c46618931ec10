"""Export, import and backup for PostgreSQL (the `Backend` of kartoteka/store/transfer.py).

The archive's schema and its trail's (`SCHEMA_trail`) are in one database,
so what SQLite does with two files and a super-journal is one transaction
here:

- Export reads both schemas in one REPEATABLE READ, READ ONLY transaction:
  one snapshot of archive and trail, taken while writers go on.
- Import loads both in one transaction holding the archive's write lock and
  the trail's (the locks every writer and every audit append take), so no
  process writes between the check that the target is empty and the commit;
  a kill at any moment leaves the schemas as they were. Rows go in by COPY;
  foreign keys (DEFERRABLE) are checked once, before the commit.
- Backup is `pg_dump` of both schemas from an exported snapshot, in which
  the last audit entry the dump holds is read, as SQLite's backup reads it
  from its copy (postgres_backup.py restores it).

Tables and columns are SQLite's (migrations_pg/0013_schema.sql): an export
of either backend imports into the other. What is not exported: the version
tables (`kartoteka_schema`, `kartoteka_trail`), the name change log (as
for SQLite), the generated `rowid` columns (the order rows are listed in
gives it back) and the search tables `portions_tsv_N`, rebuilt from the
portions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import errors as pg_errors
from psycopg.rows import TupleRow

from kartoteka.errors import E, KartotekaError
from kartoteka.store import postgres_search
from kartoteka.store.location import display, parse, side_path
from kartoteka.store.postgres import PostgresStore, failed
from kartoteka.store.postgres_pool import connect, quote_ident, release
from kartoteka.store.postgres_trail import create as create_trail
from kartoteka.store.postgres_trail import trail_schema
from kartoteka.store.transfer import PENDING, Progress, Table, TableReader, Value, check_tables, why_not_empty

Conn = psycopg.Connection[TupleRow]
BATCH = 1000
_NOT_EXPORTED = {
    ("archive", "kartoteka_schema"),
    ("archive", "name_change_clock"),
    ("archive", "name_changes"),
    ("trail", "kartoteka_trail"),
}
_SEARCH_TABLE = re.compile(r"^portions_tsv_[0-9]+$")
# SQLite keeps a sequence (sqlite_sequence) only for its AUTOINCREMENT tables, whose ids are
# never reused; the other integer keys continue from their largest id, as identities are set here.
_AUTOINCREMENT = ("audit_outbox",)


def _schemas(url: str) -> dict[str, str]:
    _libpq, schema, _keys = parse(url)
    return {"archive": schema, "trail": trail_schema(schema)}


def tables(db: Conn, url: str) -> list[Table]:
    """Every exported table of the archive and its trail, by name, with columns in their order."""
    out: list[Table] = []
    for store, schema in _schemas(url).items():
        rows = db.execute(
            "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c"
            " JOIN information_schema.tables t ON t.table_schema=c.table_schema AND t.table_name=c.table_name"
            " WHERE c.table_schema=%s AND t.table_type='BASE TABLE' AND c.column_name <> 'rowid'"
            ' ORDER BY c.table_name COLLATE "C", c.ordinal_position',
            (schema,),
        ).fetchall()
        columns: dict[str, list[tuple[str, str]]] = {}
        for name, column, kind in rows:
            columns.setdefault(str(name), []).append((str(column), str(kind)))
        for name, cols in columns.items():
            if (store, name) in _NOT_EXPORTED or _SEARCH_TABLE.match(name):
                continue
            out.append(Table(store, name, tuple(cols)))
    return out


def _order(db: Conn, schema: str, name: str) -> str:
    """Stored order: the generated rowid, else the primary key (compared as bytes, as SQLite does)."""
    found = db.execute(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_index i"
        " JOIN pg_attribute a ON a.attrelid=i.indrelid AND a.attnum = ANY(i.indkey)"
        " WHERE i.indrelid = to_regclass(%s) AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)",
        (f"{quote_ident(schema)}.{quote_ident(name)}",),
    ).fetchall()
    has_rowid = db.execute(
        "SELECT 1 FROM information_schema.columns WHERE table_schema=%s AND table_name=%s AND column_name='rowid'",
        (schema, name),
    ).fetchone()
    if has_rowid:
        return "rowid"
    if not found:
        raise KartotekaError(E.E162, url=schema, reason=f"table {name} has neither a rowid nor a primary key")
    return ", ".join(quote_ident(str(c)) + (' COLLATE "C"' if str(t) == "text" else "") for c, t in found)


def _rows(db: Conn, schema: str, table: Table) -> Iterator[tuple[Value, ...]]:
    cols = ", ".join(quote_ident(c) for c in table.column_names)
    sql = (
        f"SELECT {cols} FROM {quote_ident(schema)}.{quote_ident(table.name)} ORDER BY {_order(db, schema, table.name)}"
    )
    # A server-side cursor: a table of millions of rows streams, never held whole.
    with db.cursor(name=f"export_{table.store}_{table.name}") as cur:
        cur.itersize = BATCH
        cur.execute(sql.encode())
        for row in cur:
            yield tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)


class _Snapshot:
    def __init__(self, db: Conn, url: str) -> None:
        self.db, self.url = db, url
        self._schemas = _schemas(url)

    def tables(self) -> list[Table]:
        return tables(self.db, self.url)

    def rows(self, table: Table) -> Iterator[tuple[Value, ...]]:
        return _rows(self.db, self._schemas[table.store], table)

    def sequences(self) -> dict[str, int]:
        out: dict[str, int] = {}
        archive = quote_ident(self._schemas["archive"])
        for name in _AUTOINCREMENT:
            seq = self.db.execute("SELECT pg_get_serial_sequence(%s, 'id')", (f"{archive}.{name}",)).fetchone()
            if seq and seq[0]:
                last, called = self.db.execute(f"SELECT last_value, is_called FROM {seq[0]}").fetchone() or (0, False)
                if called:
                    out[name] = int(last)
        chained = self.db.execute(
            f"SELECT value FROM {quote_ident(self._schemas['trail'])}.meta WHERE key='outbox'"
        ).fetchone()
        if chained is not None:
            out["audit_outbox"] = max(out.get("audit_outbox", 0), int(chained[0]))
        return out


class PostgresTransfer:
    """The PostgreSQL `Backend`: the archive's schema and its trail's, in one database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.schemas = _schemas(url)

    @contextmanager
    def _conn(self) -> Iterator[Conn]:
        db = connect(self.url)
        try:
            yield db
        except psycopg.Error as exc:
            raise failed(self.url, exc) from exc
        finally:
            if not db.closed and db.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                db.rollback()
            release(self.url, db)

    @contextmanager
    def snapshot(self) -> Iterator[_Snapshot]:
        with self._conn() as db, db.transaction():
            db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield _Snapshot(db, self.url)

    def _exists(self, db: Conn) -> bool:
        row = db.execute(
            "SELECT to_regclass(%s)", (f"{quote_ident(self.schemas['archive'])}.kartoteka_schema",)
        ).fetchone()
        return row is not None and row[0] is not None

    def _why_not_empty(self, db: Conn) -> str | None:
        def has_rows(t: Table) -> bool:
            name = f"{quote_ident(self.schemas[t.store])}.{quote_ident(t.name)}"
            return db.execute(f"SELECT 1 FROM {name} LIMIT 1").fetchone() is not None

        return why_not_empty(tables(db, self.url), has_rows)

    def emptiness(self) -> str | None:
        with self._conn() as db:
            return self._why_not_empty(db) if self._exists(db) else None

    def load(self, reader: TableReader, pending: list[tuple[str, str]], progress: Progress | None) -> dict[str, int]:
        # Make (or migrate) the archive first, as opening it does; an archive made here and
        # then left by a failed import is an empty archive, which an import may fill.
        PostgresStore(self.url).close()
        with self._conn() as db:
            try:
                with db.transaction():
                    create_trail(db, self.schemas["archive"])
                    # The locks a writer and an audit append take: nobody writes until the commit.
                    db.execute(
                        "SELECT pg_advisory_xact_lock(hashtext(%s))", (f"kartoteka-write:{self.schemas['archive']}",)
                    )
                    db.execute(f"LOCK TABLE {quote_ident(self.schemas['trail'])}.audit IN SHARE ROW EXCLUSIVE MODE")
                    db.execute("SET CONSTRAINTS ALL DEFERRED")
                    reason = self._why_not_empty(db)
                    if reason:
                        raise KartotekaError(E.E142, path=display(self.url), reason=reason)
                    counts = self._fill(db, reader, progress)
                    reader.verify()
                    self._check_references(db)
                    trail = quote_ident(self.schemas["trail"])
                    db.execute(
                        f"INSERT INTO {trail}.meta(key, value) VALUES (%s, %s)"
                        " ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                        (PENDING, json.dumps(pending)),
                    )
                    db.execute(
                        f"UPDATE {quote_ident(self.schemas['archive'])}.kartoteka_schema"
                        " SET data_version = data_version + 1"
                    )
            except pg_errors.LockNotAvailable as exc:
                raise KartotekaError(E.E146, path=display(self.url)) from exc
        return counts

    def _fill(self, db: Conn, reader: TableReader, progress: Progress | None) -> dict[str, int]:
        check_tables(tables(db, self.url), reader.tables())
        archive, trail = quote_ident(self.schemas["archive"]), quote_ident(self.schemas["trail"])
        db.execute(f"DELETE FROM {archive}.archive_secret")
        db.execute(f"DELETE FROM {trail}.meta")
        counts: dict[str, int] = {}
        for table in reader.tables():
            schema = quote_ident(self.schemas[table.store])
            cols = ", ".join(quote_ident(c) for c in table.column_names)
            n = 0
            with db.cursor().copy(f"COPY {schema}.{quote_ident(table.name)} ({cols}) FROM STDIN".encode()) as copy:
                for row in reader.rows(table):
                    copy.write_row(row)
                    n += 1
                    if progress and n % BATCH == 0:
                        progress(BATCH, table.file)
            if progress and n % BATCH:
                progress(n % BATCH, table.file)
            counts[table.file] = n
        self._set_identities(db, reader.sequences())
        # Derived: every search partition's table, from the portions (the connection's
        # search_path is the archive's schema).
        postgres_search.rebuild(db)
        return counts

    def _set_identities(self, db: Conn, sequences: dict[str, int]) -> None:
        """Each identity continues after the largest id loaded (or the export's sequence, if later)."""
        for store, schema in self.schemas.items():
            found = db.execute(
                "SELECT table_name, column_name FROM information_schema.columns"
                " WHERE table_schema=%s AND is_identity='YES' AND column_name <> 'rowid'",
                (schema,),
            ).fetchall()
            for name, column in found:
                table = f"{quote_ident(schema)}.{quote_ident(str(name))}"
                seq = db.execute("SELECT pg_get_serial_sequence(%s, %s)", (table, str(column))).fetchone()
                if not seq or not seq[0]:
                    continue
                top = db.execute(f"SELECT coalesce(max({quote_ident(str(column))}), 0) FROM {table}").fetchone()
                last = max(int(top[0]) if top else 0, sequences.get(str(name), 0) if store == "archive" else 0)
                if last:
                    db.execute("SELECT setval(%s, %s, true)", (seq[0], last))
                else:
                    db.execute("SELECT setval(%s, 1, false)", (seq[0],))

    def _check_references(self, db: Conn) -> None:
        """Deferred foreign keys, checked now: a row pointing at nothing is E144, not a failed commit."""
        try:
            with db.transaction():  # a savepoint: the error names the table without ending the import
                db.execute("SET CONSTRAINTS ALL IMMEDIATE")
        except pg_errors.ForeignKeyViolation as exc:
            table = exc.diag.table_name or "a table"
            detail = (exc.diag.message_detail or "").strip()
            raise KartotekaError(
                E.E144, where=f"archive/{table}.jsonl", reason=f"a row points to a missing row ({detail})"
            ) from exc

    def backup(self, dest: Path) -> int:
        from kartoteka.store.postgres_backup import dump

        return dump(self.url, self.schemas, dest, side_path(self.url).name)
