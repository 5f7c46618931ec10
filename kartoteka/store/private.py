"""Files of an archive are private to their owner.

The archive holds everything: anyone who can read the file reads every
compartment, so it is created mode 0600, like its keys. SQLite gives its
write-ahead log and shared-memory file the mode of the database they belong
to, so creating the database 0600 covers them too.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any

MODE = 0o600


def create_private(path: str | Path) -> None:
    """Create `path` empty with mode 0600 unless it exists (SQLite then opens it as a new database)."""
    if str(path) == ":memory:" or str(path).startswith("file:"):
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, MODE)
    except FileExistsError:
        return
    os.close(fd)


def open_private(path: str | Path, text: bool = True) -> IO[Any]:
    """Open a file to write, truncated, mode 0600 whatever it had before.

    Exports (release copies, networks, batch screens) hold what their
    author may see, which other users of the machine may not: they are
    written as privately as the archive they come from.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, MODE)
    os.fchmod(fd, MODE)
    if text:
        return os.fdopen(fd, "w", newline="", encoding="utf-8")
    return os.fdopen(fd, "wb")


def write_private(path: str | Path, data: bytes) -> None:
    with open_private(path, text=False) as fh:
        fh.write(data)
