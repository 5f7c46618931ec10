"""Both storage backends for the same tests: SQLite files, and PostgreSQL schemas.

`backend` is a session-scoped parameter ("sqlite", "postgres"); `where`
gives a fresh archive location for it: a file in the test's folder, or a
schema of its own in the session's PostgreSQL database with its side files
(keys, anchors) in the test's folder. The database, `kartoteka_test_<random>`
on 127.0.0.1:5432 (trust authentication, user postgres; another server with
$KARTOTEKA_TEST_POSTGRES), is created for the session and dropped after it.
Without a server the PostgreSQL half skips with the reason, unless
$KARTOTEKA_REQUIRE_POSTGRES=1 (CI: .ci/run), which makes it fail.
"""

from __future__ import annotations

import itertools
import os
import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from kartoteka.archive import Archive
from kartoteka.store.location import Location

SERVER = os.environ.get("KARTOTEKA_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
BACKENDS = ["sqlite", "postgres"]
_counter = itertools.count(1)

Where = Callable[[Path, str], Location]


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """The URL of a fresh database for this session (dropped at its end)."""
    try:
        psycopg.connect(f"{SERVER}/postgres", autocommit=True, connect_timeout=5).close()  # reachable?
    except psycopg.OperationalError as exc:
        reason = f"no PostgreSQL server at {SERVER} ({str(exc).strip().splitlines()[-1]})"
        if os.environ.get("KARTOTEKA_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{reason}; KARTOTEKA_REQUIRE_POSTGRES=1 says the PostgreSQL tests must run")
        pytest.skip(reason)
    with fresh_database(f"kartoteka_test_{secrets.token_hex(4)}") as url:
        yield url


@contextmanager
def fresh_database(name: str) -> Iterator[str]:
    """The URL of a new database `name` on the test server, dropped (with its connections) after."""
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'")
    try:
        yield f"{SERVER}/{name}"
    finally:
        # Only this database's pool: archives of others (session fixtures) keep theirs.
        from kartoteka.store.postgres_pool import close_pool

        close_pool(f"{SERVER}/{name}")
        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def pg_location(database: str, folder: Path, name: str) -> str:
    """A new schema of the database, named after the file name it stands for; side files in `folder`."""
    stem = re.sub(r"[^a-z0-9]+", "_", Path(name).stem.lower())[:20]
    schema = f"a{next(_counter)}_{stem}"
    folder.mkdir(parents=True, exist_ok=True)
    return f"{database}?schema={schema}&keys={quote(str(folder))}"


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def where(backend: str, request: pytest.FixtureRequest) -> Where:
    """Where to make a new archive named `name` in `folder`, on the backend under test."""
    if backend == "sqlite":
        return lambda folder, name: folder / name
    database = str(request.getfixturevalue("pg_database"))
    return lambda folder, name: pg_location(database, folder, name)


@pytest.fixture(scope="session")
def demo_both(where: Where, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    """The demo archive on the backend under test (a module overrides `demo_archive` with it)."""
    from kartoteka.demo import build

    arch = build(where(tmp_path_factory.mktemp("demo"), "demo.db"))  # type: ignore[arg-type]
    yield arch
    arch.close()
