"""Sessions and API tokens, in a database beside the archive, so that every server process shares them.

`ARCHIVE.sessions.sqlite` (mode 0600) holds one row per live credential
(a PostgreSQL archive: the schema `NAME_sessions` of its database, so that
servers on several machines share them):

- a *session*, made by a password log-in (API or web), ends after
  `SESSION_SECONDS`, on log-out, or when its user's stored row changes;
- an *API token*, made by the owner for a script (`kartoteka token create`),
  has a name, scopes and an expiry, and ends when revoked or when its user's
  clearance or password changes.

Only the SHA-256 of a token is stored: a copy of the file hands out no
credential. Times are wall-clock seconds (several processes read them).
Because the file is apart from the archive, a log-in does not move the
archive's `data_version`, which would make every open archive rebuild its
caches. Several server workers (`serve --workers N`) share it; SQLite's WAL
lets them read while one writes.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from kartoteka.errors import E, InvalidInput, KartotekaError
from kartoteka.store.location import Location, display, is_postgres, parse
from kartoteka.store.private import create_private
from kartoteka.store.trail import immediate

SESSION_SECONDS = 8 * 3600
# What an API token may be given; a session holds every scope.
SCOPES: dict[str, str] = {
    "check": "name checks, one name or a batch",
    "search": "full-text search",
    "read": "documents, dossiers, cards, links, timelines and counts",
    "release": "release copies",
}
_SCHEMA = """
CREATE TABLE IF NOT EXISTS credentials (
    hash        TEXT PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL CHECK (kind IN ('session', 'token')),
    "user"      TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    name        TEXT NOT NULL DEFAULT '',
    scopes      TEXT NOT NULL DEFAULT '',
    created     REAL NOT NULL,
    expires     REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS credentials_user ON credentials("user");
CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value BLOB NOT NULL);
"""
# The same tables in PostgreSQL's types (REAL is single precision there; BLOB is bytea).
_PG_SCHEMA = _SCHEMA.replace("REAL", "double precision").replace("BLOB", "bytea")


def fingerprint(row: tuple[str, str, str, str | None] | None) -> str | None:
    """What a session is bound to: a change to clearance, tokens or password changes it.

    Argon2 hashes are salted afresh each time, so setting the same password
    again also changes it (and ends old sessions), as a password change should.
    """
    if row is None:
        return None
    name, level, tokens, password_hash = row
    material = "\x00".join((name, level, ",".join(sorted(t for t in tokens.split(",") if t)), password_hash or ""))
    return hashlib.sha256(material.encode()).hexdigest()


def sessions_path(archive: str | Path) -> Path:
    return Path(f"{archive}.sessions.sqlite")


class _Db(Protocol):
    """The one connection a credential store uses: SQLite's, or a PostgreSQL adapter of it."""

    def execute(self, sql: str, params: Sequence[object] = ()) -> Any: ...
    def write(self) -> AbstractContextManager[None]: ...
    def close(self) -> None: ...


class _SQLite:
    def __init__(self, path: Path) -> None:
        self.path = path
        create_private(path)
        self.db = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        with self.write():
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self.db.execute(statement)

    def execute(self, sql: str, params: Sequence[object] = ()) -> Any:
        return self.db.execute(sql, params)

    def write(self) -> AbstractContextManager[None]:
        return immediate(self.db, self.path)

    def close(self) -> None:
        self.db.close()


class _Postgres:
    """The schema `NAME_sessions` beside the archive's: apart from it, so a log-in
    moves neither its data version nor its export (whose tables are the schema's).
    A connection the server dropped (a restart) is replaced before the next statement."""

    def __init__(self, url: str) -> None:
        from kartoteka.store.postgres_pool import quote_ident

        self.url = url
        self.stale = False  # set when another connection to the server was found lost
        name = f"{parse(url)[1]}_sessions"
        self.schema = quote_ident(name)
        self.db = self._connect()
        foreign = self.db.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema=%s"
            " AND table_name NOT IN ('credentials', 'secrets') ORDER BY 1",
            (name,),
        ).fetchone()
        if foreign is not None:
            self._release()
            raise KartotekaError(
                E.E162,
                url=display(url),
                reason=f"the schema of its credentials holds another application's {foreign[0]}",
            )
        with self.write():
            # One process makes the schema; the connection's search_path already names it.
            self.db.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (name,))
            self.db.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}".encode())
            for statement in _PG_SCHEMA.split(";"):
                if statement.strip():
                    self.db.execute(statement.encode())

    def _connect(self) -> Any:
        from kartoteka.store.postgres_pool import connect

        db = connect(self.url)
        db.execute(f"SET search_path TO {self.schema}".encode())
        return db

    def _live(self) -> Any:
        if self.stale or self.db.closed or self.db.broken:
            self.stale = False
            self._release()
            self.db = self._connect()
        return self.db

    def execute(self, sql: str, params: Sequence[object] = ()) -> Any:
        return self._live().execute(sql.replace("?", "%s").encode(), params)

    def write(self) -> AbstractContextManager[None]:
        return self._live().transaction()  # type: ignore[no-any-return]

    def _release(self) -> None:
        from kartoteka.store.postgres_pool import release

        if not (self.db.closed or self.db.broken):
            self.db.execute("RESET search_path")
        release(self.url, self.db)

    def close(self) -> None:
        self._release()


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Credential:
    id: str
    kind: str
    user: str
    fingerprint: str
    name: str
    scopes: frozenset[str] | None  # None: a session, every scope
    created: float
    expires: float

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "kind": self.kind,
            "user": self.user,
            "name": self.name,
            "scopes": sorted(self.scopes) if self.scopes is not None else sorted(SCOPES),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.created)),
            "expires": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.expires)),
        }


def parse_scopes(text: str) -> frozenset[str]:
    scopes = frozenset(s.strip() for s in text.split(",") if s.strip())
    unknown = sorted(scopes - set(SCOPES))
    if unknown or not scopes:
        raise InvalidInput(E.E071, field="scope", value=",".join(unknown) or text, expected=", ".join(SCOPES))
    return scopes


class CredentialStore:
    """The credentials file of one archive. Thread-safe: one connection, used under a lock."""

    def __init__(self, archive: Location, seconds: float = SESSION_SECONDS) -> None:
        """`archive`: the archive's file, or its postgresql:// URL."""
        self.seconds = seconds
        self._db: _Db = _Postgres(str(archive)) if is_postgres(archive) else _SQLite(sessions_path(archive))
        self._lock = threading.Lock()

    @contextmanager
    def _write(self) -> Iterator[None]:
        with self._lock, self._db.write():
            yield

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def reset(self) -> None:
        """Connect anew before the next statement (a PostgreSQL restart was seen elsewhere)."""
        if isinstance(self._db, _Postgres):
            self._db.stale = True

    def secret(self, name: str) -> bytes:
        """A random key shared by every server process of this archive (the web's CSRF key), made on first use."""
        with self._write():
            self._db.execute(
                "INSERT INTO secrets(name, value) VALUES (?, ?) ON CONFLICT(name) DO NOTHING",
                (name, secrets.token_bytes(32)),
            )
            return bytes(self._db.execute("SELECT value FROM secrets WHERE name=?", (name,)).fetchone()[0])

    # making -------------------------------------------------------------------
    def _add(self, kind: str, user: str, fingerprint: str, seconds: float, name: str, scopes: str) -> tuple[str, str]:
        token = secrets.token_urlsafe(32)
        ident = secrets.token_hex(6)
        now = time.time()
        with self._write():
            self._db.execute(
                'INSERT INTO credentials(hash, id, kind, "user", fingerprint, name, scopes, created, expires)'
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (digest(token), ident, kind, user, fingerprint, name, scopes, now, now + seconds),
            )
        return token, ident

    def open(self, user: str, fingerprint: str) -> str:
        """A new session for a user whose password was just checked."""
        return self._add("session", user, fingerprint, self.seconds, "", "")[0]

    def create_token(
        self, user: str, fingerprint: str, name: str, scopes: frozenset[str], days: float
    ) -> tuple[str, Credential]:
        token, _ident = self._add("token", user, fingerprint, days * 86400, name, ",".join(sorted(scopes)))
        found = self.find(token)
        assert found is not None
        return token, found

    # reading ------------------------------------------------------------------
    @staticmethod
    def _row(r: tuple[object, ...]) -> Credential:
        kind = str(r[1])
        scopes = frozenset(s for s in str(r[5]).split(",") if s) if kind == "token" else None
        return Credential(str(r[0]), kind, str(r[2]), str(r[3]), str(r[4]), scopes, float(r[6]), float(r[7]))  # type: ignore[arg-type]

    def find(self, token: str) -> Credential | None:
        """The live credential of a token, or None (unknown, or expired)."""
        with self._lock:
            r = self._db.execute(
                'SELECT id, kind, "user", fingerprint, name, scopes, created, expires FROM credentials WHERE hash=?',
                (digest(token),),
            ).fetchone()
        if r is None:
            return None
        found = self._row(r)
        return found if found.expires > time.time() else None

    def tokens(self, user: str | None = None) -> list[Credential]:
        """API tokens (not sessions), oldest first."""
        only, params = ('AND "user"=?', (user,)) if user is not None else ("", ())
        with self._lock:
            rows = self._db.execute(
                'SELECT id, kind, "user", fingerprint, name, scopes, created, expires FROM credentials'
                f" WHERE kind='token' {only} ORDER BY created, id",
                params,
            ).fetchall()
        return [self._row(r) for r in rows]

    # ending -------------------------------------------------------------------
    def close_token(self, token: str) -> None:
        with self._write():
            self._db.execute("DELETE FROM credentials WHERE hash=?", (digest(token),))

    def revoke_id(self, ident: str) -> bool:
        with self._write():
            return bool(self._db.execute("DELETE FROM credentials WHERE id=? AND kind='token'", (ident,)).rowcount > 0)

    def revoke(self, user: str) -> int:
        """End every session and token of a user (their stored row changed)."""
        with self._write():
            return int(self._db.execute('DELETE FROM credentials WHERE "user"=?', (user,)).rowcount)

    def prune(self) -> int:
        with self._write():
            return int(self._db.execute("DELETE FROM credentials WHERE expires <= ?", (time.time(),)).rowcount)

    def sessions(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM credentials WHERE kind='session'").fetchone()[0])
