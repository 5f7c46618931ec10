"""Users, the audit outbox and protected sources in the SQLite store.

A part of `SQLiteStore` (kartoteka/store/sqlite.py), which mixes the parts
together over one connection; split by what the rows are for.
"""

from __future__ import annotations

import sqlite3

from kartoteka.store.records import (
    now_iso,
)
from kartoteka.store.trail import SQLiteAuditTrail


class PeopleRows:
    db: sqlite3.Connection
    path: str

    # users ---------------------------------------------------------------------
    def add_user(self, name: str, clearance: str, tokens: str, password_hash: str | None) -> None:
        self.db.execute(
            "INSERT INTO users(name, clearance, tokens, password_hash, created_at) VALUES (?,?,?,?,?)"
            " ON CONFLICT(name) DO UPDATE SET clearance=excluded.clearance, tokens=excluded.tokens,"
            " password_hash=coalesce(excluded.password_hash, users.password_hash)",
            (name, clearance, tokens, password_hash, now_iso()),
        )

    def user(self, name: str) -> tuple[str, str, str, str | None] | None:
        row = self.db.execute(
            "SELECT name, clearance, tokens, password_hash FROM users WHERE name=?", (name,)
        ).fetchone()
        return (row[0], row[1], row[2], row[3]) if row else None

    def users(self) -> list[tuple[str, str, str]]:
        return [(r[0], r[1], r[2]) for r in self.db.execute("SELECT name, clearance, tokens FROM users ORDER BY name")]

    # audit -------------------------------------------------------------------
    # The trail itself is in its own file (store/trail.py); the archive keeps
    # only the outbox: entries of writes, committed in the write's own
    # transaction and chained into the trail right after (access/audit.py).
    def audit_trail(self) -> SQLiteAuditTrail:
        return SQLiteAuditTrail(self.path)

    def audit_outbox_add(self, at: str, actor: str, action: str, subjects: str, detail: str) -> None:
        self.db.execute(
            "INSERT INTO audit_outbox(at, actor, action, subjects, detail) VALUES (?,?,?,?,?)",
            (at, actor, action, subjects, detail),
        )

    def audit_outbox_after(self, done: int) -> list[tuple[int, str, str, str, str, str]]:
        return [
            (int(r[0]), r[1], r[2], r[3], r[4], r[5])
            for r in self.db.execute(
                "SELECT id, at, actor, action, subjects, detail FROM audit_outbox WHERE id > ? ORDER BY id", (done,)
            )
        ]

    def audit_outbox_prune(self, done: int) -> None:
        self.db.execute("DELETE FROM audit_outbox WHERE id <= ?", (done,))

    def legacy_audit(self) -> list[tuple[int, str, str, str, str, str, str]]:
        """Entries kept in the archive itself before schema 8 moved the trail out."""
        return [
            (int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6])
            for r in self.db.execute("SELECT seq, at, actor, action, subjects, detail, head FROM audit ORDER BY seq")
        ]

    def drop_legacy_audit(self) -> None:
        self.db.execute("DELETE FROM audit")

    # protected sources ---------------------------------------------------------
    # A row is a source, named by its id (schema 16): namesakes, sources that
    # share a cryptonym in different compartments, are different rows.
    def add_source(self, source_id: str, cryptonym: str, sealed: bytes, handler: str, label: str) -> None:
        self.db.execute(
            "INSERT INTO sources(id, cryptonym, sealed, handler, created_at, label) VALUES (?,?,?,?,?,?)",
            (source_id, cryptonym, sealed, handler, now_iso(), label),
        )

    def sources(self, cryptonym: str | None = None) -> list[tuple[str, str, str, str]]:
        """(id, cryptonym, handler, label) of every source, or of those called `cryptonym`."""
        where, args = ("WHERE cryptonym=?", (cryptonym,)) if cryptonym is not None else ("", ())
        rows = self.db.execute(
            f"SELECT id, cryptonym, handler, label FROM sources {where} ORDER BY cryptonym, label, handler, id", args
        )
        return [(str(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows]

    def source_sealed(self, source_id: str) -> bytes | None:
        row = self.db.execute("SELECT sealed FROM sources WHERE id=?", (source_id,)).fetchone()
        return bytes(row[0]) if row else None

    def set_source_handler(self, source_id: str, handler: str) -> None:
        self.db.execute("UPDATE sources SET handler=? WHERE id=?", (handler, source_id))
