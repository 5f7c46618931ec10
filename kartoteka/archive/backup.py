"""Backup and restore of an archive (owner only): its files, copied consistently while others write.

`backup` copies the archive and its audit trail with SQLite's online
backup API (store/sqlite_transfer.py), then the anchors (up to the entries
the trail's copy holds), the sealed audit segments and both keys, into
`DEST.partial`, renamed to DEST when complete; every file keeps the name it
has beside the archive, so the folder is itself an archive that opens
where it lies. `backup.json` lists every file with its size and SHA-256.
`restore` checks each file against it and copies them beside a new
archive path, the archive file last.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kartoteka.archive.common import Context
from kartoteka.archive.transfer import (
    SEGMENT,
    anchors_upto,
    backend_for,
    companion,
    copy_new,
    finish_folder,
    fsync_dir,
    make_dir,
    now,
    sha256_file,
    shown,
    start_folder,
    write_new,
    written_by,
)
from kartoteka.errors import E, KartotekaError
from kartoteka.store.location import Location, is_postgres, parse, side_path
from kartoteka.store.transfer import FORMAT_VERSION

BACKUP_FORMAT = "kartoteka-backup"


def backup_archive(ctx: Context, dest: Path, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Copy the archive, its trail, anchors, segments and keys into the folder `dest`, consistently
    while other processes write (SQLite's online backup API; pg_dump of one snapshot), as files named
    as they are beside it (a PostgreSQL archive: as its side files are, and its dump `NAME.pgdump`)."""
    from kartoteka.store.postgres_backup import DUMP_SUFFIX
    from kartoteka.store.sqlite_transfer import trail_path

    ctx.owner_only("back up the archive")
    partial = start_folder(dest)
    path = ctx.path
    try:
        ctx.audit.record(ctx.actor, "backup", [], detail=str(dest))
        ctx.audit.anchor()
        if progress:
            progress("archive and audit trail")
        last = backend_for(ctx.target).backup(partial)
        anchors = anchors_upto(companion(path, "audit-anchors"), last)
        if anchors is not None:
            write_new(partial / companion(path, "audit-anchors").name, anchors)
        segs = companion(path, "audit-segments")
        if segs.is_dir():
            if progress:
                progress("audit segments")
            make_dir(partial / segs.name)
            for f in sorted(segs.iterdir()):
                if SEGMENT.match(f.name):
                    copy_new(f, partial / segs.name / f.name)
        for role in ("audit-key", "sources-key"):
            if companion(path, role).exists():
                copy_new(companion(path, role), partial / companion(path, role).name)
        files = []
        for f in sorted(p for p in partial.rglob("*") if p.is_file()):
            digest, size = sha256_file(f)
            files.append({"file": f.relative_to(partial).as_posix(), "bytes": size, "sha256": digest})
        on_postgres = is_postgres(ctx.target)
        manifest = {
            "format": BACKUP_FORMAT,
            "format_version": FORMAT_VERSION,
            "backend": "postgresql" if on_postgres else "sqlite",
            "archive": path.name,
            "schema_version": ctx.store.schema_version(),
            "written_by": written_by(),
            "created_at": now(),
            "audit_entries": last,
            "files": files,
        }
        if on_postgres:
            manifest["dump"] = path.name + DUMP_SUFFIX
            manifest["schema"] = parse(str(ctx.target))[1]
        else:
            manifest["trail"] = trail_path(path).name
        write_new(partial / "backup.json", (json.dumps(manifest, indent=1) + "\n").encode())
        finish_folder(partial, dest)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return {"backup": str(dest), "archive": path.name, "files": len(files), "audit_entries": last}


def restore_backup(backup: Path, where: Location) -> dict[str, Any]:
    """Copy a backup's files to `where` and its companions, after checking each against backup.json
    (a PostgreSQL backup: its dump restored with pg_restore, the side files beside its keys)."""
    from kartoteka.store import postgres_backup

    try:
        m = json.loads((backup / "backup.json").read_text(encoding="utf-8"))
        name = str(m["archive"])
        files = [(str(f["file"]), int(f["bytes"]), str(f["sha256"])) for f in m["files"]]
        backend = str(m.get("backend", "sqlite"))
        dump = str(m["dump"]) if backend == "postgresql" else None
    except FileNotFoundError as exc:
        raise KartotekaError(E.E147, path=backup, reason="it has no backup.json") from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise KartotekaError(E.E147, path=backup, reason=f"backup.json can't be read ({exc!r})") from exc
    if m.get("format") != BACKUP_FORMAT or "/" in name or backend not in ("sqlite", "postgresql"):
        raise KartotekaError(E.E147, path=backup, reason="backup.json is not a Kartoteka backup manifest")
    if (backend == "postgresql") != is_postgres(where):
        kinds = ("a PostgreSQL", "a postgresql:// URL") if backend == "postgresql" else ("a SQLite", "a file")
        raise KartotekaError(
            E.E148, path=shown(where), reason=f"it is {kinds[0]} archive's backup: restore it to {kinds[1]}"
        )
    target = side_path(where)
    plan: list[tuple[Path, Path]] = []
    for rel, size, sha in files:
        parts = rel.split("/")
        if not parts[0].startswith(name) or ".." in parts or len(parts) > 2:
            raise KartotekaError(E.E147, path=backup, reason=f"it names a file outside the archive: {rel}")
        source = backup / rel
        if not source.is_file() or sha256_file(source) != (sha, size):
            raise KartotekaError(E.E147, path=backup, reason=f"{rel} is missing or has changed")
        if rel == dump:
            continue  # loaded by pg_restore, below, not copied
        parts[0] = target.name + parts[0][len(name) :]
        plan.append((source, target.parent.joinpath(*parts)))
    if dump is not None and dump not in {rel for rel, _, _ in files}:
        raise KartotekaError(E.E147, path=backup, reason=f"backup.json lists no {dump}")
    tops = ({target} if dump is None else set()) | {
        target.parent / t.relative_to(target.parent).parts[0] for _, t in plan
    }
    present = sorted(str(t) for t in tops if t.exists() or t.is_symlink())
    if present:
        raise KartotekaError(E.E148, path=shown(where), reason=f"{present[0]} exists; move it away first")
    if dump is not None:
        postgres_backup.check_target(str(where), backup / dump)
    # The archive file last: until it is in place nothing opens the rest as an archive.
    plan.sort(key=lambda p: p[1] == target)
    for source, dest in plan:
        if dest.parent != target.parent and not dest.parent.exists():
            make_dir(dest.parent)
        tmp = dest.with_name(dest.name + ".restoring")
        tmp.unlink(missing_ok=True)
        copy_new(source, tmp)
        os.replace(tmp, dest)
    fsync_dir(target.parent)
    if dump is not None:
        # The database last, as the archive file is last: until it is there nothing opens the rest.
        try:
            postgres_backup.restore(str(where), backup / dump)
        except BaseException:
            for _, copied in plan:
                copied.unlink(missing_ok=True)
            for folder in {copied.parent for _, copied in plan} - {target.parent}:
                shutil.rmtree(folder, ignore_errors=True)  # the segments folder the copy made
            raise
    return {"archive": shown(where), "backup": str(backup), "files": len(plan) + (dump is not None)}
