"""Files of an archive are private to their owner.

The archive holds everything: anyone who can read the file reads every
compartment, so it is created mode 0600, like its keys. SQLite gives its
write-ahead log and shared-memory file the mode of the database they belong
to, so creating the database 0600 covers them too.
"""

from __future__ import annotations

import os
from pathlib import Path

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
