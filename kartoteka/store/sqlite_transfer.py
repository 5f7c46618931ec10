"""Export, import and backup for SQLite (the `Backend` of kartoteka/store/transfer.py).

Export reads the archive in one read transaction and then the trail in
another, in that order. The trail may then be ahead of the archive (a
write's entry chained after the archive's snapshot), never behind: taken
the other way round, a write's outbox rows could be chained and pruned
between the two snapshots, and their entries would be in neither. The
outbox sequence exported is raised to the last outbox id the trail has
chained, so that the copy never hands out an id the trail takes as done.

Import writes the archive and its trail in one transaction. SQLite commits
two WAL databases atomically only per file, so for the import both are
switched to a rollback journal, the trail is ATTACHed, and the commit goes
through SQLite's super-journal: a kill at any moment leaves both files as
they were, or both imported. Switching away from WAL needs the files to
itself, which also refuses an archive another process has open.

Backup uses SQLite's online backup API (one step: one consistent
snapshot of each file while writers go on), archive first, for the reason
above.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import quote

from kartoteka.errors import E, KartotekaError
from kartoteka.store import search
from kartoteka.store.private import create_private
from kartoteka.store.trail import _SCHEMA as TRAIL_SCHEMA
from kartoteka.store.trail import TRAIL_APPLICATION_ID, TRAIL_VERSION, busy_seconds, immediate, is_locked
from kartoteka.store.transfer import PENDING, Progress, Table, TableReader, Value, check_tables, why_not_empty

BATCH = 1000
IMPORT_CACHE_KIB = 256 * 1024  # 256 MiB of page cache for the import's connection
# Bookkeeping of this archive's own writes, not records: the change log that
# keeps the name index file current (schema 15). An import's inserts fill
# the new archive's log through its triggers.
_NOT_EXPORTED = {"name_change_clock", "name_changes"}


def trail_path(archive: Path) -> Path:
    return archive.with_name(archive.name + ".audit.sqlite")


def _connect(path: Path) -> sqlite3.Connection:
    # mode=rw: never creates a file; reads only, but a WAL reader needs the -shm writable.
    db = sqlite3.connect(f"file:{quote(str(path))}?mode=rw", uri=True, isolation_level=None, timeout=busy_seconds())
    db.execute(f"PRAGMA busy_timeout={int(busy_seconds() * 1000)}")
    return db


def tables(db: sqlite3.Connection, schema: str, store: str) -> list[Table]:
    """Every table of `schema` to export, by name: not SQLite's own, not FTS5 tables or their shadows."""
    rows = db.execute(f"SELECT name, sql FROM {schema}.sqlite_master WHERE type='table'").fetchall()
    virtual = [str(n) for n, sql in rows if str(sql or "").upper().startswith("CREATE VIRTUAL TABLE")]
    out: list[Table] = []
    for name, _sql in sorted(rows):
        if name.startswith("sqlite_") or name in virtual or any(name.startswith(v + "_") for v in virtual):
            continue
        if name in _NOT_EXPORTED:
            continue
        cols = tuple((str(r[1]), str(r[2] or "").lower()) for r in db.execute(f'PRAGMA {schema}.table_info("{name}")'))
        out.append(Table(store, str(name), cols))
    return out


def _order(db: sqlite3.Connection, schema: str, name: str) -> str:
    """Stored order: rowid, or the primary key of a WITHOUT ROWID table."""
    sql = db.execute(f"SELECT sql FROM {schema}.sqlite_master WHERE name=?", (name,)).fetchone()[0]
    if "WITHOUT ROWID" not in str(sql).upper():
        return "rowid"
    key = sorted((int(r[5]), str(r[1])) for r in db.execute(f'PRAGMA {schema}.table_info("{name}")') if int(r[5]))
    return ", ".join(f'"{c}"' for _, c in key)


def rows(db: sqlite3.Connection, schema: str, table: Table) -> Iterator[tuple[Value, ...]]:
    cols = ", ".join(f'"{c}"' for c in table.column_names)
    cur = db.execute(f'SELECT {cols} FROM {schema}."{table.name}" ORDER BY {_order(db, schema, table.name)}')
    while batch := cur.fetchmany(BATCH):
        yield from batch


class _Snapshot:
    def __init__(self, archive: sqlite3.Connection, trail: sqlite3.Connection) -> None:
        self.archive, self.trail = archive, trail

    def tables(self) -> list[Table]:
        return tables(self.archive, "main", "archive") + tables(self.trail, "main", "trail")

    def rows(self, table: Table) -> Iterator[tuple[Value, ...]]:
        return rows(self.archive if table.store == "archive" else self.trail, "main", table)

    def sequences(self) -> dict[str, int]:
        seqs = {str(n): int(s) for n, s in self.archive.execute("SELECT name, seq FROM sqlite_sequence")}
        chained = self.trail.execute("SELECT value FROM meta WHERE key='outbox'").fetchone()
        if chained is not None:
            seqs["audit_outbox"] = max(seqs.get("audit_outbox", 0), int(chained[0]))
        return seqs


def _journal(db: sqlite3.Connection, schema: str, mode: str, path: Path) -> None:
    try:
        got = db.execute(f"PRAGMA {schema}.journal_mode={mode}").fetchone()[0]
    except sqlite3.OperationalError as exc:
        if is_locked(exc):
            raise KartotekaError(E.E146, path=path) from exc
        raise
    if str(got).lower() != mode:
        raise KartotekaError(E.E146, path=path)


def _why_not_empty(db: sqlite3.Connection, schemas: dict[str, str]) -> str | None:
    """transfer.why_not_empty over the attached schemas (name: store)."""
    schema_of = {store: schema for schema, store in schemas.items()}
    found = [t for schema, store in schemas.items() for t in tables(db, schema, store)]
    return why_not_empty(
        found,
        lambda t: db.execute(f'SELECT 1 FROM {schema_of[t.store]}."{t.name}" LIMIT 1').fetchone() is not None,
    )


class SQLiteTransfer:
    """The SQLite `Backend`: the archive file and its trail file beside it."""

    def __init__(self, archive: Path) -> None:
        self.archive = archive

    @contextmanager
    def snapshot(self) -> Iterator[_Snapshot]:
        archive = self.archive
        adb, tdb = _connect(archive), _connect(trail_path(archive))
        try:
            # A read transaction's snapshot starts at its first read: the archive's first.
            adb.execute("BEGIN")
            adb.execute("SELECT count(*) FROM sqlite_master").fetchone()
            tdb.execute("BEGIN")
            tdb.execute("SELECT count(*) FROM sqlite_master").fetchone()
            yield _Snapshot(adb, tdb)
        finally:
            for db in (adb, tdb):
                if db.in_transaction:
                    db.execute("ROLLBACK")
                db.close()

    def emptiness(self) -> str | None:
        archive = self.archive
        if not archive.exists() or archive.stat().st_size == 0:
            return None
        db = _connect(archive)
        try:
            schemas = {"main": "archive"}
            if trail_path(archive).exists():
                db.execute("ATTACH DATABASE ? AS trail", (f"file:{quote(str(trail_path(archive)))}?mode=rw",))
                schemas["trail"] = "trail"
            return _why_not_empty(db, schemas)
        finally:
            db.close()

    def load(self, reader: TableReader, pending: list[tuple[str, str]], progress: Progress | None) -> dict[str, int]:
        from kartoteka.store.sqlite import APPLICATION_ID, SCHEMA_VERSION, SQLiteStore, _migrations, _split_sql

        archive = self.archive
        trail = trail_path(archive)
        new = not archive.exists() or archive.stat().st_size == 0
        if not new:
            SQLiteStore(archive).close()  # refuses a damaged file, migrates an older one
        created = [p for p in (archive, trail) if not p.exists()]
        for p in created:
            create_private(p)
        committed = False
        db = sqlite3.connect(str(archive), isolation_level=None, timeout=busy_seconds())
        try:
            db.execute(f"PRAGMA busy_timeout={int(busy_seconds() * 1000)}")
            # A rollback journal spills the page cache into the file as it fills: a large one
            # for the import's one transaction (each page is in memory once, not per statement).
            db.execute(f"PRAGMA cache_size=-{IMPORT_CACHE_KIB}")
            _journal(db, "main", "delete", archive)
            db.execute("ATTACH DATABASE ? AS trail", (str(trail),))
            _journal(db, "trail", "delete", trail)
            fresh_trail = int(db.execute("PRAGMA trail.user_version").fetchone()[0]) == 0
            if fresh_trail:
                db.execute("PRAGMA trail.auto_vacuum=INCREMENTAL")  # as the trail makes itself
            # Rows arrive table by table, not parents first. Enforced (even deferred), every
            # parent row inserted while a violation is outstanding scans its child tables, some
            # without an index: quadratic. So references are checked once, in bulk, at the end.
            db.execute("PRAGMA foreign_keys=OFF")
            with immediate(db, archive):
                if new:
                    for _, sql in _migrations():
                        for statement in _split_sql(sql):
                            db.execute(statement)
                    db.execute(f"PRAGMA main.application_id={APPLICATION_ID}")
                    db.execute(f"PRAGMA main.user_version={SCHEMA_VERSION}")
                if fresh_trail:
                    for statement in TRAIL_SCHEMA:
                        db.execute(
                            statement.replace("CREATE TABLE IF NOT EXISTS ", "CREATE TABLE IF NOT EXISTS trail.")
                        )
                    db.execute(f"PRAGMA trail.application_id={TRAIL_APPLICATION_ID}")
                    db.execute(f"PRAGMA trail.user_version={TRAIL_VERSION}")
                reason = _why_not_empty(db, {"main": "archive", "trail": "trail"})
                if reason:
                    raise KartotekaError(E.E142, path=archive, reason=reason)
                counts = self._fill(db, reader, progress)
                reader.verify()
                broken = db.execute("PRAGMA foreign_key_check").fetchone()
                if broken is not None:
                    raise KartotekaError(
                        E.E144, where=f"archive/{broken[0]}.jsonl", reason=f"a row points to a missing {broken[2]} row"
                    )
                # An archive that was itself imported exports its (finished, empty) entry: replaced.
                db.execute(
                    "INSERT INTO trail.meta(key, value) VALUES (?, ?)"
                    " ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                    (PENDING, json.dumps(pending)),
                )
            committed = True
            # Back to WAL; should another process have opened a file since the commit,
            # it stays as it is and the next open switches it (the store and the trail do).
            for schema, path in (("main", archive), ("trail", trail)):
                with suppress(KartotekaError, sqlite3.OperationalError):
                    _journal(db, schema, "wal", path)
        finally:
            db.close()
            if not committed:
                for p in created:
                    if p.exists() and p.stat().st_size == 0:
                        p.unlink()
        return counts

    def _fill(self, db: sqlite3.Connection, reader: TableReader, progress: Progress | None) -> dict[str, int]:
        check_tables(tables(db, "main", "archive") + tables(db, "trail", "trail"), reader.tables())
        db.execute("DELETE FROM main.archive_secret")
        db.execute("DELETE FROM trail.meta")
        counts: dict[str, int] = {}
        for table in reader.tables():
            schema = "main" if table.store == "archive" else "trail"
            cols = ", ".join(f'"{c}"' for c in table.column_names)
            sql = f'INSERT INTO {schema}."{table.name}"({cols}) VALUES ({", ".join("?" * len(table.columns))})'
            n, batch = 0, []
            for row in reader.rows(table):
                batch.append(row)
                if len(batch) >= BATCH:
                    db.executemany(sql, batch)
                    n += len(batch)
                    batch = []
                    if progress:
                        progress(BATCH, table.file)
            db.executemany(sql, batch)
            n += len(batch)
            if progress and batch:
                progress(len(batch), table.file)
            counts[table.file] = n
        db.execute("DELETE FROM main.sqlite_sequence")
        db.executemany("INSERT INTO main.sqlite_sequence(name, seq) VALUES (?, ?)", sorted(reader.sequences().items()))
        # Derived: the owner's index fills itself (portions_ai trigger); the partitions' are rebuilt here.
        for (part,) in db.execute("SELECT id FROM main.search_partitions ORDER BY id").fetchall():
            search.create_index(db, int(part))
        search.backfill(db)
        return counts

    def backup(self, dest: Path) -> int:
        archive = self.archive
        copies = ((archive, dest / archive.name), (trail_path(archive), dest / trail_path(archive).name))
        for source, target in copies:
            create_private(target)
            src, dst = _connect(source), sqlite3.connect(str(target), isolation_level=None)
            try:
                src.backup(dst)  # in one step: a single snapshot, writers go on (WAL)
            finally:
                dst.close()
                src.close()
        adb, tdb = sqlite3.connect(str(copies[0][1]), isolation_level=None), _connect(copies[1][1])
        try:
            chained = tdb.execute("SELECT value FROM meta WHERE key='outbox'").fetchone()
            last = tdb.execute(
                "SELECT max(coalesce((SELECT max(seq) FROM audit), 0), coalesce((SELECT max(last) FROM segments), 0))"
            ).fetchone()[0]
            if chained is not None:
                # The trail's copy is the later one: the archive's copy must not reuse an outbox id it has chained.
                with immediate(adb, copies[0][1]):
                    found = adb.execute("SELECT seq FROM sqlite_sequence WHERE name='audit_outbox'").fetchone()
                    if found is None:
                        adb.execute("INSERT INTO sqlite_sequence(name, seq) VALUES ('audit_outbox', ?)", (chained[0],))
                    elif int(found[0]) < int(chained[0]):
                        adb.execute("UPDATE sqlite_sequence SET seq=? WHERE name='audit_outbox'", (int(chained[0]),))
            adb.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            adb.close()
            tdb.close()
        return int(last or 0)
