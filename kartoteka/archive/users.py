"""Users and their clearances, log-in, the audit log, and the record of corrections."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import Argon2Error

from kartoteka.access.credentials import CredentialStore, fingerprint, parse_scopes
from kartoteka.access.labels import Clearance, LabelError
from kartoteka.archive.common import OWNER_TOKEN, Context
from kartoteka.errors import E, InvalidInput, NotFound
from kartoteka.store import open_store


# Verified against when a user is unknown, so that log-in time does not tell
# which user names exist.
@cache
def _dummy_hash() -> str:
    return PasswordHasher().hash("kartoteka: no such user")


class Users:
    """Administration: the owner manages users and verifies the audit log."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    @staticmethod
    def login(path: str | Path, user: str, password: str) -> bool:
        """Check a user's password (server mode). Unknown users cost the same time as wrong passwords."""
        store = open_store(path)
        try:
            row = store.user(user)
        finally:
            store.close()
        hasher = PasswordHasher()
        stored = row[3] if row and row[3] else _dummy_hash()
        ok: bool
        try:
            ok = hasher.verify(stored, password)
        except Argon2Error:
            ok = False
        return bool(ok and row and row[3])

    def add_user(self, name: str, clearance: str, tokens: list[str], password: str | None = None) -> dict[str, Any]:
        """Add (or change) a user. Only the owner manages users."""
        ctx = self.ctx
        ctx.owner_only("manage users")
        if clearance.upper() == OWNER_TOKEN:
            # An owner by log-in (the web's administrator): stored as the reserved token.
            clearance, tokens = "TS", [OWNER_TOKEN]
        try:
            held = Clearance.parse(f"{clearance}:{','.join(tokens)}")
        except LabelError as exc:
            raise InvalidInput(E.E041, reason=str(exc)) from exc
        if not name or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise InvalidInput(E.E041, reason=f"user name {name!r}: letters, digits, '-', '_', '.' only")
        hashed = PasswordHasher().hash(password) if password else None
        with ctx.write():
            ctx.store.add_user(name, held.level.name, ",".join(sorted(held.tokens)), hashed)
        ctx.audit.record(ctx.actor, "user add", [name])
        return {"user": name, "clearance": held.level.name, "tokens": sorted(held.tokens)}

    # API tokens for scripts (access/credentials.py) -----------------------------
    def create_token(self, user: str, name: str, scopes: str, days: float) -> dict[str, Any]:
        """A new API token for `user` with these scopes; the secret is in the answer, once. Owner only."""
        ctx = self.ctx
        ctx.owner_only("make API tokens")
        row = ctx.store.user(user)
        if row is None or not row[3]:
            # A token acts as its user, checked against their row like a session:
            # a user without a password has no server identity to bind it to.
            raise InvalidInput(E.E041, reason=f"user {user!r} does not exist or has no password for server mode")
        if not 0 < days <= 3660:
            raise InvalidInput(E.E070, field="--days", reason="between 0 and 3660 days")
        bound = fingerprint(row)
        assert bound is not None
        store = CredentialStore(ctx.target)
        try:
            token, made = store.create_token(user, bound, name, parse_scopes(scopes), days)
        finally:
            store.close()
        ctx.audit.record(ctx.actor, "token create", [user], detail=f"{made.id} {','.join(sorted(made.scopes or ()))}")
        return {"token": token, **made.as_json()}

    def tokens(self) -> list[dict[str, Any]]:
        self.ctx.owner_only("list API tokens")
        store = CredentialStore(self.ctx.target)
        try:
            return [t.as_json() for t in store.tokens()]
        finally:
            store.close()

    def revoke_token(self, ident: str) -> dict[str, Any]:
        ctx = self.ctx
        ctx.owner_only("revoke API tokens")
        store = CredentialStore(ctx.target)
        try:
            if not store.revoke_id(ident):
                raise NotFound(E.E122, id=ident)
        finally:
            store.close()
        ctx.audit.record(ctx.actor, "token revoke", [ident])
        return {"id": ident, "revoked": True}

    def users(self) -> list[dict[str, Any]]:
        self.ctx.owner_only("list users")
        return [
            {"user": n, "clearance": c, "tokens": [t for t in t_.split(",") if t]}
            for n, c, t_ in self.ctx.store.users()
        ]

    def audit_verify(self) -> dict[str, Any]:
        self.ctx.owner_only("verify the audit log")
        return self.ctx.audit.verify().as_json()

    def corrections(self) -> list[dict[str, Any]]:
        return [{"at": at, "op": op, **payload} for at, op, payload in self.ctx.store.corrections()]
