"""Whether an archive is being served, and by whom.

An archive is *being served* while a `kartoteka serve` process holds a shared
`flock` on `ARCHIVE.serving` (mode 0600, holding the server's pid). The lock,
not the file, is the fact: it ends with the process however the process
ends (even `kill -9`), so a stale file never makes an archive look served.
Several servers may hold it at once.

The command line acts with the owner's authority, or with `--as USER` with
that user's, without a password: that is the file owner's prerogative (they
can read the file anyway). On an archive being served, users are the
server's, who log in with passwords; so there the command line is refused to
anyone but the owner of the file (see `cli/common.py`).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType


def lock_path(archive: Path) -> Path:
    return archive.with_name(archive.name + ".serving")


class ServingLock:
    """Held by a server for as long as it serves `archive`."""

    def __init__(self, archive: Path | str) -> None:
        # A PostgreSQL archive (a URL) is served from its keys folder (kartoteka/store/location.py).
        from kartoteka.store.location import side_path

        self.path = lock_path(side_path(archive))
        self._fd: int | None = None

    def __enter__(self) -> ServingLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        # Blocking: a probe holds the exclusive lock only for an instant.
        fcntl.flock(fd, fcntl.LOCK_SH)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def serving_pid(archive: Path) -> int | None:
    """The pid of a server holding the archive, 0 if it is held but the pid is unreadable, None if not served."""
    path = lock_path(archive)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    except PermissionError:
        return 0  # a lock file we may not even read: fail closed, as if served
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.read(fd, 32).decode("ascii", "replace").strip()
            return int(text) if text.isdigit() else 0
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def owns(archive: Path) -> bool:
    """Is the caller the owner of the archive file?"""
    return archive.stat().st_uid == os.geteuid()
