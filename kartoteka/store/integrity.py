"""Is this file a sound archive? A cheap check on every open, a full one for `kartoteka doctor`.

SQLite keeps no checksums of its pages, so flipped bytes inside a stored
text cannot be seen by anyone; what can be seen is damage to the file's
structure (b-tree pages, indexes that disagree with their tables, a
full-text index out of step with its portions) and a schema that lacks
what the migrations made. Opening checks the structure with
`PRAGMA quick_check` (once per process for each state of the file, and only
up to QUICK_CHECK_MAX_BYTES, so a large archive does not pay a full read on
every command) and the schema always; `full_check` is the doctor's
thorough pass.
"""

from __future__ import annotations

import functools
import os
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from kartoteka.errors import E, KartotekaError

# quick_check reads every page: 0.10-0.23 s for a 45 MB archive of 500 JFK
# records from the page cache on the (shared) development machine, so up to
# about 0.6 s at this bound; slower from a cold disk.
QUICK_CHECK_MAX_BYTES = 128 * 2**20
# Problems reported per check: enough to see what is wrong, bounded on a ruined file.
MAX_PROBLEMS = 20

_checked: set[tuple[str, int, int, int, int]] = set()


def is_damage(exc: sqlite3.DatabaseError) -> bool:
    """True when the error means the file is damaged (or has lost part of its schema), not busy or full."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc)
    return (
        name.startswith("SQLITE_CORRUPT") or "malformed" in text or text.startswith(("no such table", "no such column"))
    )


def disk_full(path: str | os.PathLike[str]) -> bool:
    """Is the file system of `path` out of space (less than 64 KiB left to its user)?

    SQLite reports a full disk as SQLITE_FULL when a write fails, but as a plain
    "disk I/O error" when it cannot even make a connection's -wal or -shm file,
    which is all a read needs: the file system is asked instead."""
    folder = os.path.dirname(os.path.abspath(os.fspath(path))) or "."
    try:
        st = os.statvfs(folder)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < 64 * 1024


def database_error(path: str, exc: sqlite3.DatabaseError) -> KartotekaError:
    """The one-line error for an SQLite failure on the archive at `path`."""
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if getattr(exc, "sqlite_errorname", "").startswith(("SQLITE_FULL", "SQLITE_IOERR")) and disk_full(path):
        return KartotekaError(E.E118, path=path, reason=reason)
    if getattr(exc, "sqlite_errorname", "") == "SQLITE_NOTADB" or reason == "file is not a database":
        return KartotekaError(E.E010, path=path, reason=reason)  # not SQLite at all, or its header is gone
    if is_damage(exc):
        return KartotekaError(E.E111, path=path, reason=reason)
    return KartotekaError(E.E112, path=path, reason=reason)


@functools.cache
def expected_schema(version: int) -> frozenset[tuple[str, str]]:
    """(type, name) of every table, index, trigger and view that migrations 1..version create."""
    from kartoteka.store.sqlite import _migrations, _split_sql

    db = sqlite3.connect(":memory:")
    try:
        for v, sql in _migrations():
            if v > version:
                break
            for statement in _split_sql(sql):
                db.execute(statement)
        rows = db.execute("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").fetchall()
    finally:
        db.close()
    return frozenset((str(t), str(n)) for t, n in rows)


def missing_objects(db: sqlite3.Connection, version: int) -> list[str]:
    """What the migrations up to `version` made that the file lacks, as 'table mentions'."""
    have = {(str(t), str(n)) for t, n in db.execute("SELECT type, name FROM sqlite_master")}
    # Tables first: "table mentions" says more than the indexes that went with it.
    return [f"{t} {n}" for t, n in sorted(expected_schema(version) - have, key=lambda o: (o[0] != "table", o))]


def _file_state(path: str) -> tuple[str, int, int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (os.path.realpath(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def quick_check_on_open(db: sqlite3.Connection, path: str) -> None:
    """Refuse a file whose structure is damaged, cheaply (see the module docstring)."""
    state = _file_state(path)
    if state is not None and state in _checked:
        return
    # The detail (page numbers, index names) is the doctor's to show.
    failed = KartotekaError(E.E111, path=path, reason="its structure check failed")
    try:
        size = int(db.execute("PRAGMA page_count").fetchone()[0]) * int(db.execute("PRAGMA page_size").fetchone()[0])
        first = db.execute("PRAGMA quick_check(1)").fetchone() if size <= QUICK_CHECK_MAX_BYTES else ("ok",)
    except sqlite3.DatabaseError as exc:
        if is_damage(exc):  # a schema too damaged to read is the same verdict
            raise failed from exc
        raise
    if first is None or first[0] != "ok":
        raise failed
    if state is not None:
        _checked.add(state)


def schema_on_open(db: sqlite3.Connection, path: str, version: int) -> None:
    missing = missing_objects(db, version)
    if missing:
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise KartotekaError(E.E111, path=path, reason=f"{', '.join(missing[:3])}{more} missing")


@dataclass
class Check:
    """One of the doctor's checks; `ran` is False when it could not be made (`ok` is then None).

    A check that could not be made fails the doctor unless it is not `required`: PostgreSQL's
    pages are the server's to check, and a server without data checksums or amcheck gives the
    doctor no way to (it says so, and the rest of its verdict stands)."""

    name: str
    problems: list[str] = field(default_factory=list)
    note: str = ""
    ran: bool = True
    required: bool = True

    @property
    def ok(self) -> bool | None:
        return not self.problems if self.ran else None

    @property
    def passed(self) -> bool:
        return self.ok is True or (self.ok is None and not self.required)

    def as_json(self) -> dict[str, Any]:
        return {
            "check": self.name,
            "ok": self.ok,
            "problems": self.problems,
            "note": self.note,
            "required": self.required,
        }


def _rows(db: sqlite3.Connection, sql: str, check: Check) -> list[Any]:
    try:
        return db.execute(sql).fetchall()
    except sqlite3.DatabaseError as exc:
        check.problems.append(str(exc).splitlines()[0])
        return []


def full_check(db: sqlite3.Connection, application_id: int, supported: int) -> list[Check]:
    """Every check the doctor runs on an open connection, in order; none writes to the archive."""
    header = Check("header")
    found = _rows(db, "PRAGMA application_id", header)
    version_row = _rows(db, "PRAGMA user_version", header)
    version = int(version_row[0][0]) if version_row else 0
    if found and int(found[0][0]) != application_id:
        header.problems.append("not marked as a Kartoteka archive (PRAGMA application_id)")
    if version > supported:
        header.problems.append(f"schema version {version} is newer than this Kartoteka supports ({supported})")
    header.note = f"schema version {version}" + (
        f"; the next open migrates it to {supported}" if 0 < version < supported else ""
    )
    header.problems = list(dict.fromkeys(header.problems))
    if header.problems:
        # Not SQLite, or not ours: the other checks would only repeat it.
        skipped = ("integrity", "schema", "foreign_keys", "full_text")
        return [header, *(Check(name, note="not a Kartoteka archive", ran=False) for name in skipped)]

    integrity = Check("integrity")
    for (line,) in _rows(db, f"PRAGMA integrity_check({MAX_PROBLEMS})", integrity):
        if line != "ok":
            integrity.problems.append(str(line))

    schema = Check("schema")
    if version <= supported:
        try:
            schema.problems.extend(f"{m} missing" for m in missing_objects(db, version))
        except sqlite3.DatabaseError as exc:
            schema.problems.append(str(exc).splitlines()[0])

    keys = Check("foreign_keys")
    broken: dict[tuple[str, str], int] = {}
    for table, _rowid, parent, _fk in _rows(db, "PRAGMA foreign_key_check", keys):
        broken[(str(table), str(parent))] = broken.get((str(table), str(parent)), 0) + 1
    keys.problems.extend(f"{n} row(s) of {t} point to missing rows of {p}" for (t, p), n in sorted(broken.items()))

    fts = Check("full_text")
    _full_text(db, fts)
    return [header, integrity, schema, keys, fts]


def _full_text(db: sqlite3.Connection, check: Check) -> None:
    """Each FTS5 index internally sound, holding no portion that is gone, and the
    owner's index (`portions_fts`) holding every text portion."""
    tables = [
        (str(n), str(sql))
        for n, sql in _rows(
            db, "SELECT name, sql FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%fts5%'", check
        )
    ]
    check.note = f"{len(tables)} full-text table(s)"
    text_ids = {int(i) for (i,) in _rows(db, "SELECT id FROM portions WHERE kind='text'", check)}
    for name, sql in tables:
        # The check is an INSERT of a command row; inside a transaction that
        # is rolled back it provably changes nothing.
        try:
            db.execute("BEGIN")
            db.execute(f'INSERT INTO "{name}"("{name}") VALUES (\'integrity-check\')')
        except sqlite3.DatabaseError as exc:
            check.problems.append(f"{name}: {str(exc).splitlines()[0]}")
            continue
        finally:
            if db.in_transaction:
                db.execute("ROLLBACK")
        if "content='portions'" not in sql.replace('"', "'"):
            continue
        # FTS5 keeps one %_docsize row per indexed row: the ids the index holds.
        indexed = {int(i) for (i,) in _rows(db, f'SELECT id FROM "{name}_docsize"', check)}
        stale = sorted(indexed - text_ids)
        if stale:
            check.problems.append(f"{name}: {len(stale)} indexed portion(s) no longer stored (first id {stale[0]})")
        if name == "portions_fts":
            unindexed = sorted(text_ids - indexed)
            if unindexed:
                check.problems.append(f"{name}: {len(unindexed)} text portion(s) not indexed (first id {unindexed[0]})")
    del check.problems[MAX_PROBLEMS:]
