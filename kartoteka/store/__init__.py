"""Storage: the `Store` interface and its backends (SQLite files, PostgreSQL URLs)."""

from __future__ import annotations

import os
from pathlib import Path

from kartoteka.store.base import Store
from kartoteka.store.location import Location, is_postgres

DEFAULT_ARCHIVE = "kartoteka.db"


def archive_path(explicit: str | None) -> Location:
    """--archive PATH|URL, else $KARTOTEKA_ARCHIVE, else ./kartoteka.db. A postgresql:// URL stays a string."""
    chosen = explicit or os.environ.get("KARTOTEKA_ARCHIVE") or DEFAULT_ARCHIVE
    return chosen if is_postgres(chosen) else Path(chosen)


def open_store(path: Location) -> Store:
    if is_postgres(path):
        from kartoteka.store.postgres import PostgresStore

        return PostgresStore(str(path))
    from kartoteka.store.sqlite import SQLiteStore

    return SQLiteStore(path)


__all__ = ["DEFAULT_ARCHIVE", "Location", "Store", "archive_path", "open_store"]
