"""Each user's open archive, checked against the stored user on every request, and time-limited.

One `Archive` per user is kept open, so a user's name index and relation
graphs stay warm between requests; each is used by one request at a time.
On every request the archive's clearance is compared with the user's stored
row (read afresh by the session check): a clearance changed by the CLI in
another process gets a new archive on that user's next request. Writes made
elsewhere reach the caches through the archive's own `refresh()` (SQLite's
`data_version`; reads are audited outside the archive file, so only real
writes move it).

Every request has a deadline. Waiting for the user's archive is bounded by
it, and past it SQLite stops the statement in progress (a progress handler
on the archive's connection), so a request that would run for minutes ends
with HTTP 503 at its deadline instead of holding a thread. A statement inside
a write transaction is never stopped, so an audit write is never cut in half.
Shutting down moves every deadline to now.
"""

from __future__ import annotations

import logging
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from kartoteka.archive import Archive
from kartoteka.archive.common import Context, clearance_of
from kartoteka.errors import E, KartotekaError, NotFound
from kartoteka.service.auth import Overloaded, Principal, Unauthorised
from kartoteka.store.location import Location

log = logging.getLogger("kartoteka.service")

# SQLite virtual-machine steps between two looks at the clock: about a
# millisecond of work, so a deadline is kept to within a few milliseconds.
PROGRESS_STEPS = 20_000


class Deadline:
    """When a request must be answered by; `stop` (the server shutting down) ends every deadline at once."""

    def __init__(self, seconds: float, stop: threading.Event) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        self._stop = stop

    def remaining(self) -> float:
        return 0.0 if self._stop.is_set() else max(0.0, self.at - time.monotonic())

    def expired(self) -> bool:
        return self._stop.is_set() or time.monotonic() >= self.at

    def exceeded(self) -> Overloaded:
        if self._stop.is_set():
            return Overloaded(E.E084, retry_after=5)
        return Overloaded(E.E080, retry_after=5, seconds=f"{self.seconds:g}")


def context_of(arch: Archive) -> Context:
    # The facade keeps its viewer context private; the server needs two things
    # from it: the clearance the archive was opened with (is it still the
    # user's?) and the audit log (to anchor on a timer).
    return arch._ctx


@contextmanager
def time_limited(arch: Archive, deadline: Deadline) -> Iterator[None]:
    """Stop the archive's SQL once the deadline has passed (outside write transactions)."""
    db = getattr(context_of(arch).store, "db", None)
    if not isinstance(db, sqlite3.Connection):
        if db is None or not type(db).__module__.startswith("psycopg"):
            yield
            return
        from kartoteka.store.postgres_pool import statement_deadline

        # The server cancels each statement at what was left of the deadline when the
        # request began (no hook runs between statements, as SQLite's handler does).
        with statement_deadline(db, deadline.remaining()):
            yield
        return

    def progress() -> int:
        return 1 if deadline.expired() and not db.in_transaction else 0

    db.set_progress_handler(progress, PROGRESS_STEPS)
    try:
        yield
    finally:
        db.set_progress_handler(None, 0)


def _stopped(exc: BaseException) -> bool:
    """Is this the error of a statement the deadline stopped (SQLite interrupted, PostgreSQL cancelled)?"""
    if isinstance(exc, sqlite3.OperationalError):
        return True
    psycopg = sys.modules.get("psycopg")  # imported only for an archive on PostgreSQL
    # The store may hand a cancelled statement on as its own E162, the cause kept.
    return psycopg is not None and any(isinstance(e, psycopg.errors.QueryCanceled) for e in (exc, exc.__cause__))


@contextmanager
def _connection_wait(path: Location, deadline: Deadline) -> Iterator[None]:
    """Opening a user's archive on PostgreSQL waits for a pooled connection only until the deadline."""
    if not isinstance(path, str):
        yield
        return
    from kartoteka.store.postgres_pool import waiting_at_most

    try:
        with waiting_at_most(deadline.remaining()):
            yield
    except KartotekaError as exc:
        # No connection free by the deadline is the deadline's 503 (E080), not a lost server.
        if exc.code == "E161" and deadline.expired():
            raise deadline.exceeded() from None
        raise


@dataclass
class _View:
    lock: threading.Lock = field(default_factory=threading.Lock)
    archive: Archive | None = None
    generation: int = 0  # of Views.reset, when the archive was opened


class Views:
    """One open Archive per user, each used by one request at a time."""

    def __init__(self, path: Location) -> None:
        self.path = path
        self.stopping = threading.Event()
        self._views: dict[str, _View] = {}
        self._lock = threading.Lock()
        self._generation = 0

    def reset(self) -> None:
        """The database's connections were lost (a PostgreSQL restart): every user's
        archive is opened anew at their next request, whichever connection failed."""
        with self._lock:
            self._generation += 1

    def deadline(self, seconds: float) -> Deadline:
        return Deadline(seconds, self.stopping)

    @contextmanager
    def archive(self, principal: Principal, deadline: Deadline) -> Iterator[Archive]:
        with self._lock:
            view = self._views.setdefault(principal.user, _View())
        if not view.lock.acquire(timeout=deadline.remaining()):
            raise deadline.exceeded() if deadline.expired() else Overloaded(E.E083, retry_after=1)
        try:
            if self.stopping.is_set():
                raise deadline.exceeded()
            with _connection_wait(self.path, deadline):
                arch = self._current(view, principal)
            try:
                with time_limited(arch, deadline):
                    arch.refresh()
                    yield arch
            except Exception as exc:
                if not (_stopped(exc) and deadline.expired()):
                    raise
                # Stopped at the deadline: its caches may be half built, so
                # the user's next request opens the archive afresh.
                view.archive = None
                self._close(arch)
                raise deadline.exceeded() from None
        finally:
            view.lock.release()

    def _current(self, view: _View, principal: Principal) -> Archive:
        """The user's archive, reopened if their stored clearance is not the one it holds."""
        wanted = clearance_of(principal.row)
        arch = view.archive
        # A PostgreSQL server restarted since the last request left the archive's
        # connections dead: the request in flight failed, this one reopens.
        stale = view.generation != self._generation
        if arch is not None and (stale or not arch.alive() or context_of(arch).policy.clearance != wanted):
            view.archive = None
            self._close(arch)
            arch = None
        if arch is None:
            try:
                arch = view.archive = Archive(self.path, user=principal.user)
                view.generation = self._generation
            except NotFound:
                raise Unauthorised from None  # removed since the session check
            if context_of(arch).policy.clearance != wanted:
                # The row changed between the session check and this open: the
                # session was made under an older row and ends here.
                raise Unauthorised
        return arch

    def anchor(self) -> int:
        """Sign the audit head now (the audit log skips a head already anchored)."""
        anchored = 0
        with self._lock:
            views = list(self._views.values())
        for view in views:
            if not view.lock.acquire(timeout=1.0):
                continue  # busy this tick; the next one, or the entry count, anchors it
            try:
                if view.archive is not None and context_of(view.archive).audit.anchor():
                    anchored += 1
            except Exception:
                log.exception("anchoring the audit log failed")
            finally:
                view.lock.release()
        return anchored

    @staticmethod
    def _close(arch: Archive) -> None:
        try:
            arch.close()  # anchors the audit head
        except Exception:
            log.exception("closing an archive failed")

    def close(self, wait: float = 5.0) -> None:
        """Stop every request in progress at its next SQL step, then close (and anchor) each archive."""
        self.stopping.set()
        until = time.monotonic() + wait
        with self._lock:
            views = list(self._views.values())
            self._views.clear()
        for view in views:
            if not view.lock.acquire(timeout=max(0.0, until - time.monotonic())):
                log.error("an archive was still in use at shutdown; it was left open")
                continue
            try:
                if view.archive is not None:
                    self._close(view.archive)
                    view.archive = None
            finally:
                view.lock.release()


class Timer:
    """Runs `tick` every `seconds` on a daemon thread until stopped."""

    def __init__(self, seconds: float, ticks: list[Callable[[], object]]) -> None:
        self.seconds = seconds
        self._ticks = ticks
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kartoteka-timer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.seconds):
            for tick in self._ticks:
                try:
                    tick()
                except Exception:
                    log.exception("a timed task failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
