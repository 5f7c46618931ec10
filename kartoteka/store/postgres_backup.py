"""Backup and restore of a PostgreSQL archive with PostgreSQL's own tools, `pg_dump` and `pg_restore`.

`dump` opens a REPEATABLE READ transaction, exports its snapshot and has
`pg_dump` read both schemas (the archive's and its trail's) in that same
snapshot, while the transaction reads the last audit entry the dump holds:
the anchors copied beside the dump are cut to it, as for SQLite. Writers
go on meanwhile. The dump is pg_dump's custom format (compressed, restored
table by table), named after the archive's side files (`NAME.pgdump`).

`restore` loads a dump with `pg_restore --single-transaction`: the target
schemas are made whole or not at all. A dump holds its schemas' names, so
it restores to an archive of the same schema name (in another database, or
in the same one after the original is dropped); the target schemas must not
exist. The `unaccent` extension the search configuration uses is made in
the target database first (extensions are not in a schema's dump).

The password of a URL goes to the tools in their environment (PGPASSWORD),
never on their command line, where any user of the machine could read it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import psycopg

from kartoteka.errors import E, KartotekaError
from kartoteka.store.location import display, parse
from kartoteka.store.postgres import failed
from kartoteka.store.postgres_pool import connect, quote_ident, release

DUMP_SUFFIX = ".pgdump"


def tool(name: str) -> str:
    """The path of a PostgreSQL client program; E164 if it is not installed."""
    found = shutil.which(name)
    if found is None:
        raise KartotekaError(E.E164, program=name)
    return found


def _dsn_and_env(url: str) -> tuple[str, dict[str, str]]:
    """The libpq URL without its password, and an environment that carries it."""
    libpq, _schema, _keys = parse(url)
    parts = urlsplit(libpq)
    env = dict(os.environ)
    if parts.password is not None:
        env["PGPASSWORD"] = unquote(parts.password)  # libpq decodes a URL's %-escapes; PGPASSWORD is taken as is
        netloc = parts.netloc.replace(f":{parts.password}@", "@", 1)
        libpq = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return libpq, env


def _run(argv: list[str], env: dict[str, str], url: str) -> None:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = [ln for ln in done.stderr.strip().splitlines() if ln.strip()]
        reason = lines[0] if lines else f"{Path(argv[0]).name} exited with {done.returncode}"
        raise KartotekaError(E.E162, url=display(url), reason=reason.replace(argv[0], Path(argv[0]).name))


def dump(url: str, schemas: dict[str, str], dest: Path, name: str) -> int:
    """Dump the archive's and trail's schemas to `dest/NAME.pgdump`; the last audit entry it holds."""
    pg_dump = tool("pg_dump")
    dsn, env = _dsn_and_env(url)
    target = dest / (name + DUMP_SUFFIX)
    db = connect(url)
    try:
        with db.transaction():
            db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            row = db.execute("SELECT pg_export_snapshot()").fetchone()
            assert row is not None
            snapshot = str(row[0])
            trail = quote_ident(schemas["trail"])
            last = db.execute(
                f"SELECT greatest(coalesce((SELECT max(seq) FROM {trail}.audit), 0),"
                f" coalesce((SELECT max(last) FROM {trail}.segments), 0))"
            ).fetchone()
            argv = [pg_dump, "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}"]
            argv += [f"--schema={s}" for s in (schemas["archive"], schemas["trail"])]
            argv += [f"--file={target}", f"--dbname={dsn}"]
            # The snapshot lives as long as this transaction: pg_dump runs inside it.
            _run(argv, env, url)
    except psycopg.Error as exc:
        raise failed(url, exc) from exc
    finally:
        release(url, db)
    os.chmod(target, 0o600)
    return int(last[0]) if last else 0


def dumped_schema(path: Path) -> str:
    """The archive schema a dump holds (the one whose trail schema it holds too); E147 if none."""
    pg_restore = tool("pg_restore")
    done = subprocess.run([pg_restore, "--list", str(path)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise KartotekaError(E.E147, path=path.parent, reason=f"{path.name} is not a pg_dump archive")
    names = set()
    for line in done.stdout.splitlines():
        fields = line.split()
        # "12; 2615 16390 SCHEMA - NAME OWNER"
        if len(fields) >= 6 and fields[3] == "SCHEMA" and fields[4] == "-":
            names.add(fields[5])
    archives = sorted(n for n in names if f"{n}_trail" in names)
    if len(archives) != 1:
        raise KartotekaError(E.E147, path=path.parent, reason=f"{path.name} holds no single archive's schemas")
    others = sorted(names - {archives[0], f"{archives[0]}_trail"})
    if others:
        # A backup holds the archive and its trail, nothing else: what else a dump holds
        # was put there by someone else, and would be restored beside the archive.
        raise KartotekaError(E.E147, path=path.parent, reason=f"{path.name} also holds the schema {others[0]}")
    return archives[0]


def check_target(url: str, path: Path) -> None:
    """E148 unless the dump at `path` can be restored to the URL: its schema, not there yet."""
    _libpq, schema, _keys = parse(url)
    held = dumped_schema(path)
    if held != schema:
        raise KartotekaError(
            E.E148,
            path=display(url),
            reason=f"the backup holds the schema '{held}': restore it to a URL with ?schema={held}",
        )
    db = connect(url)
    try:
        present = db.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname IN (%s, %s) ORDER BY 1", (schema, f"{schema}_trail")
        ).fetchall()
        if present:
            raise KartotekaError(E.E148, path=display(url), reason=f"the schema {present[0][0]} exists; drop it first")
    except psycopg.Error as exc:
        raise failed(url, exc) from exc
    finally:
        release(url, db)


def restore(url: str, path: Path) -> None:
    """Load the dump at `path` into the URL's database (see `check_target`), in one transaction."""
    pg_restore = tool("pg_restore")
    check_target(url, path)
    schema = parse(url)[1]
    names = [quote_ident(schema), quote_ident(f"{schema}_trail")]
    # pg_restore is told to restore the archive's two schemas' objects and nothing else;
    # told so, it makes no schema itself: they are made here, and dropped again on failure.
    db = connect(url)
    try:
        db.execute("CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public")
        for name in names:
            db.execute(f"CREATE SCHEMA {name}".encode())
    except psycopg.Error as exc:
        raise failed(url, exc) from exc
    finally:
        release(url, db)
    dsn, env = _dsn_and_env(url)
    argv = [pg_restore, "--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges"]
    argv += [f"--schema={schema}", f"--schema={schema}_trail"]
    try:
        _run([*argv, f"--dbname={dsn}", str(path)], env, url)
    except BaseException:
        db = connect(url)
        try:
            for name in names:
                db.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE".encode())
        finally:
            release(url, db)
        raise
