"""The audit trail of a PostgreSQL archive: tables in the schema `SCHEMA_trail` of the same database.

SQLite keeps the trail in a file of its own so that an audited read takes
no write lock on the archive and leaves its `data_version` alone. In
PostgreSQL a read takes no lock that a writer waits for anyway; what matters
is the same separation: the trail has its own connection (an append commits
at once, outside any write transaction of the archive's) and its own tables,
which do not raise the archive's data version. Appends happen inside
`locked()`: a transaction holding the trail's table lock, which two
processes (two servers, a server and the CLI) cannot hold at once, so the
head an entry is chained onto is read under the same lock that appends it.

The signed anchors and sealed segments stay in local files beside the
archive's keys (kartoteka/store/location.py): the anchors must not be
writable by whoever can rewrite the tables they vouch for.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg.rows import TupleRow

from kartoteka.errors import E, KartotekaError
from kartoteka.store.location import display, parse
from kartoteka.store.postgres_pool import connect, quote_ident, release
from kartoteka.store.trail import TRAIL_VERSION, Row, Segment

_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS audit (seq bigint PRIMARY KEY, at text NOT NULL, actor text NOT NULL,"
    " action text NOT NULL, subjects text NOT NULL, detail text NOT NULL, head text NOT NULL)",
    "CREATE TABLE IF NOT EXISTS meta (key text PRIMARY KEY, value text NOT NULL)",
    "CREATE TABLE IF NOT EXISTS segments (first bigint PRIMARY KEY, last bigint NOT NULL, head text NOT NULL,"
    " file text NOT NULL, sha256 text NOT NULL, sig text NOT NULL, sealed_at text NOT NULL)",
    # The trail's version (SQLite: the trail file's user_version).
    "CREATE TABLE IF NOT EXISTS kartoteka_trail (version integer NOT NULL)",
]


_OWN_TABLES = ("audit", "meta", "segments", "kartoteka_trail")


def trail_schema(schema: str) -> str:
    return f"{schema}_trail"


def create(db: psycopg.Connection[TupleRow], schema: str) -> None:
    """The trail's schema and tables, in the caller's transaction (idempotent)."""
    name = quote_ident(trail_schema(schema))
    foreign = db.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema=%s AND NOT (table_name = ANY(%s))"
        " ORDER BY 1",
        (trail_schema(schema), list(_OWN_TABLES)),
    ).fetchone()
    if foreign is not None:
        # Another application's schema of that name: its tables are not the trail's to join.
        raise KartotekaError(
            E.E092, path=trail_schema(schema), reason=f"the schema holds the table {foreign[0]} of another application"
        )
    db.execute(f"CREATE SCHEMA IF NOT EXISTS {name}")
    for statement in _SCHEMA:
        db.execute(statement.replace("IF NOT EXISTS ", f"IF NOT EXISTS {name}.", 1))
    if db.execute(f"SELECT 1 FROM {name}.kartoteka_trail").fetchone() is None:
        db.execute(f"INSERT INTO {name}.kartoteka_trail(version) VALUES (%s)", (TRAIL_VERSION,))


class PostgresAuditTrail:
    """The trail of one PostgreSQL archive. One connection, shared by threads under a lock."""

    def __init__(self, url: str, side: Path) -> None:
        self.url = url
        _libpq, self.schema, _keys = parse(url)
        self.path = f"{display(url)} (schema {trail_schema(self.schema)})"
        self.segments_dir = side.with_name(side.name + ".audit-segments")
        self._lock = threading.RLock()
        self._depth = 0
        self.db = connect(url)
        self._t = quote_ident(trail_schema(self.schema))
        try:
            with self.db.transaction():
                self.db.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"kartoteka:{self.schema}",))
                create(self.db, self.schema)
                row = self.db.execute(f"SELECT version FROM {self._t}.kartoteka_trail").fetchone()
            if row is not None and int(row[0]) > TRAIL_VERSION:
                raise KartotekaError(E.E092, path=self.path, reason=f"trail version {row[0]} is newer than supported")
        except psycopg.Error as exc:
            release(url, self.db)
            raise KartotekaError(E.E092, path=self.path, reason=str(exc).strip()) from exc
        except BaseException:
            release(url, self.db)
            raise

    @contextmanager
    def locked(self) -> Iterator[None]:
        """The trail's write lock, across threads and processes."""
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
                with self.db.transaction():
                    # Self-conflicting, and plain reads (ACCESS SHARE) are not held up by it.
                    self.db.execute(f"LOCK TABLE {self._t}.audit IN SHARE ROW EXCLUSIVE MODE")
                    yield
            finally:
                self._depth = 0

    def alive(self) -> bool:
        return self.db is not None and not (self.db.closed or self.db.broken)

    def close(self) -> None:
        with self._lock:
            if self.db is not None:
                release(self.url, self.db)

    def last(self) -> tuple[int, str] | None:
        with self._lock:
            row = self.db.execute(f"SELECT seq, head FROM {self._t}.audit ORDER BY seq DESC LIMIT 1").fetchone()
            seg = self.db.execute(f"SELECT last, head FROM {self._t}.segments ORDER BY last DESC LIMIT 1").fetchone()
        best = max((r for r in (row, seg) if r is not None), key=lambda r: int(r[0]), default=None)
        return (int(best[0]), str(best[1])) if best else None

    def append(self, seq: int, at: str, actor: str, action: str, subjects: str, detail: str, head: str) -> None:
        with self._lock:
            self.db.execute(
                f"INSERT INTO {self._t}.audit(seq, at, actor, action, subjects, detail, head)"
                " VALUES (%s,%s,%s,%s,%s,%s,%s)",
                (seq, at, actor, action, subjects, detail, head),
            )

    def entries(self, after: int = 0, through: int | None = None) -> Iterator[Row]:
        page = 5000
        while True:
            with self._lock:
                rows = self.db.execute(
                    f"SELECT seq, at, actor, action, subjects, detail, head FROM {self._t}.audit"
                    " WHERE seq > %s AND seq <= %s ORDER BY seq LIMIT %s",
                    (after, through if through is not None else 2**62, page),
                ).fetchall()
            yield from ((int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows)
            if len(rows) < page:
                return
            after = int(rows[-1][0])

    def count(self) -> int:
        with self._lock:
            row = self.db.execute(
                f"SELECT coalesce(sum(last - first + 1), 0), coalesce(max(last), 0) FROM {self._t}.segments"
            ).fetchone()
            assert row is not None
            sealed, through = int(row[0]), int(row[1])
            live = self.db.execute(f"SELECT count(*) FROM {self._t}.audit WHERE seq > %s", (through,)).fetchone()
        return int(live[0] if live else 0) + sealed

    def delete_through(self, seq: int, limit: int) -> int:
        with self._lock:
            cur = self.db.execute(
                f"DELETE FROM {self._t}.audit WHERE seq IN"
                f" (SELECT seq FROM {self._t}.audit WHERE seq <= %s ORDER BY seq LIMIT %s)",
                (seq, limit),
            )
            return int(cur.rowcount or 0)

    def vacuum(self) -> None:
        with self._lock:
            if not self.db.info.transaction_status:  # VACUUM only outside a transaction
                self.db.execute(f"VACUUM {self._t}.audit")

    def meta(self, key: str) -> str | None:
        with self._lock:
            row = self.db.execute(f"SELECT value FROM {self._t}.meta WHERE key=%s", (key,)).fetchone()
        return str(row[0]) if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self.db.execute(
                f"INSERT INTO {self._t}.meta(key, value) VALUES (%s,%s)"
                " ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (key, value),
            )

    def segments(self) -> list[Segment]:
        with self._lock:
            rows = self.db.execute(
                f"SELECT first, last, head, file, sha256, sig, sealed_at FROM {self._t}.segments ORDER BY first"
            ).fetchall()
        return [Segment(int(r[0]), int(r[1]), r[2], r[3], r[4], r[5], r[6]) for r in rows]

    def add_segment(self, seg: Segment) -> None:
        with self._lock:
            self.db.execute(
                f"INSERT INTO {self._t}.segments(first, last, head, file, sha256, sig, sealed_at)"
                " VALUES (%s,%s,%s,%s,%s,%s,%s)",
                (seg.first, seg.last, seg.head, seg.file, seg.sha256, seg.sig, seg.sealed_at),
            )
