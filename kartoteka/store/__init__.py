"""Storage: the `Store` interface and its backends."""

from __future__ import annotations

import os
from pathlib import Path

from kartoteka.store.base import Store

DEFAULT_ARCHIVE = "kartoteka.db"


def archive_path(explicit: str | None) -> Path:
    """--archive PATH, else $KARTOTEKA_ARCHIVE, else ./kartoteka.db."""
    return Path(explicit or os.environ.get("KARTOTEKA_ARCHIVE") or DEFAULT_ARCHIVE)


def open_store(path: str | Path) -> Store:
    from kartoteka.store.sqlite import SQLiteStore

    return SQLiteStore(path)


__all__ = ["DEFAULT_ARCHIVE", "Store", "archive_path", "open_store"]
