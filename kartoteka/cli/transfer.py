"""Whole-archive commands: export, import of an export (from `import`), backup and restore. Owner only."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kartoteka import render
from kartoteka.archive import Archive
from kartoteka.archive.backup import restore_backup
from kartoteka.archive.transfer import ExportReader
from kartoteka.cli.common import JsonOpt, _archive, _fail, _progress, _refuse_if_served, _report, app, state
from kartoteka.errors import E, KartotekaError


def _owner(action: str) -> None:
    if state.user is not None:
        _fail(KartotekaError(E.E042, action=action, actor=state.user).message)


@app.command()
def export(
    dest: Annotated[Path, typer.Argument(help="A new folder to write the export to (never overwritten).")],
    with_keys: Annotated[
        bool,
        typer.Option(
            "--with-keys",
            help="Also copy the key that seals protected sources' true names (without it they stay sealed"
            " and can't be opened on the other side). The audit key is always copied.",
        ),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Write the whole archive to a folder: manifest.json and one JSON-lines file per table (owner only).

    Documents, portions, cards, corrections, relations, claims, users (password hashes as they are),
    sealed sources, the audit log with its anchors and segments. 'kartoteka import DIR' loads it
    into another archive.
    """
    _owner("export the archive")
    arch = _archive()
    progress = _progress()
    try:
        with progress:
            task = progress.add_task("Exporting", total=None, detail="")
            result = arch.export(dest, with_keys, lambda n, detail: progress.update(task, advance=n, detail=detail))
    except KartotekaError as exc:
        _fail(exc.message)
    finally:
        arch.close()
    if json_out:
        render.emit_json(result)
    else:
        render.out.print(
            f"Exported {result['rows']:,} rows of {result['tables']} tables and {result['files']} files → {dest}",
            markup=False,
            highlight=False,
        )


def import_export(source: Path, json_out: bool) -> None:
    """`kartoteka import DIR` of a folder made by `export`: into the empty (or missing) --archive."""
    _owner("import an archive")
    _refuse_if_served()
    target = state.archive_path
    try:
        total = ExportReader(source).total_rows()
    except KartotekaError as exc:
        _fail(exc.message)
    progress = _progress()
    try:
        with progress:
            task = progress.add_task("Importing", total=total, detail="")
            result = Archive.import_export(
                source, target, lambda n, detail: progress.update(task, advance=n, detail=detail)
            )
    except KartotekaError as exc:
        _fail(exc.message)
    if json_out:
        render.emit_json(result)
    else:
        keys = f", keys: {', '.join(result['keys'])}" if result["keys"] else ""
        render.out.print(
            f"Imported {result['rows']:,} rows of {result['tables']} tables{keys} → {target}",
            markup=False,
            highlight=False,
        )


@app.command()
def backup(
    dest: Annotated[Path, typer.Argument(help="A new folder for the backup (never overwritten).")],
    json_out: JsonOpt = False,
) -> None:
    """Back up the archive, its audit trail, anchors, segments and keys into a folder (owner only).

    Safe while a server or an ingest writes: SQLite's online backup API copies each file as one
    consistent snapshot. 'kartoteka --archive NEW restore DEST' puts it back.
    """
    _owner("back up the archive")
    arch = _archive()
    progress = _progress()
    try:
        with progress:
            task = progress.add_task("Backing up", total=None, detail="")
            result = arch.backup(dest, lambda detail: progress.update(task, detail=detail))
    except KartotekaError as exc:
        _fail(exc.message)
    finally:
        arch.close()
    if json_out:
        render.emit_json(result)
    else:
        render.out.print(
            f"Backed up {result['archive']} ({result['files']} files, {result['audit_entries']} audit entries) → {dest}",
            markup=False,
            highlight=False,
        )


@app.command()
def restore(
    source: Annotated[Path, typer.Argument(help="A folder made by 'kartoteka backup'.")],
    json_out: JsonOpt = False,
) -> None:
    """Restore a backup to --archive (which must not exist), then check it as 'doctor' does (owner only)."""
    from kartoteka.cli.doctor import examine, examine_postgres

    _owner("restore a backup")
    target = state.archive_path
    try:
        result = restore_backup(source, target)
        report = examine_postgres(target) if isinstance(target, str) else examine(target)
    except KartotekaError as exc:
        _fail(exc.message)
    result["ok"] = report["ok"]
    result["checks"] = report["checks"]
    if json_out:
        render.emit_json(result)
    else:
        render.out.print(f"Restored {result['files']} files → {result['archive']}", markup=False, highlight=False)
    if not report["ok"]:
        failed = [c for c in report["checks"] if c["ok"] is False or (c["ok"] is None and c["required"])]
        _report(
            KartotekaError(E.E116, problems="; ".join(f"{c['check']}: {c['problems'][:1]}" for c in failed)).message
        )
        raise typer.Exit(1)
    if not json_out:
        checked = "doctor: every check ok" if all(c["ok"] for c in report["checks"]) else "doctor: no problem found"
        render.out.print(f"The restored archive is sound ({checked}).")
