"""A whole archive out and in: export to a folder, import from one, backup and restore (owner only).

The format is documented in kartoteka/store/transfer.py and the README
("Export, import and backup"). What is here is backend-neutral: folders,
manifests, checksums and keys; the rows are read and written by the store's
`Backend` (SQLite: kartoteka/store/sqlite_transfer.py).

Everything is written as privately as the archive (folders 0700, files
0600) and atomically: into `DEST.partial`, renamed to DEST when complete.
An import checks every file against the manifest before it writes anything,
and again as it reads (the rows go in one transaction that a mismatch rolls
back); the target must be empty, and is as it was after any failure or kill.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from kartoteka.archive.common import Context
from kartoteka.errors import E, KartotekaError
from kartoteka.store.location import Location, display, is_postgres, side_path
from kartoteka.store.private import MODE
from kartoteka.store.transfer import FORMAT, FORMAT_VERSION, Backend, Progress, Table, Value, decode_row, encode_row

DIR_MODE = 0o700
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
SEGMENT = re.compile(r"^[0-9]{12}-[0-9]{12}\.jsonl\.gz$")
# Files beside an archive, by role: where they live, relative to ARCHIVE's name.
COMPANIONS = {
    "audit-key": ".audit-key",
    "audit-anchors": ".audit-anchors",
    "audit-segments": ".audit-segments",
    "sources-key": ".sources-key",
}


def backend_for(target: Location) -> Backend:
    """The transfer backend of an archive: a SQLite file, or a PostgreSQL URL."""
    if is_postgres(target):
        from kartoteka.store.postgres_transfer import PostgresTransfer

        return PostgresTransfer(str(target))
    from kartoteka.store.sqlite_transfer import SQLiteTransfer

    return SQLiteTransfer(Path(target))


def shown(where: Location) -> str:
    """An archive's location as messages and results show it: never a password."""
    return display(str(where)) if is_postgres(where) else str(where)


def companion(archive: Path, role: str) -> Path:
    return archive.with_name(archive.name + COMPANIONS[role])


def written_by() -> str:
    try:
        return f"kartoteka {version('kartoteka')}"
    except PackageNotFoundError:
        return "kartoteka"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def sha256_file(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_dir(path: Path) -> None:
    path.mkdir(mode=DIR_MODE)
    os.chmod(path, DIR_MODE)  # whatever the umask


def write_new(path: Path, data: bytes) -> dict[str, Any]:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, MODE)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def copy_new(source: Path, target: Path) -> dict[str, Any]:
    """Copy a file 0600, fsynced; its size and hash as copied."""
    digest, size = hashlib.sha256(), 0
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, MODE)
    with os.fdopen(fd, "wb") as out, source.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            out.write(block)
            digest.update(block)
            size += len(block)
        out.flush()
        os.fsync(out.fileno())
    return {"bytes": size, "sha256": digest.hexdigest()}


def anchors_upto(path: Path, last: int) -> bytes | None:
    """The anchor file's lines that sign entries up to `last`: an anchor written after
    the trail was read would sign an entry the copy does not hold. Unreadable lines
    are kept as they are (verify reports them there as here)."""
    if not path.exists():
        return None
    kept = []
    for line in path.read_bytes().splitlines(keepends=True):
        try:
            if int(json.loads(line)["seq"]) > last:
                continue
        except (ValueError, KeyError, TypeError):
            pass
        kept.append(line if line.endswith(b"\n") else line + b"\n")
    return b"".join(kept)


def start_folder(dest: Path) -> Path:
    if dest.exists() or dest.is_symlink():
        raise KartotekaError(E.E145, path=dest)
    partial = dest.with_name(dest.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)  # a run that was killed: its half-written folder
    make_dir(partial)
    return partial


def finish_folder(partial: Path, dest: Path) -> None:
    for folder, _dirs, _files in os.walk(partial):
        fsync_dir(Path(folder))
    os.replace(partial, dest)
    fsync_dir(dest.parent)


# export ----------------------------------------------------------------------
def export_archive(ctx: Context, dest: Path, with_keys: bool, progress: Progress | None = None) -> dict[str, Any]:
    """Write the whole archive, its audit trail, anchors and segments (and keys) to the folder `dest`."""
    from kartoteka.store.sqlite import SCHEMA_VERSION
    from kartoteka.store.trail import TRAIL_VERSION

    ctx.owner_only("export the archive")
    partial = start_folder(dest)
    try:
        # The export is in its own audit log: recorded and signed before the snapshot.
        ctx.audit.record(ctx.actor, "export", [], detail=str(dest))
        ctx.audit.anchor()
        for sub in ("archive", "trail", "files", "keys"):
            make_dir(partial / sub)
        tables: list[dict[str, Any]] = []
        files: list[dict[str, Any]] = []
        last, segments = 0, []
        with backend_for(ctx.target).snapshot() as snap:
            for table in snap.tables():
                entry, seen = _write_table(partial, table, snap.rows(table), progress)
                tables.append(entry)
                if table.store == "trail" and table.name in ("audit", "segments"):
                    last = max(last, seen.get("last", 0))
                    segments.extend(seen.get("files", []))
            sequences = snap.sequences()
            # Read while the trail's snapshot is held: anchors up to what it holds, the segments it names.
            anchors = anchors_upto(companion(ctx.path, "audit-anchors"), last)
            if anchors is not None:
                files.append(
                    {"role": "audit-anchors", "file": "files/audit-anchors"}
                    | write_new(partial / "files/audit-anchors", anchors)
                )
            if segments:
                make_dir(partial / "files/audit-segments")
            for name in segments:
                rel = f"files/audit-segments/{name}"
                source = companion(ctx.path, "audit-segments") / name
                files.append({"role": "audit-segment", "file": rel} | copy_new(source, partial / rel))
        for role in ("audit-key", "sources-key") if with_keys else ("audit-key",):
            if companion(ctx.path, role).exists():
                files.append(
                    {"role": role, "file": f"keys/{role}"}
                    | copy_new(companion(ctx.path, role), partial / "keys" / role)
                )
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "schema_version": SCHEMA_VERSION,
            "trail_version": TRAIL_VERSION,
            "written_by": written_by(),
            "created_at": now(),
            "with_keys": with_keys,
            "tables": tables,
            "sequences": sequences,
            "files": files,
            "rebuilt": ["portions_fts", "portions_fts_N (one per search partition)"],
        }
        write_new(partial / "manifest.json", (json.dumps(manifest, indent=1, ensure_ascii=False) + "\n").encode())
        finish_folder(partial, dest)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    rows = sum(int(t["rows"]) for t in tables)
    return {"export": str(dest), "tables": len(tables), "rows": rows, "files": len(files), "with_keys": with_keys}


def _write_table(
    folder: Path, table: Table, rows: Iterator[tuple[Value, ...]], progress: Progress | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One table's JSON lines; its manifest entry, and what the trail's rows say of the log's extent."""
    digest, size, n = hashlib.sha256(), 0, 0
    seen: dict[str, Any] = {"last": 0, "files": []}
    cols = table.column_names
    key = {"audit": "seq", "segments": "last"}.get(table.name) if table.store == "trail" else None
    fd = os.open(folder / table.file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, MODE)
    with os.fdopen(fd, "wb") as out:
        for row in rows:
            line = (encode_row(table, row) + "\n").encode()
            out.write(line)
            digest.update(line)
            size, n = size + len(line), n + 1
            if key is not None:
                seen["last"] = max(seen["last"], int(row[cols.index(key)] or 0))
                if table.name == "segments":
                    seen["files"].append(_segment_name(str(row[cols.index("file")])))
            if progress and n % 1000 == 0:
                progress(1000, table.file)
        out.flush()
        os.fsync(out.fileno())
    if progress and n % 1000:
        progress(n % 1000, table.file)
    entry = {
        "store": table.store,
        "name": table.name,
        "file": table.file,
        "columns": [list(c) for c in table.columns],
        "rows": n,
        "bytes": size,
        "sha256": digest.hexdigest(),
    }
    return entry, seen


def _segment_name(name: str) -> str:
    if not SEGMENT.match(name):
        raise KartotekaError(E.E140, path=name, reason="not a segment file name")
    return name


# import ----------------------------------------------------------------------
class ExportReader:
    """An export folder, read and checked against its manifest (a `TableReader`)."""

    def __init__(self, folder: Path) -> None:
        from kartoteka.store.sqlite import SCHEMA_VERSION
        from kartoteka.store.trail import TRAIL_VERSION

        self.folder = folder
        path = folder / "manifest.json"
        try:
            m = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise KartotekaError(E.E140, path=folder, reason="it has no manifest.json") from exc
        except (OSError, ValueError) as exc:
            raise KartotekaError(E.E140, path=folder, reason=f"manifest.json can't be read: {exc}") from exc
        if not isinstance(m, dict) or m.get("format") != FORMAT:
            raise KartotekaError(E.E140, path=folder, reason=f"manifest.json is not a {FORMAT} manifest")
        found = (m.get("format_version"), m.get("schema_version"), m.get("trail_version"))
        if found != (FORMAT_VERSION, SCHEMA_VERSION, TRAIL_VERSION):
            raise KartotekaError(
                E.E143,
                path=folder,
                found=f"export format {found[0]}, schema {found[1]}, trail {found[2]}",
                supported=f"export format {FORMAT_VERSION}, schema {SCHEMA_VERSION}, trail {TRAIL_VERSION}",
            )
        try:
            self._tables = [self._table(t) for t in m["tables"]]
            self._files = [self._file(f) for f in m["files"]]
            self._sequences = {str(k): int(v) for k, v in dict(m["sequences"]).items()}
            if any(not 0 <= v < 2**53 for v in self._sequences.values()):
                raise ValueError("a sequence out of range (0 to 2^53)")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise KartotekaError(E.E140, path=folder, reason=f"manifest.json is malformed ({exc!r})") from exc
        self._read: set[str] = set()

    def _table(self, t: dict[str, Any]) -> tuple[Table, dict[str, Any]]:
        store, name = str(t["store"]), str(t["name"])
        if store not in ("archive", "trail") or not _NAME.match(name):
            raise ValueError(f"bad table {store}/{name}")
        table = Table(store, name, tuple((str(c), str(ty)) for c, ty in t["columns"]))
        if t["file"] != table.file:
            raise ValueError(f"table {name} in {t['file']}")
        return table, {"rows": int(t["rows"]), "bytes": int(t["bytes"]), "sha256": str(t["sha256"])}

    def _file(self, f: dict[str, Any]) -> dict[str, Any]:
        role, rel = str(f["role"]), str(f["file"])
        allowed = {
            "audit-key": "keys/audit-key",
            "sources-key": "keys/sources-key",
            "audit-anchors": "files/audit-anchors",
        }
        if role == "audit-segment":
            if not (rel.startswith("files/audit-segments/") and SEGMENT.match(rel.rsplit("/", 1)[1])):
                raise ValueError(f"bad segment file {rel}")
        elif allowed.get(role) != rel:
            raise ValueError(f"bad file {role}: {rel}")
        return {"role": role, "file": rel, "bytes": int(f["bytes"]), "sha256": str(f["sha256"])}

    def check_files(self) -> None:
        """Every file's size, hash (and, for tables, line count) against the manifest, before anything is written."""
        for table, want in self._tables:
            self._check(table.file, want, lines=True)
        for f in self._files:
            self._check(f["file"], f, lines=False)

    def _check(self, rel: str, want: dict[str, Any], lines: bool) -> None:
        path = self.folder / rel
        if path.is_symlink() or not path.is_file():
            raise KartotekaError(E.E141, path=self.folder, file=rel, reason="missing")
        digest, size, n = hashlib.sha256(), 0, 0
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
                size += len(block)
                n += block.count(b"\n")
        if size != want["bytes"] or digest.hexdigest() != want["sha256"]:
            raise KartotekaError(E.E141, path=self.folder, file=rel, reason="its SHA-256 or size differs")
        if lines and n != want["rows"]:
            raise KartotekaError(
                E.E141, path=self.folder, file=rel, reason=f"{n} rows, the manifest says {want['rows']}"
            )

    def tables(self) -> list[Table]:
        return [t for t, _ in self._tables]

    def total_rows(self) -> int:
        return sum(int(want["rows"]) for _, want in self._tables)

    def files(self) -> list[dict[str, Any]]:
        return list(self._files)

    def sequences(self) -> dict[str, int]:
        return dict(self._sequences)

    def rows(self, table: Table) -> Iterator[tuple[Value, ...]]:
        want = dict(self._tables)[table]
        digest, n = hashlib.sha256(), 0
        with (self.folder / table.file).open("rb") as fh:
            for n, line in enumerate(fh, start=1):
                digest.update(line)
                yield decode_row(table, line.decode("utf-8"), f"{table.file} line {n}")
        # Read again as it went in: a file changed since check_files() is refused here, before the commit.
        if digest.hexdigest() != want["sha256"] or n != want["rows"]:
            raise KartotekaError(E.E141, path=self.folder, file=table.file, reason="it changed while being imported")
        self._read.add(table.file)

    def verify(self) -> None:
        unread = [t.file for t, _ in self._tables if t.file not in self._read]
        if unread:
            raise KartotekaError(E.E141, path=self.folder, file=unread[0], reason="it was not read whole")


def _staged(target: Path, role: str) -> Path:
    return target.with_name(target.name + COMPANIONS[role] + ".import")


def import_archive(source: Path, where: Location, progress: Progress | None = None) -> dict[str, Any]:
    """Load the export in `source` into the empty (or missing) archive at `where` (a file or a URL)."""
    reader = ExportReader(source)
    reader.check_files()
    backend = backend_for(where)
    reason = backend.emptiness()
    # Its side files: beside a SQLite file, in the keys folder of a PostgreSQL archive.
    target = side_path(where)
    if (
        reason is None
        and companion(target, "audit-anchors").exists()
        and companion(target, "audit-anchors").stat().st_size
    ):
        reason = "its anchor file holds anchors"
    segs = companion(target, "audit-segments")
    if reason is None and segs.is_dir() and any(segs.iterdir()):
        reason = "its audit segments folder is not empty"
    if reason:
        raise KartotekaError(E.E142, path=shown(where), reason=reason)
    # Keys, anchors and segments go beside the target under staged names; the
    # transaction records which becomes which, and the renames follow its commit.
    staged: list[Path] = []
    pending: list[tuple[str, str]] = []
    try:
        for role in ("audit-key", "sources-key", "audit-anchors", "audit-segments"):
            path = _staged(target, role)
            if path.is_dir():
                shutil.rmtree(path)
            path.unlink(missing_ok=True)
        for f in reader.files():
            role = "audit-segments" if f["role"] == "audit-segment" else f["role"]
            path = _staged(target, role)
            if role == "audit-segments":
                if not path.exists():
                    make_dir(path)
                    staged.append(path)
                    pending.append((path.name, companion(target, role).name))
                path = path / f["file"].rsplit("/", 1)[1]
            else:
                staged.append(path)
                pending.append((path.name, companion(target, role).name))
            copied = copy_new(source / f["file"], path)
            if copied["sha256"] != f["sha256"]:
                raise KartotekaError(E.E141, path=source, file=f["file"], reason="it changed while being imported")
        counts = backend.load(reader, pending, progress)
    except BaseException:
        for path in staged:
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
        raise
    return {
        "archive": shown(where),
        "export": str(source),
        "tables": len(counts),
        "rows": sum(counts.values()),
        "counts": counts,
        "keys": sorted(f["role"] for f in reader.files() if f["role"].endswith("-key")),
    }
