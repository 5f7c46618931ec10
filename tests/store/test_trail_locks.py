"""Opening the audit trail again in one process keeps that process's locks on it.

Closing any descriptor of a file drops every POSIX lock the process holds on
it. The trail's constructor opened and closed the file to give it mode 0600,
so a server opening a second user's archive released the SQLite locks of its
other connections to the trail; another process closing its connection then
took itself for the last one and checkpointed and deleted the WAL under them
(found by bench/soak.py: zeroed pages in the trail, `audit verify` failing).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from kartoteka.store.trail import SQLiteAuditTrail

# Can another process take an exclusive lock on SQLite's shared-lock range
# (PENDING_BYTE + 2, 510 bytes)? Only if no connection holds a shared lock.
PROBE = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
try:
    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 510, 0x40000002)
    print("free")
except OSError:
    print("held")
"""


def _probe(path: Path) -> str:
    return subprocess.run(
        [sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_second_open_keeps_the_first_connections_lock(tmp_path: Path) -> None:
    first = SQLiteAuditTrail(tmp_path / "a.db")
    try:
        assert first.last() is None
        assert _probe(first.path) == "held"
        second = SQLiteAuditTrail(tmp_path / "a.db")
        try:
            assert _probe(first.path) == "held"
        finally:
            second.close()
        assert _probe(first.path) == "held"
    finally:
        first.close()


def test_new_trail_is_private(tmp_path: Path) -> None:
    trail = SQLiteAuditTrail(tmp_path / "b.db")
    try:
        assert trail.path.stat().st_mode & 0o777 == 0o600
    finally:
        trail.close()
