"""Sealed segments of the audit log: how the trail of reads stays small.

Every read adds an entry (about 340 bytes in SQLite), which at a busy
server's rate is gigabytes a day. `kartoteka audit compact` seals the
entries up to the current head (less `--keep N` recent ones) into one
gzip-compressed JSON Lines file in `ARCHIVE.audit-segments/`, and deletes
them from the live trail. Before anything moves, the head is anchored and
the entries are checked against their chain; the segment's range, last head
and file hash are signed with the audit key and recorded in the trail, so
`audit verify` recomputes the whole chain from genesis through every
segment file and on into the live entries. A segment file that is missing,
changed or cut short is reported; keep segment files (and the anchor file)
with the archive's backups.

A segment file: a header line `{"kartoteka_audit_segment": 1, "first",
"last", "previous"}`, then one `[seq, at, actor, action, subjects, detail]`
array per entry. Heads are not stored: they are recomputed.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kartoteka.errors import E, KartotekaError
from kartoteka.store.trail import Segment

if TYPE_CHECKING:
    from kartoteka.access.audit import AuditLog, Entry

SEGMENT_FORMAT = 1
DELETE_CHUNK = 20_000  # live rows deleted per transaction: appends wait only briefly


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def segment_entries(folder: Path, seg: Segment, problems: list[str]) -> Iterator[tuple[int, Entry]]:
    """The entries of a sealed segment, in order; a missing or damaged file becomes a problem."""
    path = folder / seg.file
    if not path.exists():
        problems.append(f"segment file {seg.file} is missing (entries {seg.first} to {seg.last})")
        return
    if _sha256(path) != seg.sha256:
        problems.append(f"segment file {seg.file} has changed since it was sealed")
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            header = json.loads(fh.readline())
            if (header.get("first"), header.get("last")) != (seg.first, seg.last):
                problems.append(f"segment file {seg.file} holds another range than the one sealed")
            for line in fh:
                seq, at, actor, action, subjects, detail = json.loads(line)
                yield int(seq), (str(at), str(actor), str(action), str(subjects), str(detail))
    except (OSError, EOFError, ValueError, TypeError, AttributeError) as exc:
        problems.append(f"segment file {seg.file} can't be read ({type(exc).__name__}: {exc})")


def compact(log: AuditLog, keep: int = 0) -> dict[str, Any]:
    """Seal the live entries up to the head less `keep` into a segment file."""
    from kartoteka.access.audit import GENESIS, chain

    if keep < 0:
        raise KartotekaError(E.E094, reason=f"--keep must be 0 or more, not {keep}")
    trail = log.trail
    log.flush()
    log.anchor()  # the head as it stands is signed before anything moves
    segs = trail.segments()
    first = segs[-1].last + 1 if segs else 1
    previous = segs[-1].head if segs else GENESIS
    last = trail.last()
    through = (last[0] if last else 0) - keep
    if through < first:
        return {"sealed": 0, "segments": len(segs), "file": None, "bytes": 0}
    folder = trail.segments_dir
    folder.mkdir(mode=0o700, exist_ok=True)
    name = f"{first:012d}-{through:012d}.jsonl.gz"
    final = folder / name
    tmp = folder / f".{name}.{os.getpid()}.tmp"
    head, expected = previous, first
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as raw:
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz, io.TextIOWrapper(gz, encoding="utf-8") as out:
                header = {"kartoteka_audit_segment": SEGMENT_FORMAT, "first": first, "last": through}
                out.write(json.dumps({**header, "previous": previous}) + "\n")
                for seq, at, actor, action, subjects, detail, stored in trail.entries(first - 1, through):
                    # Seal only what verifies: a broken chain is not made permanent.
                    if seq != expected:
                        raise KartotekaError(
                            E.E094, reason=f"entry {expected} is missing; see 'kartoteka audit verify'"
                        )
                    head = chain(head, (at, actor, action, subjects, detail))
                    if head != stored:
                        raise KartotekaError(E.E094, reason=f"entry {seq} does not match its head; see 'audit verify'")
                    out.write(json.dumps([seq, at, actor, action, subjects, detail], ensure_ascii=False) + "\n")
                    expected += 1
            raw.flush()
            os.fsync(raw.fileno())
        if expected != through + 1:
            raise KartotekaError(E.E094, reason=f"entries {expected} to {through} are missing")
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    sha = _sha256(final)
    unsigned = Segment(first, through, head, name, sha, "", datetime.now(UTC).isoformat(timespec="seconds"))
    sig = log.sign(unsigned.signed())
    seg = Segment(first, through, head, name, sha, sig, unsigned.sealed_at)
    with trail.locked():
        now = trail.segments()
        if (now[-1].last if now else 0) != first - 1:
            if name not in {x.file for x in now}:
                final.unlink(missing_ok=True)
            raise KartotekaError(E.E094, reason="another compaction sealed these entries first")
        trail.add_segment(seg)
    # The sealed rows leave the live trail in small transactions.
    while True:
        with trail.locked():
            if not trail.delete_through(through, DELETE_CHUNK):
                break
    trail.vacuum()
    return {
        "sealed": through - first + 1,
        "first": first,
        "last": through,
        "file": str(final),
        "bytes": final.stat().st_size,
        "segments": len(segs) + 1,
    }
