"""A tamper-evident audit log: a hash chain with signed, anchored heads.

Each entry is hashed as an RFC 6962 leaf, SHA-256(0x00 || entry), and chained,
head(n) = SHA-256(0x01 || head(n-1) || leaf(n)), so changing, dropping or
reordering any entry changes every later head. Heads are signed with an
Ed25519 key kept beside the archive (`ARCHIVE.audit-key`, mode 0600) and
appended to an anchor file (`ARCHIVE.audit-anchors`), one signed head per
session. `verify` recomputes the chain and checks it against every anchor:
a deleted last entry leaves an anchor pointing past the end of the log; a
replayed old head breaks the anchors' strict order. Keep a copy of the anchor
file where the archive's writers cannot reach it, and it also catches a
rewrite of the whole log.

Entries hold identifiers and keyed hashes (HMAC-SHA-256 under a key derived
from the signing key), never classified text or search terms in the clear.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from kartoteka.store.base import Store

GENESIS = "0" * 64


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(previous: bytes, leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + previous + leaf).digest()


def _entry_bytes(at: str, actor: str, action: str, subjects: str, detail: str) -> bytes:
    return json.dumps([at, actor, action, subjects, detail], ensure_ascii=False, separators=(",", ":")).encode()


@dataclass
class Verification:
    entries: int
    anchors: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class AuditLog:
    def __init__(self, store: Store, archive_path: Path) -> None:
        self.store = store
        self.key_path = archive_path.with_name(archive_path.name + ".audit-key")
        self.anchor_path = archive_path.with_name(archive_path.name + ".audit-anchors")
        self._signing: SigningKey | None = None
        self._dirty = False

    def _key(self) -> SigningKey:
        if self._signing is None:
            if self.key_path.exists():
                self._signing = SigningKey(self.key_path.read_bytes())
            else:
                self._signing = SigningKey.generate()
                fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(bytes(self._signing))
        return self._signing

    def keyed_hash(self, text: str) -> str:
        """What the log keeps of a search term or a name: useless without the key."""
        mac_key = hashlib.sha256(b"kartoteka audit hmac" + bytes(self._key())).digest()
        return hmac.new(mac_key, text.encode(), hashlib.sha256).hexdigest()

    def record(self, actor: str, action: str, subjects: list[str], detail: str = "") -> None:
        at = datetime.now(UTC).isoformat(timespec="seconds")
        subj = json.dumps(sorted(set(subjects)), separators=(",", ":"))
        det = self.keyed_hash(detail) if detail else ""
        last = self.store.audit_last()
        previous = bytes.fromhex(last[1] if last else GENESIS)
        head = node_hash(previous, leaf_hash(_entry_bytes(at, actor, action, subj, det))).hex()
        with self.store.transaction():
            self.store.audit_append(at, actor, action, subj, det, head)
        self._dirty = True

    def anchor(self) -> None:
        """Sign the current head and append it to the anchor file."""
        last = self.store.audit_last()
        if last is None or not self._dirty:
            return
        seq, head = last
        message = f"{seq}:{head}".encode()
        sig = self._key().sign(message).signature.hex()
        with self.anchor_path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"seq": seq, "head": head, "sig": sig}) + "\n")
        self._dirty = False

    def verify(self) -> Verification:
        heads: dict[int, str] = {}
        previous = bytes.fromhex(GENESIS)
        problems: list[str] = []
        expected_seq = 1
        n = 0
        for seq, at, actor, action, subjects, detail, head in self.store.audit_entries():
            n += 1
            if seq != expected_seq:
                problems.append(f"entry {expected_seq} is missing (next is {seq})")
            expected_seq = seq + 1
            computed = node_hash(previous, leaf_hash(_entry_bytes(at, actor, action, subjects, detail)))
            if computed.hex() != head:
                problems.append(f"entry {seq} does not match its head: changed, or out of order")
            heads[seq] = head
            previous = bytes.fromhex(head) if len(head) == 64 else computed
        anchors = 0
        if self.anchor_path.exists():
            verify_key: VerifyKey = self._key().verify_key
            last_seq = 0
            for line_no, line in enumerate(self.anchor_path.read_text(encoding="utf-8").splitlines(), start=1):
                if not line.strip():
                    continue
                anchors += 1
                try:
                    a = json.loads(line)
                    seq, head, sig = int(a["seq"]), str(a["head"]), bytes.fromhex(a["sig"])
                    verify_key.verify(f"{seq}:{head}".encode(), sig)
                except (ValueError, KeyError, TypeError, BadSignatureError):
                    problems.append(f"anchor {line_no} is not a valid signed head")
                    continue
                if seq <= last_seq:
                    problems.append(f"anchor {line_no} replays an old head (entry {seq} after {last_seq})")
                last_seq = max(last_seq, seq)
                if seq not in heads:
                    problems.append(f"anchor {line_no} signs entry {seq}, which the log no longer holds")
                elif heads[seq] != head:
                    problems.append(f"anchor {line_no} signs a different head for entry {seq}")
        elif n:
            problems.append(f"no anchor file ({self.anchor_path.name}) for {n} entries")
        return Verification(n, anchors, problems)
