"""A tamper-evident audit log: a hash chain with signed, anchored heads.

Each entry is hashed as an RFC 6962 leaf, SHA-256(0x00 || entry), and chained,
head(n) = SHA-256(0x01 || head(n-1) || leaf(n)), so changing, dropping or
reordering any entry changes every later head. Heads are signed with an
Ed25519 key kept beside the archive (`ARCHIVE.audit-key`, mode 0600) and
appended to an anchor file (`ARCHIVE.audit-anchors`). `verify` recomputes the
chain and checks it against every anchor: a deleted anchored entry leaves an
anchor pointing past the end of the log or at a different head; a replayed
old head breaks the anchors' strict order. Keep a copy of the anchor file
where the archive's writers cannot reach it, and it also catches a rewrite
of the whole log.

Where the entries live, and why. Every read is audited, so the trail is not
in the archive: it is a database of its own beside it (`ARCHIVE.audit.sqlite`,
store/trail.py, WAL, mode 0600). A read appends there under that file's write
lock only, never the archive's, and leaves the archive's `data_version`
alone, so other users' caches survive it. An entry is chained under the
trail's write lock in one transaction (BEGIN IMMEDIATE, read the head,
append), so two writers can never chain onto the same predecessor.

A write (a document stored, a merge, an import) must not be able to commit
without its entry, whatever kills the process. SQLite cannot commit two WAL
databases atomically (an ATTACHed pair in WAL mode is atomic per file only),
so a write's entry goes into the archive's `audit_outbox`, in the write's own
transaction, and `flush()` chains outbox rows into the trail right after the
commit. A process killed between the two leaves the rows in the outbox; the
next `AuditLog` opened on the archive (any user's, any command) chains them.
Outbox ids are never reused (AUTOINCREMENT) and the trail records the last one
it chained in the same transaction as the entries, so chaining is idempotent:
an entry is chained exactly once however many processes flush at once. Rows
already chained are deleted from the outbox by the next write's transaction.

Anchors: every `ANCHOR_EVERY` entries, at every close, and whenever a
server's timer calls `anchor()` (thread-safe). An anchor is written under the
trail's lock and only if the head is newer than the last anchor in the file,
so two sessions closing one after the other no longer write the same head
twice. Entries after the last anchor are reported as `unanchored` (a process
killed before it anchored), not as tampering; the trail remembers the last
anchored entry, so a deleted anchor file is still reported.

Entries hold identifiers and keyed hashes (HMAC-SHA-256 under a key derived
from the signing key), never classified text or search terms in the clear.
Old entries can be sealed into compressed segment files (access/segments.py).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from kartoteka.errors import E, KartotekaError
from kartoteka.store.base import Store
from kartoteka.store.transfer import complete_import

GENESIS = "0" * 64
# An anchor at least every this many entries, besides every close and the
# server's timer: a kill -9 leaves at most this many entries unanchored.
ANCHOR_EVERY = 100

Entry = tuple[str, str, str, str, str]  # at, actor, action, subjects, detail


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(previous: bytes, leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + previous + leaf).digest()


def _entry_bytes(at: str, actor: str, action: str, subjects: str, detail: str) -> bytes:
    return json.dumps([at, actor, action, subjects, detail], ensure_ascii=False, separators=(",", ":")).encode()


def chain(previous: str, entry: Entry) -> str:
    """The head after `entry`, chained onto the head `previous` (hex)."""
    return node_hash(bytes.fromhex(previous), leaf_hash(_entry_bytes(*entry))).hex()


@dataclass
class Verification:
    entries: int
    anchors: int
    problems: list[str] = field(default_factory=list)
    unanchored: int = 0  # entries after the last anchor: not yet signed, not tampering
    segments: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "anchors": self.anchors,
            "unanchored": self.unanchored,
            "segments": self.segments,
            "problems": self.problems,
        }


class AuditLog:
    def __init__(self, store: Store, archive_path: Path) -> None:
        self.store = store
        self.archive_path = archive_path
        self.key_path = archive_path.with_name(archive_path.name + ".audit-key")
        self.anchor_path = archive_path.with_name(archive_path.name + ".audit-anchors")
        self.trail = store.audit_trail()
        self._signing: SigningKey | None = None
        self._lock = threading.RLock()
        self._prune_upto = 0  # outbox rows chained: deleted by the next write's transaction
        try:
            self._bind()
            # An import killed after its commit still owes the renames of the key,
            # anchors and segments it staged (kartoteka/store/transfer.py).
            complete_import(self.trail, archive_path)
            self._check_key()
            self._adopt_legacy()
            self.flush()  # entries a killed process committed but did not chain
        except BaseException:
            self.trail.close()
            raise

    # opening -------------------------------------------------------------------
    def _bind(self) -> None:
        """A trail belongs to one archive: a new archive at an old path must not
        chain onto (or skip outbox rows because of) an old archive's trail."""
        tag = self.store.keyed_id("trail", "audit trail")
        found = self.trail.meta("archive")
        if found is None:
            with self.trail.locked():
                found = self.trail.meta("archive")
                if found is None:
                    self.trail.set_meta("archive", tag)
                    found = tag
        if found != tag:
            raise KartotekaError(E.E093, path=self.trail.path)

    def _check_key(self) -> None:
        """Make the key of a new log; refuse to go on without the key of an existing one.

        A missing key is an error, never silently replaced: a new key would
        leave every signed anchor unverifiable and hide a rewrite of the log.
        """
        if self.key_path.exists():
            return
        entries = self.trail.count() + len(self.store.legacy_audit())
        if entries or self.anchor_path.exists():
            raise KartotekaError(E.E091, path=self.key_path, entries=entries)
        key = SigningKey.generate()
        try:
            fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made the archive's key first
            return
        with os.fdopen(fd, "wb") as fh:
            fh.write(bytes(key))

    def _adopt_legacy(self) -> None:
        """Archives before schema 8 kept their entries inside: move them out, heads as they were."""
        rows = self.store.legacy_audit()
        if not rows:
            return
        with self._lock, self.trail.locked():
            last = self.trail.last()
            if last is None:
                for row in rows:
                    self.trail.append(*row)
            elif last[0] < rows[-1][0]:
                raise KartotekaError(E.E092, path=self.trail.path, reason="it holds fewer entries than the archive")
        with self.store.transaction():
            self.store.drop_legacy_audit()

    def _key(self) -> SigningKey:
        with self._lock:
            if self._signing is None:
                try:
                    self._signing = SigningKey(self.key_path.read_bytes())
                except FileNotFoundError as exc:  # deleted while the archive was open
                    raise KartotekaError(E.E091, path=self.key_path, entries=self.trail.count()) from exc
            return self._signing

    def close(self) -> None:
        self.trail.close()

    def sign(self, message: bytes) -> str:
        return self._key().sign(message).signature.hex()

    def compact(self, keep: int = 0) -> dict[str, Any]:
        """Seal old entries into a segment file (access/segments.py)."""
        from kartoteka.access.segments import compact

        return compact(self, keep)

    # writing -------------------------------------------------------------------
    def keyed_hash(self, text: str) -> str:
        """What the log keeps of a search term or a name: useless without the key."""
        mac_key = hashlib.sha256(b"kartoteka audit hmac" + bytes(self._key())).digest()
        return hmac.new(mac_key, text.encode(), hashlib.sha256).hexdigest()

    def record(self, actor: str, action: str, subjects: list[str], detail: str = "") -> None:
        """Log one action. Inside a write transaction the entry commits with the
        write (outbox) and is chained by `flush()` after it; otherwise it is chained now."""
        at = datetime.now(UTC).isoformat(timespec="seconds")
        subj = json.dumps(sorted(set(subjects)), separators=(",", ":"))
        det = self.keyed_hash(detail) if detail else ""
        if self.store.in_transaction():
            if self._prune_upto:
                self.store.audit_outbox_prune(self._prune_upto)
                self._prune_upto = 0
            self.store.audit_outbox_add(at, actor, action, subj, det)
            return
        with self._lock:
            with self.trail.locked():
                due = self._append_locked([(at, actor, action, subj, det)])
            if due:
                self.anchor()

    def flush(self) -> None:
        """Chain the outbox's committed entries into the trail (idempotent, any process may)."""
        if self.store.in_transaction():
            return  # uncommitted rows are not facts yet; the caller flushes after its commit
        done = int(self.trail.meta("outbox") or 0)
        if not self.store.audit_outbox_after(done):
            return
        with self._lock:
            due = False
            with self.trail.locked():
                done = int(self.trail.meta("outbox") or 0)
                rows = self.store.audit_outbox_after(done)
                if rows:
                    due = self._append_locked([r[1:] for r in rows], outbox=rows[-1][0])
                    done = rows[-1][0]
            self._prune_upto = max(self._prune_upto, done)
            if due:
                self.anchor()

    def _append_locked(self, entries: Iterable[Entry], outbox: int | None = None) -> bool:
        """Chain entries onto the head read under the trail's lock (the caller holds it).
        True when an anchor is due; the caller anchors after the commit, so an
        anchor never signs an entry that could still be rolled back."""
        last = self.trail.last()
        seq, head = last if last else (0, GENESIS)
        for entry in entries:
            seq += 1
            head = chain(head, entry)
            self.trail.append(seq, *entry, head)
        if outbox is not None:
            self.trail.set_meta("outbox", str(outbox))
        return seq - int(self.trail.meta("anchored") or 0) >= ANCHOR_EVERY

    # anchoring -----------------------------------------------------------------
    def anchor(self) -> bool:
        """Sign the current head and append it to the anchor file, unless the
        file's last anchor already covers it. Safe from any thread or process."""
        with self._lock, self.trail.locked():
            last = self.trail.last()
            if last is None:
                return False
            seq, head = last
            previous = self._last_anchored()
            if previous is not None and previous >= seq:
                return False
            sig = self._key().sign(f"{seq}:{head}".encode()).signature.hex()
            line = json.dumps({"seq": seq, "head": head, "sig": sig}) + "\n"
            fd = os.open(self.anchor_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                # A line torn by a crash is closed first, so this anchor stays readable.
                if os.fstat(fd).st_size and not _ends_with_newline(self.anchor_path):
                    line = "\n" + line
                os.write(fd, line.encode())
                os.fsync(fd)
            finally:
                os.close(fd)
            self.trail.set_meta("anchored", str(seq))
        return True

    def _last_anchored(self) -> int | None:
        """The entry the anchor file's last readable line signs."""
        try:
            with self.anchor_path.open("rb") as fh:
                size = fh.seek(0, os.SEEK_END)
                fh.seek(max(0, size - 8192))
                tail = fh.read().decode("utf-8", "replace").splitlines()
        except FileNotFoundError:
            return None
        for line in reversed(tail):
            try:
                return int(json.loads(line)["seq"])
            except (ValueError, KeyError, TypeError):
                continue
        return None

    # verifying -----------------------------------------------------------------
    def _anchors(self, problems: list[str]) -> list[tuple[int, int, str]]:
        """(line, seq, head) of every valid anchor, in file order; bad lines become problems."""
        out: list[tuple[int, int, str]] = []
        if not self.anchor_path.exists():
            return out
        verify_key: VerifyKey = self._key().verify_key
        last_seq = 0
        for line_no, line in enumerate(self.anchor_path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                a = json.loads(line)
                seq, head, sig = int(a["seq"]), str(a["head"]), bytes.fromhex(a["sig"])
                verify_key.verify(f"{seq}:{head}".encode(), sig)
            except (ValueError, KeyError, TypeError, BadSignatureError):
                out.append((line_no, -1, ""))
                problems.append(f"anchor {line_no} is not a valid signed head")
                continue
            if seq <= last_seq:
                problems.append(f"anchor {line_no} replays an old head (entry {seq} after {last_seq})")
            last_seq = max(last_seq, seq)
            out.append((line_no, seq, head))
        return [a for a in out if a[1] >= 0]

    def chained_entries(self, problems: list[str]) -> Iterator[tuple[int, str]]:
        """(seq, recomputed head) of every entry, sealed segments first, then live
        ones; gaps, changed entries and damaged segments become problems."""
        from kartoteka.access.segments import segment_entries

        previous, expected = GENESIS, 1
        for seg in self.trail.segments():
            if seg.first != expected:
                problems.append(f"entries {expected} to {seg.first - 1} are missing (before segment {seg.file})")
            try:
                self._key().verify_key.verify(seg.signed(), bytes.fromhex(seg.sig))
            except (ValueError, BadSignatureError):
                problems.append(f"segment {seg.file} is not signed by the audit key")
            head = previous
            for seq, entry in segment_entries(self.trail.segments_dir, seg, problems):
                if seq != expected:
                    problems.append(f"entry {expected} is missing (next is {seq})")
                expected = seq + 1
                head = chain(head, entry)
                yield seq, head
            if head != seg.head:
                problems.append(f"segment {seg.file} does not end at its sealed head: changed, or incomplete")
            previous, expected = seg.head, seg.last + 1
        for seq, at, actor, action, subjects, detail, stored in self.trail.entries(after=expected - 1):
            if seq != expected:
                problems.append(f"entry {expected} is missing (next is {seq})")
            expected = seq + 1
            head = chain(previous, (at, actor, action, subjects, detail))
            if head != stored:
                problems.append(f"entry {seq} does not match its head: changed, or out of order")
            previous = stored if len(stored) == 64 else head
            yield seq, head

    def verify(self) -> Verification:
        self.flush()
        problems: list[str] = []
        anchors = self._anchors(problems)
        wanted: dict[int, list[tuple[int, str]]] = {}
        for line_no, seq, head in anchors:
            wanted.setdefault(seq, []).append((line_no, head))
        last = 0
        for seq, head in self.chained_entries(problems):
            last = seq
            for line_no, signed in wanted.pop(seq, []):
                if signed != head:
                    problems.append(f"anchor {line_no} signs a different head for entry {seq}")
        for seq, lines in sorted(wanted.items()):
            for line_no, _ in lines:
                problems.append(f"anchor {line_no} signs entry {seq}, which the log no longer holds")
        anchored = max((seq for _, seq, _ in anchors), default=0)
        remembered = int(self.trail.meta("anchored") or 0)
        if remembered > anchored:
            # The trail saw entry `remembered` anchored: anchors were removed.
            problems.append(
                f"the anchor file ({self.anchor_path.name}) has lost its anchors up to entry {remembered}"
                if anchors
                else f"no anchor file ({self.anchor_path.name}), though the log was anchored up to entry {remembered}"
            )
        segments = len(self.trail.segments())
        return Verification(self.trail.count(), len(anchors), problems, max(0, last - anchored), segments)


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as fh:
        fh.seek(-1, os.SEEK_END)
        return fh.read(1) == b"\n"
