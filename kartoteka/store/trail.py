"""The audit trail's own SQLite database, beside the archive: `ARCHIVE.audit.sqlite`.

Every read of the archive is audited, so if the trail lived in the archive
every read would need the archive's write lock and would change its
`PRAGMA data_version` (every other user's caches thrown away). Kept in a file
of its own, a read takes only this file's write lock, for the few
microseconds of one append, and the archive changes only when it is written.

This module only stores rows; `kartoteka.access.audit` chains and signs
them. All appends happen inside `locked()` (BEGIN IMMEDIATE), so the head an
entry is chained onto is read under the same lock that appends it.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kartoteka.errors import E, KartotekaError
from kartoteka.store.integrity import disk_full

TRAIL_APPLICATION_ID = 0x4B54_4B4C  # "KTKL": a Kartoteka audit trail
TRAIL_VERSION = 1
DEFAULT_BUSY_SECONDS = 30.0

Row = tuple[int, str, str, str, str, str, str]  # seq, at, actor, action, subjects, detail, head

_SCHEMA = [
    # `audit` has the same columns as the table archives before schema 8 kept.
    "CREATE TABLE IF NOT EXISTS audit (seq INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL,"
    " action TEXT NOT NULL, subjects TEXT NOT NULL, detail TEXT NOT NULL, head TEXT NOT NULL)",
    # anchored: the last entry signed into the anchor file; outbox: the last
    # archive outbox row chained here; archive: which archive this trail is of.
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    # Sealed segments: entries first..last moved to a file, the head at `last` signed.
    "CREATE TABLE IF NOT EXISTS segments (first INTEGER PRIMARY KEY, last INTEGER NOT NULL, head TEXT NOT NULL,"
    " file TEXT NOT NULL, sha256 TEXT NOT NULL, sig TEXT NOT NULL, sealed_at TEXT NOT NULL)",
]


def busy_seconds() -> float:
    """How long a writer waits for a lock before giving up: $KARTOTEKA_BUSY_TIMEOUT, else 30 s."""
    try:
        return max(0.0, float(os.environ.get("KARTOTEKA_BUSY_TIMEOUT", DEFAULT_BUSY_SECONDS)))
    except ValueError:
        return DEFAULT_BUSY_SECONDS


def is_locked(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "database is locked" in text or "database is busy" in text or "database table is locked" in text


def busy_error(path: str | Path) -> KartotekaError:
    return KartotekaError(E.E090, path=path, seconds=f"{busy_seconds():g}")


@contextmanager
def immediate(db: sqlite3.Connection, path: str | Path) -> Iterator[None]:
    """One write transaction on `db`: BEGIN IMMEDIATE (waiting the busy
    timeout), COMMIT, or ROLLBACK on any error. A lock still held after the
    wait is the one-line E090, never a traceback. Shared by the archive and
    its audit trail, which nest it themselves."""
    try:
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if is_locked(exc):
            raise busy_error(path) from exc
        raise
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    try:
        db.execute("COMMIT")
    except sqlite3.OperationalError as exc:
        db.execute("ROLLBACK")
        if is_locked(exc):
            raise busy_error(path) from exc
        raise


@dataclass(frozen=True)
class Segment:
    first: int
    last: int
    head: str
    file: str
    sha256: str
    sig: str
    sealed_at: str

    def signed(self) -> bytes:
        """What the segment's signature covers: its range, its last head and its file's hash."""
        return f"segment:{self.first}:{self.last}:{self.head}:{self.sha256}".encode()


class SQLiteAuditTrail:
    """The trail of one archive. One connection, shared by threads under a lock."""

    def __init__(self, archive_path: str | Path) -> None:
        archive = Path(archive_path)
        self.path = archive.with_name(archive.name + ".audit.sqlite")
        self.segments_dir = archive.with_name(archive.name + ".audit-segments")
        self._lock = threading.RLock()
        self._depth = 0
        # Created 0600 before SQLite opens it: SQLite gives its -wal and -shm
        # files the mode of the database file. Only when missing (O_EXCL): closing
        # any descriptor of a file drops every POSIX lock this process holds on
        # it, so opening an existing trail here would release the locks of the
        # process's other connections to it (a server holds one per user). Another
        # process closing its connection would then take itself for the last
        # one and checkpoint and delete the WAL under them: the soak benchmark
        # found zeroed pages in the trail that way.
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            os.close(fd)
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=busy_seconds())
            self.db.execute(f"PRAGMA busy_timeout={int(busy_seconds() * 1000)}")
            app_id, version = self.db.execute("PRAGMA application_id").fetchone()[0], self._version()
            if version > TRAIL_VERSION:
                raise KartotekaError(E.E092, path=self.path, reason=f"trail version {version} is newer than supported")
            tables = self.db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if tables and app_id != TRAIL_APPLICATION_ID:
                raise KartotekaError(E.E092, path=self.path, reason="it is an SQLite file of another application")
            if version < TRAIL_VERSION:
                self._create()
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error as exc:
            if is_locked(exc):
                raise busy_error(self.path) from exc
            if isinstance(exc, sqlite3.OperationalError) and disk_full(self.path):
                raise KartotekaError(E.E118, path=self.path, reason=str(exc)) from exc
            raise KartotekaError(E.E092, path=self.path, reason=str(exc)) from exc

    def _version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def _create(self) -> None:
        # auto_vacuum must be set before the first table exists: compaction
        # then gives the space of moved rows back with incremental_vacuum.
        self.db.execute("PRAGMA auto_vacuum=INCREMENTAL")
        with immediate(self.db, self.path):
            for statement in _SCHEMA:
                self.db.execute(statement)
            self.db.execute(f"PRAGMA application_id={TRAIL_APPLICATION_ID}")
            self.db.execute(f"PRAGMA user_version={TRAIL_VERSION}")

    @contextmanager
    def locked(self) -> Iterator[None]:
        """The trail's write lock, across threads and processes (BEGIN IMMEDIATE)."""
        with self._lock:
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

    def close(self) -> None:
        with self._lock:
            self.db.close()

    def alive(self) -> bool:
        return True

    # entries -------------------------------------------------------------------
    def last(self) -> tuple[int, str] | None:
        """(seq, head) of the newest entry, live or sealed into a segment."""
        with self._lock:
            row = self.db.execute("SELECT seq, head FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
            seg = self.db.execute("SELECT last, head FROM segments ORDER BY last DESC LIMIT 1").fetchone()
        best = max((r for r in (row, seg) if r is not None), key=lambda r: int(r[0]), default=None)
        return (int(best[0]), str(best[1])) if best else None

    def append(self, seq: int, at: str, actor: str, action: str, subjects: str, detail: str, head: str) -> None:
        with self._lock:
            self.db.execute(
                "INSERT INTO audit(seq, at, actor, action, subjects, detail, head) VALUES (?,?,?,?,?,?,?)",
                (seq, at, actor, action, subjects, detail, head),
            )

    def entries(self, after: int = 0, through: int | None = None) -> Iterator[Row]:
        """Live entries with seq > after (and <= through), in order; read in pages
        so that a long log never holds the lock or a cursor for long."""
        page = 5000
        while True:
            with self._lock:
                rows = self.db.execute(
                    "SELECT seq, at, actor, action, subjects, detail, head FROM audit"
                    " WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
                    (after, through if through is not None else 2**62, page),
                ).fetchall()
            yield from ((int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows)
            if len(rows) < page:
                return
            after = int(rows[-1][0])

    def count(self) -> int:
        """Entries in the log: sealed ones, and live ones after the last segment (rows a
        compaction has sealed but not yet deleted are not counted twice)."""
        with self._lock:
            sealed, through = self.db.execute(
                "SELECT coalesce(sum(last - first + 1), 0), coalesce(max(last), 0) FROM segments"
            ).fetchone()
            live = self.db.execute("SELECT count(*) FROM audit WHERE seq > ?", (through,)).fetchone()[0]
        return int(live) + int(sealed)

    def delete_through(self, seq: int, limit: int) -> int:
        """Delete up to `limit` live entries with seq <= `seq` (already sealed into a segment)."""
        with self._lock:
            cur = self.db.execute(
                "DELETE FROM audit WHERE seq IN (SELECT seq FROM audit WHERE seq <= ? ORDER BY seq LIMIT ?)",
                (seq, limit),
            )
            return int(cur.rowcount or 0)

    def vacuum(self) -> None:
        with self._lock:
            # executescript steps the pragma to the end (execute frees one page a call).
            self.db.executescript("PRAGMA incremental_vacuum;")
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # meta ----------------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        with self._lock:
            row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return str(row[0]) if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self.db.execute(
                "INSERT INTO meta(key, value) VALUES (?,?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (key, value),
            )

    # segments ------------------------------------------------------------------
    def segments(self) -> list[Segment]:
        with self._lock:
            rows = self.db.execute(
                "SELECT first, last, head, file, sha256, sig, sealed_at FROM segments ORDER BY first"
            ).fetchall()
        return [Segment(int(r[0]), int(r[1]), r[2], r[3], r[4], r[5], r[6]) for r in rows]

    def add_segment(self, seg: Segment) -> None:
        with self._lock:
            self.db.execute(
                "INSERT INTO segments(first, last, head, file, sha256, sig, sealed_at) VALUES (?,?,?,?,?,?,?)",
                (seg.first, seg.last, seg.head, seg.file, seg.sha256, seg.sig, seg.sealed_at),
            )
