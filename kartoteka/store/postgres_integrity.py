"""Is this PostgreSQL schema a sound archive? `kartoteka doctor` on a postgresql:// archive.

The checks are SQLite's (store/integrity.py), made with what PostgreSQL
offers instead:

- header: the schema is a Kartoteka archive (`kartoteka_schema`) of a
  version this program reads, with its audit trail's schema beside it;
- pages: PostgreSQL checks its own pages when data checksums are on (the
  database's count of checksum failures is read), and the `amcheck`
  extension, where it is installed in the database, checks every B-tree
  index of the archive and its trail against its table (`bt_index_check`,
  with `heapallindexed`). With neither, the pages cannot be checked from
  here: the check says so (`ok` null) without failing the doctor, since
  only the server's configuration could change that;
- schema: every table, index and constraint the migrations make. What they
  make is learned by running them in a scratch schema inside a transaction
  that is rolled back, so the list is exact for this version and nothing is
  written;
- foreign keys: PostgreSQL enforces them, but a constraint left NOT VALID,
  its triggers disabled, or rows loaded with `session_replication_role =
  replica` leave rows pointing nowhere; every foreign key is re-checked by
  an anti-join;
- full text: each search partition has its table, and each text portion
  sits in the table of its partition, once, with the tsvector of its text.

Nothing here writes: the scratch schema is made and dropped in one rolled
back transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

import psycopg
from psycopg.rows import TupleRow

from kartoteka.store import postgres_search as search
from kartoteka.store.integrity import MAX_PROBLEMS, Check
from kartoteka.store.postgres_pool import quote_ident
from kartoteka.store.postgres_trail import trail_schema
from kartoteka.store.tsquery import CONFIG

Conn = psycopg.Connection[TupleRow]
# The search tables are made per label partition as documents arrive, so no
# migration names them; they are checked by the full-text check instead.
_TSV = "portions_tsv_"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _objects(db: Conn, schema: str) -> set[tuple[str, str]]:
    """(kind, name) of the tables, indexes, sequences, views and constraints of `schema`."""
    kinds = {"r": "table", "i": "index", "S": "sequence", "v": "view", "p": "table"}
    rows = db.execute(
        "SELECT c.relkind::text, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid=c.relnamespace"
        " WHERE n.nspname=%s AND c.relkind IN ('r','i','S','v','p')",
        (schema,),
    ).fetchall()
    out = {(kinds[str(k)], str(name)) for k, name in rows}
    cons = db.execute(
        "SELECT t.relname, k.conname FROM pg_constraint k JOIN pg_class t ON t.oid=k.conrelid"
        " JOIN pg_namespace n ON n.oid=t.relnamespace WHERE n.nspname=%s",
        (schema,),
    ).fetchall()
    out |= {("constraint", f"{t}.{c}") for t, c in cons}
    return {o for o in out if not o[1].startswith(_TSV)}


def expected_objects(db: Conn, migrations: list[tuple[int, str]], version: int) -> set[tuple[str, str]]:
    """What migrations up to `version` make, learned in a scratch schema that is rolled back."""
    scratch = f"kartoteka_doctor_{secrets.token_hex(6)}"
    db.execute("BEGIN")
    try:
        db.execute(f"CREATE SCHEMA {quote_ident(scratch)}")
        db.execute(f"SET LOCAL search_path TO {quote_ident(scratch)}, public")
        for v, sql in migrations:
            if v > version:
                break
            db.execute(sql.encode())  # a migration file: SQL text, no parameters
        return _objects(db, scratch)
    finally:
        db.execute("ROLLBACK")


def _header(db: Conn, schema: str, supported: int) -> tuple[Check, int]:
    check = Check("header")
    found = db.execute("SELECT to_regclass(%s)", (f"{quote_ident(schema)}.kartoteka_schema",)).fetchone()
    if found is None or found[0] is None:
        check.problems.append(f"schema {schema} holds no Kartoteka archive (no kartoteka_schema table)")
        return check, 0
    row = db.execute("SELECT application, version FROM kartoteka_schema").fetchone()
    if row is None or row[0] != "kartoteka":
        check.problems.append("not marked as a Kartoteka archive (kartoteka_schema)")
        return check, 0
    version = int(row[1])
    if version > supported:
        check.problems.append(f"schema version {version} is newer than this Kartoteka supports ({supported})")
    trail = db.execute(
        "SELECT count(*) FROM pg_tables WHERE schemaname=%s AND tablename='kartoteka_trail'", (trail_schema(schema),)
    ).fetchone()
    if not trail or not int(trail[0]):
        check.problems.append(f"its audit trail's schema {trail_schema(schema)} is missing")
    check.note = f"schema {schema}, version {version}" + (
        f"; the next open migrates it to {supported}" if version < supported else ""
    )
    return check, version


def _pages(db: Conn, schema: str) -> Check:
    check = Check("pages")
    notes: list[str] = []
    row = db.execute("SHOW data_checksums").fetchone()
    checksums = bool(row and row[0] == "on")
    if checksums:
        failures = db.execute(
            "SELECT coalesce(checksum_failures, 0) FROM pg_stat_database WHERE datname=current_database()"
        ).fetchone()
        n = int(failures[0]) if failures else 0
        if n:
            check.problems.append(f"the database has met {n} page(s) whose checksum failed")
        notes.append("data checksums on")
    else:
        notes.append("data checksums off")
    installed = db.execute(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid=e.extnamespace WHERE e.extname='amcheck'"
    ).fetchone()
    if installed is None:
        notes.append("amcheck not installed (CREATE EXTENSION amcheck lets doctor check every index page)")
        check.note = "; ".join(notes)
        check.ran = checksums
        check.required = False
        return check
    where = quote_ident(str(installed[0]))
    indexes = db.execute(
        "SELECT c.oid, n.nspname, c.relname FROM pg_index i JOIN pg_class c ON c.oid=i.indexrelid"
        " JOIN pg_namespace n ON n.oid=c.relnamespace JOIN pg_am a ON a.oid=c.relam"
        " WHERE n.nspname = ANY(%s) AND a.amname='btree' ORDER BY n.nspname, c.relname",
        ([schema, trail_schema(schema)],),
    ).fetchall()
    for oid, nsp, name in indexes:
        try:
            # heapallindexed: every row of the table is found in the index, not
            # only the index's own pages in order.
            db.execute(f"SELECT {where}.bt_index_check(%s::regclass, true)", (int(oid),))
        except psycopg.Error as exc:
            check.problems.append(f"index {nsp}.{name}: {_first_line(exc)}")
            if len(check.problems) >= MAX_PROBLEMS:
                break
    notes.append(f"{len(indexes)} B-tree indexes checked by amcheck")
    check.note = "; ".join(notes)
    return check


def _schema(db: Conn, schema: str, migrations: list[tuple[int, str]], version: int) -> Check:
    check = Check("schema")
    try:
        want = expected_objects(db, migrations, version)
    except psycopg.Error as exc:
        check.ran = False
        check.note = f"the migrations could not be run in a scratch schema: {_first_line(exc)}"
        return check
    missing = want - _objects(db, schema)
    # Tables first: "table mentions missing" says more than the indexes that went with it.
    order = {"table": 0, "constraint": 2}
    check.problems.extend(f"{k} {n} missing" for k, n in sorted(missing, key=lambda o: (order.get(o[0], 1), o)))
    check.note = f"{len(want)} tables, indexes and constraints expected"
    return check


def _foreign_keys(db: Conn, schema: str) -> Check:
    check = Check("foreign_keys")
    fks = db.execute(
        "SELECT k.conname, k.convalidated, t.relname, p.relname,"
        " array(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(n, i)"
        "       JOIN pg_attribute a ON a.attrelid=k.conrelid AND a.attnum=u.n ORDER BY u.i),"
        " array(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY u(n, i)"
        "       JOIN pg_attribute a ON a.attrelid=k.confrelid AND a.attnum=u.n ORDER BY u.i)"
        " FROM pg_constraint k JOIN pg_class t ON t.oid=k.conrelid JOIN pg_class p ON p.oid=k.confrelid"
        " JOIN pg_namespace n ON n.oid=t.relnamespace WHERE n.nspname=%s AND k.contype='f' ORDER BY 3, 1",
        (schema,),
    ).fetchall()
    disabled = db.execute(
        "SELECT DISTINCT t.relname FROM pg_trigger g JOIN pg_class t ON t.oid=g.tgrelid"
        " JOIN pg_namespace n ON n.oid=t.relnamespace WHERE n.nspname=%s AND g.tgisinternal AND g.tgenabled='D'"
        " ORDER BY 1",
        (schema,),
    ).fetchall()
    check.problems.extend(f"the foreign-key triggers of {t} are disabled" for (t,) in disabled)
    for name, valid, child, parent, cols, pcols in fks:
        if not valid:
            check.problems.append(f"constraint {child}.{name} is NOT VALID")
        c = [quote_ident(str(x)) for x in cols]
        p = [quote_ident(str(x)) for x in pcols]
        # MATCH SIMPLE: a row with any NULL in the key points at nothing and needs nothing.
        present = " AND ".join(f"c.{x} IS NOT NULL" for x in c)
        joined = " AND ".join(f"p.{y} = c.{x}" for x, y in zip(c, p, strict=True))
        row = db.execute(
            f"SELECT count(*) FROM {quote_ident(str(child))} c WHERE {present}"
            f" AND NOT EXISTS (SELECT 1 FROM {quote_ident(str(parent))} p WHERE {joined})"
        ).fetchone()
        n = int(row[0]) if row else 0
        if n:
            check.problems.append(f"{n} row(s) of {child} point to missing rows of {parent}")
        if len(check.problems) >= MAX_PROBLEMS:
            break
    check.note = f"{len(fks)} foreign keys"
    return check


def _full_text(db: Conn) -> Check:
    check = Check("full_text")
    parts = search.partitions(db)
    check.note = f"{len(parts)} search partition(s)"
    # The partition a text portion belongs in, as postgres_search.index_portions files it.
    expected = (
        "SELECT p.id AS pid, sp.id AS part FROM portions p JOIN documents d ON d.id=p.document_id"
        " LEFT JOIN search_partitions sp ON sp.document_label=coalesce(d.label, '')"
        " AND sp.portion_label=coalesce(nullif(p.label, ''), coalesce(d.label, '')) WHERE p.kind='text'"
    )
    row = db.execute(f"SELECT count(*) FROM ({expected}) e WHERE e.part IS NULL").fetchone()
    if row and int(row[0]):
        check.problems.append(f"{int(row[0])} text portion(s) belong to no search partition")
    for part, _dlabel, _plabel in parts:
        name = search.table(part)
        exists = db.execute("SELECT to_regclass(%s)", (name,)).fetchone()
        if exists is None or exists[0] is None:
            check.problems.append(f"{name} is missing (search partition {part})")
            continue
        stray, absent, stale = (
            int(x)
            for x in db.execute(
                f"WITH e AS ({expected}) SELECT"
                f" (SELECT count(*) FROM {name} t WHERE NOT EXISTS"
                f"   (SELECT 1 FROM e WHERE e.pid=t.portion_id AND e.part=%s)),"
                f" (SELECT count(*) FROM e WHERE e.part=%s AND NOT EXISTS"
                f"   (SELECT 1 FROM {name} t WHERE t.portion_id=e.pid)),"
                f" (SELECT count(*) FROM {name} t JOIN portions p ON p.id=t.portion_id"
                f"   WHERE t.tsv <> to_tsvector('{CONFIG}', p.text))",
                (part, part),
            ).fetchone()
            or (0, 0, 0)
        )
        if stray:
            check.problems.append(f"{name} holds {stray} portion(s) that are not of its partition")
        if absent:
            check.problems.append(f"{name} lacks {absent} text portion(s) of its partition")
        if stale:
            check.problems.append(f"{name} holds {stale} portion(s) whose text has changed since")
    known = {search.table(p) for p, _, _ in parts}
    tables = db.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname=current_schema() AND tablename LIKE 'portions\\_tsv\\_%%'"
    ).fetchall()
    check.problems.extend(f"{t} belongs to no search partition" for (t,) in tables if t not in known)
    return check


def full_check(db: Conn, schema: str, migrations: list[tuple[int, str]], supported: int) -> list[Check]:
    """Every check the doctor makes of a PostgreSQL archive, in order (the audit log aside)."""
    header, version = _header(db, schema, supported)
    names = ("pages", "schema", "foreign_keys", "full_text")  # the checks after the header
    if version == 0 or version > supported:
        # Not an archive, or one of a later version: the other checks would only repeat it.
        return [header, *(Check(n, note="not an archive this version reads", ran=False) for n in names)]
    return [
        header,
        _guarded("pages", lambda: _pages(db, schema)),
        _guarded("schema", lambda: _schema(db, schema, migrations, version)),
        _guarded("foreign_keys", lambda: _foreign_keys(db, schema)),
        _guarded("full_text", lambda: _full_text(db)),
    ]


def _guarded(name: str, make: Callable[[], Check]) -> Check:
    """A check that a database error stops is reported as that error, and the others still run."""
    try:
        return make()
    except psycopg.Error as exc:
        return Check(name, problems=[_first_line(exc)])
