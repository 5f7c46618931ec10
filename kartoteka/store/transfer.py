"""Moving a whole archive between stores: the export format, and what a backend provides.

An export is a folder (README, "Export, import and backup"):

    manifest.json            format, versions, every table with its columns,
                             row count, bytes and SHA-256, sequences, files
    archive/TABLE.jsonl      one JSON object per row of an archive table
    trail/TABLE.jsonl        the same for the audit trail's tables
    files/audit-anchors      the signed anchors, as far as the trail exported
    files/audit-segments/F   sealed audit segments named by the trail
    keys/audit-key           the audit signing key (always: without it the
                             anchors cannot be verified on the other side)
    keys/sources-key         the key that seals sources' true names (only
                             with `export --with-keys`)

A row is `{"column": value, ...}` with every column of the table; values are
JSON strings, integers, floats or null, and bytes are `{"b64": "..."}`.
Rows are in stored order (rowid, or the primary key of a table without
one), and an importer keeps that order: documents list in the order they
were stored. Nothing here is SQL: a second backend reads and writes the same
files. Derived indexes (SQLite's FTS5 tables) are not exported; an import
rebuilds them from the portions.
"""

from __future__ import annotations

import base64
import functools
import json
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from kartoteka.errors import E, KartotekaError

FORMAT = "kartoteka-export"
FORMAT_VERSION = 1
# trail.meta key holding the renames an import still owes (see `complete_import`).
PENDING = "import_pending"

Value = str | int | float | bytes | None


@dataclass(frozen=True)
class Table:
    """One exported table: which store holds it ("archive" or "trail"), its columns and their declared types."""

    store: str
    name: str
    columns: tuple[tuple[str, str], ...]

    @property
    def file(self) -> str:
        return f"{self.store}/{self.name}.jsonl"

    @functools.cached_property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c for c, _ in self.columns)

    @functools.cached_property
    def column_set(self) -> frozenset[str]:
        return frozenset(self.column_names)


def encode_row(table: Table, row: Sequence[Value]) -> str:
    """One row as its JSON line (without the newline)."""
    obj: dict[str, Any] = {}
    for (name, _), value in zip(table.columns, row, strict=True):
        obj[name] = {"b64": base64.b64encode(value).decode("ascii")} if isinstance(value, bytes) else value
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def decode_row(table: Table, line: str, where: str) -> tuple[Value, ...]:
    """The values of one JSON line, in the table's column order; E144 if it is not a row of this table."""
    try:
        obj = json.loads(line)
    except ValueError as exc:
        raise KartotekaError(E.E144, where=where, reason=f"not JSON ({exc})") from exc
    if type(obj) is not dict or obj.keys() != table.column_set:
        raise KartotekaError(E.E144, where=where, reason=f"expected an object with the columns of {table.name}")
    out: list[Value] = []
    for name, declared in table.columns:
        value = obj[name]
        kind = type(value)
        if kind is dict:
            try:
                value = base64.b64decode(value["b64"], validate=True)
            except (KeyError, TypeError, ValueError) as exc:
                raise KartotekaError(E.E144, where=where, reason=f"{name}: bad bytes value") from exc
        elif not (kind is str or kind is int or kind is float or value is None):  # bool is not int here
            raise KartotekaError(E.E144, where=where, reason=f"{name}: a {kind.__name__} is not a stored value")
        # SQLite would store "zero" in an integer column as it stands and PostgreSQL refuse it
        # without naming the line: a value of the wrong type is refused here, for both.
        if value is not None and type(value) not in _TYPES.get(affinity(declared), (type(value),)):
            shown = "bytes" if isinstance(value, bytes) else json.dumps(value, ensure_ascii=False)[:40]
            raise KartotekaError(E.E144, where=where, reason=f"{name}: {shown} is not a value of type {declared}")
        out.append(value)
    return tuple(out)


# The Python types each kind of column takes (REAL takes integers, as SQL does).
_TYPES: dict[str, tuple[type, ...]] = {"integer": (int,), "real": (float, int), "text": (str,), "blob": (bytes,)}
# PostgreSQL's names for the kinds SQLite declares: an export from either backend says which.
_PG_KINDS = {
    "bigint": "integer",
    "smallint": "integer",
    "double precision": "real",
    "numeric": "real",
    "bytea": "blob",
    "character varying": "text",
}


def affinity(declared: str) -> str:
    """The kind of a declared column type, the same for both backends ("bigint" is "integer")."""
    name = declared.lower()
    return _PG_KINDS.get(name, name)


def _affinities(table: Table) -> dict[str, str]:
    return {name: affinity(kind) for name, kind in table.columns}


def check_tables(have: list[Table], wanted: list[Table]) -> None:
    """E140 unless the export's tables and their columns are the target schema's."""
    ours = {(t.store, t.name): t for t in have}
    theirs = {(t.store, t.name): t for t in wanted}
    for key in sorted(set(ours) ^ set(theirs)):
        where = "the export" if key in theirs else "this Kartoteka's schema"
        raise KartotekaError(E.E140, path="the export", reason=f"table {key[0]}/{key[1]} is only in {where}")
    for key, table in theirs.items():
        # Names and declared types: the types are what each row's values are checked against.
        if _affinities(table) != _affinities(ours[key]):
            raise KartotekaError(E.E140, path="the export", reason=f"the columns of {table.file} differ")


# Rows an empty archive holds of its own (its secret, its trail's binding): left out of
# the emptiness check of an import's target.
OWN_ROWS = frozenset({("archive", "archive_secret"), ("trail", "meta")})


def why_not_empty(tables: list[Table], has_rows: Callable[[Table], bool]) -> str | None:
    """Why an archive with these tables is not empty enough to import into (None: it is);
    the likeliest reasons are looked at, and named, first."""
    first = {"documents": 0, "entities": 1, "users": 2}
    for table in sorted(tables, key=lambda t: (first.get(t.name, 3), t.store, t.name)):
        if (table.store, table.name) not in OWN_ROWS and has_rows(table):
            return "its audit log holds entries" if table.store == "trail" else f"it holds rows in {table.name}"
    return None


class TableReader(Protocol):
    """What an import reads: the export's tables and rows, checked as they are read."""

    def tables(self) -> list[Table]: ...
    def rows(self, table: Table) -> Iterator[tuple[Value, ...]]:
        """The rows of one table, in order; the file's hash and count are compared at its end."""
        ...

    def sequences(self) -> dict[str, int]: ...
    def verify(self) -> None:
        """Raise unless every table was read whole and matched the manifest: called before the commit."""
        ...


class Snapshot(Protocol):
    """A consistent view of an archive and its trail, for an export: the archive first, then the trail."""

    def tables(self) -> list[Table]: ...
    def rows(self, table: Table) -> Iterator[tuple[Value, ...]]: ...
    def sequences(self) -> dict[str, int]: ...


class Backend(Protocol):
    """What export, import and backup need of one archive's storage: SQLite
    (sqlite_transfer.py) and PostgreSQL (postgres_transfer.py) implement it."""

    def snapshot(self) -> AbstractContextManager[Snapshot]: ...
    def emptiness(self) -> str | None:
        """Why the archive is not empty enough to import into (None: it is, or it does not exist)."""
        ...

    def load(self, reader: TableReader, pending: list[tuple[str, str]], progress: Progress | None) -> dict[str, int]:
        """Load every table into the empty archive and its trail in one transaction; rows per table."""
        ...

    def backup(self, dest: Path) -> int:
        """Copy the archive and its trail, as one consistent snapshot, into `dest`;
        returns the last audit entry the copied trail holds."""
        ...


class Progress(Protocol):
    def __call__(self, rows: int, detail: str) -> None: ...


def complete_import(trail: Any, archive: Path) -> None:
    """Finish the renames an import committed but did not get to (a kill right after its commit).

    An import writes the audit key, anchors and segments under staged names
    before its transaction and records, in that same transaction, which staged
    file becomes which; the renames follow the commit. Whoever opens the
    archive next (AuditLog) calls this first, so the commit is the one moment
    that decides: before it the target is as it was, after it the import is whole.
    """
    pending = trail.meta(PENDING)
    if not pending:
        return
    folder = archive.parent
    for staged, final in json.loads(pending):
        if not all(str(n).startswith(archive.name) and "/" not in str(n) for n in (staged, final)):
            continue  # only files beside this archive, named after it, are ever renamed
        source, target = folder / staged, folder / final
        if source.exists() or source.is_symlink():
            os.replace(source, target)
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    with trail.locked():
        trail.set_meta(PENDING, "")
