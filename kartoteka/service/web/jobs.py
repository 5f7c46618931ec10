"""Batch name checks running in the background of the server, one user's jobs visible to that user only.

A CSV upload becomes a `Job`: its rows are screened by `Archive.check_batch`
on a small thread pool, under the uploading user's policy (the same
`Views.archive` every page uses). The user's archive is taken for one chunk
of names at a time and given back between chunks, so the user's pages stay
responsive while a long batch runs (the archive is used by one request at a
time). Before every chunk the user's stored row is read again: a changed
clearance or password, or a removed user, stops the job, exactly as it ends
the user's sessions.

Bounds: each user holds at most `MAX_JOBS` jobs (the oldest finished one
makes way for a new one; while all are running a new upload is refused),
each of at most `MAX_ROWS` names, kept in memory for `KEEP_SECONDS` after
they finish. A job id is 128 random bits, and a job is found only under its
own user: another user's id answers as a missing one does.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from kartoteka.errors import E, KartotekaError, NotFound
from kartoteka.service.auth import Principal, Unauthorised, Users
from kartoteka.service.views import Views

MAX_JOBS = 3  # per user, running or finished
MAX_ROWS = 5_000  # names in one upload
MAX_BYTES = 1_000_000  # size of one upload
CHUNK = 25  # names screened per turn on the user's archive
KEEP_SECONDS = 3600.0  # a finished job's results stay this long
CHUNK_SECONDS = 30.0  # deadline of one chunk, as of one request
THREADS = 2  # the machine has two cores, shared with the pages


@dataclass
class Job:
    """One upload being screened: its rows, how far it got, its results."""

    id: str
    user: str
    file: str
    rows: list[tuple[str, str]]
    lines: list[int]  # the CSV line of each row, for its error message
    limit: int
    errors: list[str] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    done: int = 0
    state: str = "queued"  # queued, running, done, failed
    failure: str = ""
    finished_at: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")

    def status(self) -> dict[str, Any]:
        """What the progress bar shows: counts of the user's own upload, nothing read from the archive."""
        with self.lock:
            return {
                "state": self.state,
                "done": self.done,
                "total": self.total,
                "errors": list(self.errors),
                "failure": self.failure,
            }


class BatchJobs:
    """The server's batch checks: a thread pool and each user's jobs."""

    def __init__(self, views: Views, users: Users, threads: int = THREADS) -> None:
        self.views = views
        self.users = users
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="kartoteka-batch")
        self._jobs: dict[str, dict[str, Job]] = {}
        self._lock = threading.Lock()

    def submit(
        self,
        principal: Principal,
        file: str,
        rows: list[tuple[int, str, str]],
        errors: list[str],
        limit: int,
    ) -> Job:
        """Queue a user's upload of (line, id, name) rows, already read and bounded by the page;
        E128 if all their jobs are still running."""
        job = Job(
            secrets.token_urlsafe(16),
            principal.user,
            file,
            [(qid, name) for _, qid, name in rows],
            [line for line, _, _ in rows],
            limit,
            errors=list(errors),
        )
        with self._lock:
            mine = self._jobs.setdefault(principal.user, {})
            self._prune(mine)
            if len(mine) >= MAX_JOBS:
                finished = [j for j in mine.values() if j.finished]
                if not finished:
                    raise KartotekaError(E.E128, jobs=MAX_JOBS)
                oldest = min(finished, key=lambda j: j.finished_at or 0.0)
                del mine[oldest.id]
            mine[job.id] = job
        self._pool.submit(self._run, job, principal)
        return job

    def get(self, user: str, job_id: str) -> Job:
        """A job of this user's; any other id, a missing or another user's, is not found alike."""
        with self._lock:
            mine = self._jobs.get(user, {})
            self._prune(mine)
            job = mine.get(job_id)
        if job is None:
            raise NotFound(E.E020, ref="job")
        return job

    def jobs(self, user: str) -> list[Job]:
        with self._lock:
            mine = self._jobs.get(user, {})
            self._prune(mine)
            return list(mine.values())

    @staticmethod
    def _prune(mine: dict[str, Job]) -> None:
        now = time.monotonic()
        for job_id in [i for i, j in mine.items() if j.finished_at is not None and now - j.finished_at > KEEP_SECONDS]:
            del mine[job_id]

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    # the work ------------------------------------------------------------------
    def _run(self, job: Job, principal: Principal) -> None:
        with job.lock:
            job.state = "running"
        try:
            for start in range(0, job.total, CHUNK):
                if self.views.stopping.is_set():
                    raise KartotekaError(E.E084)
                if self.users.row(principal.user) != principal.row:
                    # Changed clearance or password, or a removed user: the
                    # sessions made under the old row end, and so does this job.
                    raise KartotekaError(E.E129)
                self._chunk(job, principal, job.rows[start : start + CHUNK])
            with job.lock:
                job.state = "done"
        except Unauthorised:
            self._fail(job, KartotekaError(E.E129).message)
        except KartotekaError as exc:
            self._fail(job, exc.message)
        except Exception as exc:  # a bug must not leave the job "running" for ever
            self._fail(job, KartotekaError(E.E085, kind=type(exc).__name__).message)
        finally:
            with job.lock:
                job.finished_at = time.monotonic()
                if not job.finished:
                    job.state = "failed"

    def _chunk(self, job: Job, principal: Principal, rows: list[tuple[str, str]]) -> None:
        deadline = self.views.deadline(CHUNK_SECONDS)
        # The user's archive is held for this chunk only: their pages get it back between chunks.
        with self.views.archive(principal, deadline) as arch:
            for result in arch.check_batch(rows, job.limit):
                with job.lock:
                    line = job.lines[job.done]
                    job.results.append(result)
                    job.done += 1
                    if "error" in result:
                        job.errors.append(
                            KartotekaError(E.E030, path=job.file, row=line, reason=result["error"]).message
                        )

    @staticmethod
    def _fail(job: Job, message: str) -> None:
        with job.lock:
            job.state = "failed"
            job.failure = message


def batch_jobs(state: Any, make: Callable[[], BatchJobs] | None = None) -> BatchJobs:
    """The app's `BatchJobs`, made on first use (the pages need it; the JSON API does not)."""
    found = getattr(state, "batch_jobs", None)
    if isinstance(found, BatchJobs):
        return found
    with _MAKING:
        found = getattr(state, "batch_jobs", None)
        if not isinstance(found, BatchJobs):
            found = make() if make else BatchJobs(state.views, state.users)
            state.batch_jobs = found
    return found


_MAKING = threading.Lock()
