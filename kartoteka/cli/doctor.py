"""The archive file itself: `init` makes an empty one, `doctor` checks one in full."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

import typer

from kartoteka import render
from kartoteka.archive import Archive
from kartoteka.cli.common import JsonOpt, _archive, _exists, _fail, _report, _shown, app, state
from kartoteka.errors import E, KartotekaError
from kartoteka.store.integrity import Check, database_error, full_check
from kartoteka.store.location import Location, display
from kartoteka.store.sqlite import APPLICATION_ID, SCHEMA_VERSION


@app.command()
def init(json_out: JsonOpt = False) -> None:
    """Create an empty archive at --archive (else $KARTOTEKA_ARCHIVE, else ./kartoteka.db).

    Read commands never create one, so a mistyped --archive is an error rather than an empty answer.
    """
    path = _shown()
    existed = _exists()
    _archive(create=True).close()
    result = {"archive": path, "created": not existed, "schema_version": SCHEMA_VERSION}
    if json_out:
        render.emit_json(result)
    elif existed:
        render.out.print(f"{path} is already an archive (schema version {SCHEMA_VERSION}).")
    else:
        render.out.print(f"Created an empty archive at {path} (schema version {SCHEMA_VERSION}).")


def _message(exc: KartotekaError | sqlite3.DatabaseError, path: Location) -> str:
    return exc.message if isinstance(exc, KartotekaError) else database_error(str(path), exc).message


def _audit(path: Location) -> Check:
    """The audit chain and its anchors, through the archive as every command opens it."""
    check = Check("audit")
    try:
        arch = Archive(path)
    except (KartotekaError, sqlite3.DatabaseError) as exc:
        return Check("audit", note=f"the archive does not open: {_message(exc, path)}", ran=False)
    try:
        result = arch.audit_verify()
        check.problems.extend(str(p) for p in result["problems"])
        check.note = f"{result['entries']} entries, {result['anchors']} signed anchors"
    except (KartotekaError, sqlite3.DatabaseError) as exc:
        check.problems.append(_message(exc, path))
    finally:
        try:
            arch.close()
        except (KartotekaError, sqlite3.DatabaseError) as exc:
            check.problems.append(_message(exc, path))
    return check


def examine(path: Path) -> dict[str, Any]:
    """The doctor's report on the archive at `path` (which must exist)."""
    try:
        # mode=rw: the doctor never creates a file, and its own checks write nothing.
        db = sqlite3.connect(f"file:{quote(str(path))}?mode=rw", uri=True, isolation_level=None)
    except sqlite3.DatabaseError as exc:
        raise database_error(str(path), exc) from exc
    try:
        checks = full_check(db, APPLICATION_ID, SCHEMA_VERSION)
    finally:
        db.close()
    # The audit log is read through the archive, which refuses a file whose
    # structure or schema is damaged; broken references do not stop it.
    opens = all(c.ok is True for c in checks if c.name in ("header", "integrity", "schema"))
    checks.append(_audit(path) if opens else Check("audit", note="the file has the problems above", ran=False))
    return {
        "archive": str(path),
        "bytes": path.stat().st_size,
        "ok": all(c.passed for c in checks),
        "checks": [c.as_json() for c in checks],
    }


def examine_postgres(url: str) -> dict[str, Any]:
    """The doctor's report on the PostgreSQL archive at `url` (kartoteka/store/postgres_integrity.py)."""
    from kartoteka.store import postgres_integrity
    from kartoteka.store.location import parse
    from kartoteka.store.postgres import SCHEMA_VERSION as PG_VERSION
    from kartoteka.store.postgres import migrations
    from kartoteka.store.postgres_pool import connect, release

    _libpq, schema, _keys = parse(url)
    db = connect(url)
    try:
        checks = postgres_integrity.full_check(db, schema, migrations(), PG_VERSION)
    finally:
        release(url, db)
    opens = all(c.ok is True for c in checks if c.name in ("header", "schema"))
    checks.append(_audit(url) if opens else Check("audit", note="the archive has the problems above", ran=False))
    return {"archive": display(url), "ok": all(c.passed for c in checks), "checks": [c.as_json() for c in checks]}


@app.command()
def doctor(json_out: JsonOpt = False) -> None:
    """Check the archive in full: file structure, schema, foreign keys, full-text indexes and the audit log.

    Exit 1 if anything is wrong or could not be checked. The archive owner only: the report covers
    everything the file holds.
    """
    path = state.archive_path
    if not isinstance(path, str) and not path.exists():
        _fail(KartotekaError(E.E110, path=path).message)
    if state.user is not None:
        _archive().close()  # an unknown user is E040, as everywhere
        _fail(KartotekaError(E.E042, action="check the archive's integrity", actor=state.user).message)
    try:
        # A postgresql:// URL is checked with the server's catalogues, a file with SQLite's pragmas.
        report = examine_postgres(path) if isinstance(path, str) else examine(path)
    except KartotekaError as exc:
        _fail(exc.message)
    if json_out:
        render.emit_json(report)
    else:
        size = f": {report['bytes']:,} bytes" if "bytes" in report else ""
        render.out.print(f"{report['archive']}{size}", markup=False, highlight=False)
        for c in report["checks"]:
            verdict = {True: "ok", False: "FAILED", None: "not checked"}[c["ok"]]
            note = f"  ({c['note']})" if c["note"] else ""
            render.out.print(f"  {c['check']:<13} {verdict}{note}", markup=False, highlight=False)
            for problem in c["problems"]:
                render.out.print(f"      {problem}", markup=False, highlight=False)
    failed = [c for c in report["checks"] if c["ok"] is False or (c["ok"] is None and c["required"])]
    if failed:
        summary = "; ".join(
            f"{c['check']}: {c['problems'][0] if c['problems'] else c['note']}"
            + (f" (+{len(c['problems']) - 1} more)" if len(c["problems"]) > 1 else "")
            for c in failed
        )
        _report(KartotekaError(E.E116, problems=summary).message)
        raise typer.Exit(1)
    if not json_out:
        render.out.print("The archive is sound.")
