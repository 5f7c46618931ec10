"""Connections to PostgreSQL archives: one pool per database and process.

An `Archive` holds its store's connection (and its trail's) for as long as
it is open, as a SQLite archive holds its file. A server opens one archive
per signed-in user and a test or a script opens and closes many: the pool
makes each open a check-out of a connection already made and configured
(autocommit), with `search_path` set to the archive's schema, not a new log-in.
Connections go back to the pool on close, rolled back if a transaction was
left open, and a connection the server dropped (a restart) is replaced on
check-out.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import TupleRow
from psycopg_pool import ConnectionPool, PoolTimeout

from kartoteka.errors import E, KartotekaError
from kartoteka.store.location import display, parse
from kartoteka.store.trail import busy_seconds

_pools: dict[str, ConnectionPool[psycopg.Connection[TupleRow]]] = {}
_lock = threading.Lock()


def pool_size() -> int:
    """Connections per archive and process: $KARTOTEKA_PG_POOL, else 32 (two per open archive)."""
    try:
        return max(2, int(os.environ.get("KARTOTEKA_PG_POOL", "32")))
    except ValueError:
        return 32


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _pool(url: str) -> ConnectionPool[psycopg.Connection[TupleRow]]:
    libpq, _schema, _keys = parse(url)
    with _lock:
        found = _pools.get(libpq)
        if found is not None:
            return found
        try:
            # Read before a pool is made of it: a pool retries a bad string for its
            # whole timeout, logging libpq's complaint, which quotes the password.
            conninfo_to_dict(libpq)
        except psycopg.ProgrammingError:
            raise KartotekaError(
                E.E160, url=display(url), reason="its connection string can't be read (a %-escape, port or option)"
            ) from None
        pool: ConnectionPool[psycopg.Connection[TupleRow]] = ConnectionPool(
            libpq,
            min_size=0,
            max_size=pool_size(),
            # Idle connections are closed after a minute: a process that opened many
            # archives (a test session, a server after a busy hour) gives them back.
            max_idle=60.0,
            kwargs={"autocommit": True},
            check=ConnectionPool.check_connection,
            open=True,
            timeout=30.0,
            name="kartoteka",
        )
        _pools[libpq] = pool
        return pool


# How long a connection may be waited for, at most (the pool's own bound is 30 s): a
# server request sets it to what is left of its deadline (`waiting_at_most`).
_wait_limit: ContextVar[float | None] = ContextVar("kartoteka_pg_wait_limit", default=None)


@contextmanager
def waiting_at_most(seconds: float) -> Iterator[None]:
    """Connections taken from the pool in this block wait at most `seconds` for one to free up."""
    token = _wait_limit.set(max(0.001, seconds))
    try:
        yield
    finally:
        _wait_limit.reset(token)


@contextmanager
def statement_deadline(db: psycopg.Connection[TupleRow], seconds: float) -> Iterator[None]:
    """Every statement on `db` in this block is cancelled by the server after `seconds`
    (psycopg.errors.QueryCanceled): a request's SQL ends at its deadline, as SQLite's progress
    handler ends it. A cancelled statement inside a write transaction rolls the whole of it back."""
    db.execute(f"SET statement_timeout = {max(1, int(seconds * 1000))}")
    try:
        yield
    finally:
        # A connection lost meanwhile is let be: the server opens the archive anew.
        with suppress(psycopg.Error):
            db.execute("SET statement_timeout = 0")


def connect(url: str) -> psycopg.Connection[TupleRow]:
    """A connection from the database's pool, its `search_path` set to the archive's
    schema (one pool serves every schema of a database); give it back with `release`."""
    _libpq, schema, _keys = parse(url)
    try:
        pool, limit = _pool(url), _wait_limit.get()
        conn = pool.getconn(timeout=None if limit is None else min(limit, pool.timeout))
    except PoolTimeout as exc:
        raise KartotekaError(E.E161, url=display(url), reason=_reason(exc)) from exc
    except psycopg.Error as exc:
        raise KartotekaError(E.E161, url=display(url), reason=_reason(exc)) from exc
    try:
        conn.execute(f"SET search_path TO {quote_ident(schema)}, public")
        conn.execute(f"SET lock_timeout TO {int(busy_seconds() * 1000)}")
    except psycopg.Error as exc:
        _pool(url).putconn(conn)
        raise KartotekaError(E.E161, url=display(url), reason=_reason(exc)) from exc
    return conn


def release(url: str, conn: psycopg.Connection[TupleRow]) -> None:
    _pool(url).putconn(conn)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__


def archive_exists(url: str) -> bool:
    """Does the URL's schema hold a Kartoteka archive? (The server must be reachable: E161.)"""
    _libpq, schema, _keys = parse(url)
    conn = connect(url)
    try:
        row = conn.execute("SELECT to_regclass(%s)", (f"{quote_ident(schema)}.kartoteka_schema",)).fetchone()
        return row is not None and row[0] is not None
    finally:
        release(url, conn)


def close_pool(url: str) -> None:
    """Close the pool of one database (any archive URL in it), if there is one: before that
    database is dropped, without touching the pools of others."""
    libpq, _schema, _keys = parse(url)
    with _lock:
        pool = _pools.pop(libpq, None)
    if pool is not None:
        pool.close()


def close_pools() -> None:
    with _lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.close()


atexit.register(close_pools)
