"""Who is asking: password log-in, sessions that follow the stored user, and what log-ins may cost.

A session remembers a fingerprint of the user's stored row (clearance,
tokens, password hash) from just before the password was checked. Every
request compares it with the row as stored now, so a clearance or password
changed by the CLI in another process ends every session of that user on
their next request, with no message between the processes.

Log-ins cost an Argon2 hash (64 MiB, tens of milliseconds): at most
`HASHING` run at once, and attempts are limited per user name and per client
address before any hashing. The limit is the same for every user name,
whether it exists or not, so it tells nothing about which names exist.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kartoteka.access.credentials import SESSION_SECONDS, CredentialStore
from kartoteka.access.credentials import fingerprint as fingerprint  # re-exported: its old home
from kartoteka.errors import E, KartotekaError
from kartoteka.store.base import Store

# Two hashes at once bound log-in memory to 2 × 64 MiB, whatever the number of
# clients: 40 concurrent guesses took the server from 0.09 to 1.8 GB before.
HASHING = 2

UserRow = tuple[str, str, str, str | None]


class Unauthorised(Exception):
    """No session, a forged or expired token, or a session revoked by a change to its user."""


class Overloaded(KartotekaError):
    """HTTP 503 with Retry-After: the request could not be served in time (E080, E082, E083)."""

    status = 503

    def __init__(self, err: E, retry_after: int, **fields: object) -> None:
        super().__init__(err, **fields)
        self.retry_after = retry_after


class RateLimited(KartotekaError):
    """HTTP 429 with Retry-After (E081)."""

    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(E.E081, seconds=retry_after)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Principal:
    """The user of one request, as their stored row stands at the start of it."""

    user: str
    row: UserRow
    # What the credential may do: None for a password session (everything),
    # the scopes of an API token otherwise (service/sessions.py SCOPES).
    scopes: frozenset[str] | None = None

    def may(self, scope: str) -> bool:
        return self.scopes is None or scope in self.scopes


class Users:
    """The server's own connection for reading user rows, one query at a time."""

    def __init__(self, store: Store, reopen: Callable[[], Store] | None = None) -> None:
        self._store = store
        self._reopen = reopen
        self._stale = False
        self._lock = threading.Lock()

    def reset(self) -> None:
        """Open the store anew before the next read (its connection was lost)."""
        self._stale = True

    def row(self, user: str) -> UserRow | None:
        with self._lock:
            if (self._stale or not self._store.alive()) and self._reopen is not None:
                self._stale = False
                # The database's server was restarted: a connection anew.
                with contextlib.suppress(Exception):
                    self._store.close()
                self._store = self._reopen()
            return self._store.user(user)

    def close(self) -> None:
        with self._lock:
            self._store.close()


class Sessions:
    """Sessions and API tokens of the server: checked against the stored user on every request.

    Kept in the credentials file beside the archive (service/sessions.py), so
    several server processes share them and a restart keeps them.
    """

    def __init__(self, archive: str | Path, seconds: float = SESSION_SECONDS) -> None:
        self.store = CredentialStore(archive, seconds)

    def open(self, user: str, fingerprint: str) -> str:
        return self.store.open(user, fingerprint)

    def check(self, token: str, users: Users) -> Principal:
        """The credential's user, if the token is live and the user's stored row is unchanged since it was made."""
        found = self.store.find(token)
        if found is None:
            raise Unauthorised
        row = users.row(found.user)
        if fingerprint(row) != found.fingerprint:
            # The clearance or password changed (or the user is gone): every
            # session and token of theirs ends, not only this one.
            self.store.revoke(found.user)
            raise Unauthorised
        assert row is not None
        return Principal(found.user, row, found.scopes)

    def close(self, token: str) -> None:
        self.store.close_token(token)

    def revoke(self, user: str) -> int:
        return self.store.revoke(user)

    def prune(self) -> None:
        self.store.prune()

    def shutdown(self) -> None:
        self.store.close()

    def reset(self) -> None:
        self.store.reset()

    def __len__(self) -> int:
        return self.store.sessions()


class _Window:
    """Attempts in a sliding window, oldest first."""

    __slots__ = ("times",)

    def __init__(self) -> None:
        self.times: list[float] = []


@dataclass(frozen=True)
class LoginLimits:
    """Log-in attempts allowed per `window` seconds, per user name and per client address.

    An attempt is counted when its hash starts, under the hashing slot (so a
    burst cannot race past the limit while hashes run: at most `HASHING`
    attempts are in flight), and given back when it succeeds, so a user who
    logs in correctly, even from many clients at once, is never limited by
    their own log-ins.
    """

    per_user: int = 5
    per_address: int = 20
    window: float = 60.0
    # At most this many names and addresses are tracked; the oldest are
    # forgotten first, so a flood of made-up names cannot fill the memory.
    tracked: int = 50_000


class LoginLimiter:
    def __init__(self, limits: LoginLimits | None = None) -> None:
        self.limits = limits or LoginLimits()
        self._windows: OrderedDict[str, _Window] = OrderedDict()
        self._lock = threading.Lock()

    def _window(self, key: str, now: float) -> _Window:
        w = self._windows.get(key)
        if w is None:
            w = self._windows[key] = _Window()
            while len(self._windows) > self.limits.tracked:
                self._windows.popitem(last=False)
        else:
            self._windows.move_to_end(key)
        cutoff = now - self.limits.window
        while w.times and w.times[0] <= cutoff:
            w.times.pop(0)
        return w

    def check(self, user: str, address: str) -> None:
        """Raise RateLimited if an attempt now would be over a limit (counts nothing)."""
        self._take(user, address, count=False)

    def reserve(self, user: str, address: str) -> tuple[str, str, float]:
        """Count one attempt, or raise RateLimited with the seconds until one is free."""
        return self._take(user, address, count=True)

    def _take(self, user: str, address: str, count: bool) -> tuple[str, str, float]:
        now = time.monotonic()
        keys = (("user", user, self.limits.per_user), ("addr", address, self.limits.per_address))
        with self._lock:
            windows = [(self._window(f"{kind}\x00{key}", now), limit) for kind, key, limit in keys]
            waits = [w.times[0] + self.limits.window - now for w, limit in windows if len(w.times) >= limit]
            if waits:
                raise RateLimited(max(1, math.ceil(max(waits))))
            if count:
                for w, _ in windows:
                    w.times.append(now)
        return (f"user\x00{user}", f"addr\x00{address}", now)

    def give_back(self, reservation: tuple[str, str, float]) -> None:
        """A successful log-in does not count against the limits."""
        user_key, addr_key, at = reservation
        with self._lock:
            for key in (user_key, addr_key):
                w = self._windows.get(key)
                if w is not None and at in w.times:
                    w.times.remove(at)

    def prune(self) -> None:
        now = time.monotonic()
        with self._lock:
            for key in list(self._windows):
                w = self._window(key, now)
                if not w.times:
                    del self._windows[key]


class Hashing:
    """At most `n` password hashes at once; a log-in that cannot get a turn by its deadline is told to retry."""

    def __init__(self, n: int = HASHING) -> None:
        self._slots = threading.BoundedSemaphore(n)

    def acquire(self, seconds: float) -> None:
        if not self._slots.acquire(timeout=max(0.0, seconds)):
            raise Overloaded(E.E083, retry_after=1)

    def release(self) -> None:
        self._slots.release()
