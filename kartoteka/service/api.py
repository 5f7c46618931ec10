"""The HTTP API: the same archive and the same policy layer as the CLI.

Users log in with their password (`POST /api/login`) and send the session
token as `Authorization: Bearer TOKEN`. Every endpoint opens the archive as
that user, so every answer comes through `Archive`'s policy layer; the
user's stored clearance and password are checked on every request
(service/auth.py), and every request has a deadline (service/views.py).

A hidden item and a missing one must be indistinguishable, so a 404 body
never echoes the reference asked for: it is always the same bytes.

Errors are one JSON object, never a traceback: `{"error": "E0xx", "message"}`.
An overloaded or busy server answers 503 with `Retry-After`, a burst of
log-ins 429 with `Retry-After`.
"""

from __future__ import annotations

import logging
import sqlite3
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from kartoteka.access.credentials import SESSION_SECONDS, fingerprint
from kartoteka.archive import Archive
from kartoteka.errors import E, KartotekaError, NotFound
from kartoteka.service.auth import (
    HASHING,
    Hashing,
    LoginLimiter,
    LoginLimits,
    Overloaded,
    Principal,
    RateLimited,
    Sessions,
    Unauthorised,
    Users,
)
from kartoteka.service.views import Deadline, Timer, Views
from kartoteka.store import open_store
from kartoteka.store.location import Location, is_postgres

log = logging.getLogger("kartoteka.service")

REQUEST_SECONDS = 30.0
ANCHOR_SECONDS = 30.0
NOT_FOUND_BODY = {"error": "E020", "message": "Not found."}
UNAUTHORISED_BODY = {"error": "E046", "message": E.E046.value}
# Store errors whose message names the archive's file: the server's path is
# not the user's business, so they are answered with the server's own codes.
_BUSY = frozenset({"E090"})
_BROKEN = frozenset({"E110", "E111", "E112"})
# PostgreSQL unreachable or failing: the message names the database (host, port,
# schema, keys folder), which is the server's to know, not its users'.
_UNREACHABLE = frozenset({"E161", "E162"})
_DAMAGE = ("no such table", "no such column", "database disk image is malformed", "file is not a database")


class LoginRequest(BaseModel):
    user: str = Field(max_length=200)
    # Argon2 reads all of it: a megabyte password is a cost, not a password.
    password: str = Field(max_length=4096)


class BatchRow(BaseModel):
    query_id: str
    name: str


class BatchRequest(BaseModel):
    names: list[BatchRow] = Field(max_length=10_000)
    limit: int = Field(default=5, ge=1, le=50)


@dataclass(frozen=True)
class Caller:
    """One request: who asks (as stored now) and by when it must be answered."""

    principal: Principal
    deadline: Deadline
    views: Views

    @contextmanager
    def archive(self) -> Iterator[Archive]:
        with self.views.archive(self.principal, self.deadline) as arch:
            yield arch


def _bearer(authorization: str | None) -> str:
    if not authorization or not authorization.startswith("Bearer "):
        raise Unauthorised
    return authorization.removeprefix("Bearer ").strip()


def scope_of(request: Request) -> str:
    """The scope an API token needs for this endpoint (service/sessions.py SCOPES)."""
    path = request.url.path
    if path.startswith("/api/check"):
        return "check"
    if path.startswith("/api/search"):
        return "search"
    if path.endswith("/release"):
        return "release"
    return "read"


def current(request: Request, authorization: Annotated[str | None, Header()] = None) -> Caller:
    state = request.app.state
    principal = state.sessions.check(_bearer(authorization), state.users)
    if not principal.may(scope_of(request)):
        raise OutOfScope(E.E121, scope=scope_of(request))
    return Caller(principal, state.views.deadline(state.request_seconds), state.views)


class OutOfScope(KartotekaError):
    """An API token used for an endpoint outside its scopes (HTTP 403)."""

    status = 403


Current = Annotated[Caller, Depends(current)]


def _json_error(code: str, message: str, status: int, retry_after: int | None = None) -> JSONResponse:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return JSONResponse({"error": code, "message": message}, status_code=status, headers=headers)


def _error_of(err: E, **fields: object) -> tuple[str, str]:
    exc = KartotekaError(err, **fields)
    return exc.code, exc.message


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api") or request.url.path in ("/openapi.json", "/docs", "/redoc")


def _answer(request: Request, code: str, message: str, status: int, retry_after: int | None = None) -> Response:
    """An error as the API's JSON object, or as a page for the browser."""
    if _is_api(request):
        return _json_error(code, message, status, retry_after)
    from kartoteka.service.web.errors import error_page

    return error_page(request, code, message, status, retry_after)


def _connections_lost(request: Request) -> None:
    """A connection to PostgreSQL was lost (a restart): every connection of the server is
    taken for lost too and made anew at its next use, so the next request, not the third,
    succeeds."""
    state = request.app.state
    state.sessions.reset()
    state.users.reset()
    state.views.reset()


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(KartotekaError)
    def _domain_error(request: Request, exc: KartotekaError) -> Response:
        if isinstance(exc, NotFound):
            if not _is_api(request):
                from kartoteka.service.web.errors import not_found_page

                return not_found_page()
            return JSONResponse(NOT_FOUND_BODY, status_code=404)
        if isinstance(exc, Overloaded | RateLimited):
            return _answer(request, exc.code, exc.message, exc.status, exc.retry_after)
        if exc.code in _BUSY:
            return _answer(request, *_error_of(E.E082), 503, retry_after=2)
        if exc.code in _UNREACHABLE:
            log.warning("database failure answered with 503: %s", exc.message)
            _connections_lost(request)
            return _answer(request, *_error_of(E.E087), 503, retry_after=2)
        if exc.code in _BROKEN:
            log.error("archive failure: %s", exc.message)
            return _answer(request, *_error_of(E.E085, kind=exc.code), 500)
        return _answer(request, exc.code, exc.message, exc.status)

    @app.exception_handler(Unauthorised)
    def _unauthorised(_: Request, __: Unauthorised) -> JSONResponse:
        return JSONResponse(UNAUTHORISED_BODY, status_code=401, headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(sqlite3.OperationalError)
    def _busy(request: Request, exc: sqlite3.OperationalError) -> Response:
        if str(exc).startswith(_DAMAGE):
            # A lost table does not come back on a retry.
            log.error("archive failure: %s", exc)
            return _answer(request, *_error_of(E.E085, kind="damaged archive"), 500)
        # "database is locked" after the store's own wait, a checkpoint, a full
        # disk: the request may succeed if tried again, so 503, not 500.
        log.warning("database error answered with 503: %s", exc)
        return _answer(request, *_error_of(E.E082), 503, retry_after=2)

    @app.exception_handler(Exception)
    def _internal(request: Request, exc: Exception) -> Response:
        psycopg = sys.modules.get("psycopg")  # imported only for an archive on PostgreSQL
        if psycopg is not None and isinstance(exc, psycopg.OperationalError):
            _connections_lost(request)
            log.warning("PostgreSQL connection lost, answered with 503: %s", str(exc).strip().splitlines()[:1])
            return _answer(request, *_error_of(E.E087), 503, retry_after=1)
        log.error("unexpected error", exc_info=exc)
        return _answer(request, *_error_of(E.E085, kind=type(exc).__name__), 500)

    from kartoteka.service.web.errors import install

    install(app)


def create_app(
    archive_path: Location,
    *,
    request_seconds: float = REQUEST_SECONDS,
    anchor_seconds: float = ANCHOR_SECONDS,
    limits: LoginLimits | None = None,
    hashing: int = HASHING,
) -> FastAPI:
    """The API over one archive. `request_seconds` is each request's deadline;
    the audit head is anchored every `anchor_seconds` and at shutdown. `archive_path`:
    a file, or a postgresql:// URL (sessions then live in its database)."""
    path: Location = archive_path if is_postgres(archive_path) else Path(archive_path)
    sessions = Sessions(path)
    views = Views(path)
    limiter = LoginLimiter(limits)
    hashes = Hashing(hashing)
    timer = Timer(anchor_seconds, [views.anchor, sessions.prune, limiter.prune])

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        timer.start()
        try:
            yield
        finally:
            timer.stop()
            views.close()  # anchors the audit head once more
            app.state.users.close()
            sessions.shutdown()

    app = FastAPI(
        title="Kartoteka",
        summary="An archive for intelligence-style records: name checks, dossiers, search, release copies.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.sessions = sessions
    app.state.users = Users(open_store(path), lambda: open_store(path))  # the server's own connection, for user rows
    app.state.views = views
    app.state.request_seconds = request_seconds
    # Called by the server on SIGTERM or Ctrl-C, before it waits for requests
    # in flight: they stop at their next SQL step.
    app.state.begin_shutdown = views.stopping.set
    _install_error_handlers(app)

    def authenticate(user: str, password: str, address: str) -> str:
        """A new session token for a right password (the API's and the web's log-in)."""
        limiter.check(user, address)  # refused at once, before waiting for a hash
        deadline = views.deadline(request_seconds)
        users: Users = app.state.users
        # The row as it stood before the password was checked: a change made
        # while the hash runs leaves the new session bound to the old row, so
        # it ends on its first request.
        bound = fingerprint(users.row(user))
        hashes.acquire(deadline.remaining())
        try:
            # Counted under the slot: the attempts of a burst that waited for
            # it see the failures of those hashed before them.
            reservation = limiter.reserve(user, address)
        except RateLimited:
            hashes.release()
            raise
        try:
            ok = Archive.login(path, user, password)
        finally:
            hashes.release()
        if not ok or bound is None:
            raise Unauthorised
        limiter.give_back(reservation)
        return sessions.open(user, bound)

    app.state.authenticate = authenticate
    app.state.session_seconds = SESSION_SECONDS
    from kartoteka.service.web.session import Csrf

    # One key for every worker process, so a form served by one is accepted by another.
    app.state.csrf = Csrf(sessions.store.secret("csrf"))

    @app.post("/api/login", summary="Log in with a password; returns a session token.")
    def login(body: LoginRequest, request: Request) -> dict[str, Any]:
        address = request.client.host if request.client else "-"
        return {"token": authenticate(body.user, body.password, address), "expires_in": SESSION_SECONDS}

    @app.post("/api/logout", summary="End the session.")
    def logout(caller: Current, authorization: Annotated[str, Header()]) -> dict[str, Any]:
        sessions.close(_bearer(authorization))
        return {"user": caller.principal.user, "logged_out": True}

    @app.get("/api/check", summary="Name check: ranked, scored, explained candidates.")
    def check(caller: Current, name: str, limit: Annotated[int, Query(ge=1, le=50)] = 10) -> dict[str, Any]:
        with caller.archive() as a:
            return a.check(name, limit)

    @app.post("/api/check/batch", summary="Name check for many names, in order.")
    def check_batch(caller: Current, body: BatchRequest) -> dict[str, Any]:
        with caller.archive() as a:
            rows = [(r.query_id, r.name) for r in body.names]
            results: list[dict[str, Any]] = []
            # Between names the work is Python, where SQLite's deadline cannot
            # reach: the clock is read once per name.
            for result in a.check_batch(rows, body.limit):
                if caller.deadline.expired():
                    raise caller.deadline.exceeded()
                results.append(result)
            return {"results": results}

    @app.get("/api/search", summary="Full-text search with snippets; totals count only what you may see.")
    def search(
        caller: Current,
        q: str,
        limit: Annotated[int, Query(ge=1, le=200)] = 20,
        offset: Annotated[int, Query(ge=0)] = 0,
        facets: Annotated[
            bool, Query(description="Count the matches by kind, year, classification, source, collection.")
        ] = False,
        kind: str | None = None,
        year: str | None = None,
        classification: str | None = None,
        source: str | None = None,
        collection: str | None = None,
    ) -> dict[str, Any]:
        given = {
            "kind": kind,
            "year": year,
            "classification": classification,
            "source": source,
            "collection": collection,
        }
        chosen = {k: v for k, v in given.items() if v}
        with caller.archive() as a:
            return a.search(q, limit, offset, chosen, facets)

    @app.get("/api/cards", summary="The card index as a drawer: cards with their visible mention and record counts.")
    def cards(
        caller: Current,
        kind: str | None = None,
        sort: str = "mentions",
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[int, Query(ge=0)] = 0,
        unconfirmed: bool = False,
    ) -> dict[str, Any]:
        with caller.archive() as a:
            return a.cards(kind, sort, limit, offset, unconfirmed)

    @app.get("/api/dossier/{ref}", summary="Everything on one entity, each fact citing its passage.")
    def dossier(caller: Current, ref: str) -> dict[str, Any]:
        with caller.archive() as a:
            return a.dossier(ref)

    @app.get("/api/documents", summary="Documents you may see.")
    def documents(
        caller: Current, limit: Annotated[int, Query(ge=1, le=500)] = 50, offset: Annotated[int, Query(ge=0)] = 0
    ) -> dict[str, Any]:
        with caller.archive() as a:
            return {"documents": a.documents(limit, offset)}

    @app.get("/api/documents/{document_id}", summary="A document with its portion markings, as you may see it.")
    def document(caller: Current, document_id: str) -> dict[str, Any]:
        with caller.archive() as a:
            return a.document(document_id)

    @app.get("/api/documents/{document_id}/release", summary="A release copy for an audience (txt, html or pdf).")
    def release(
        caller: Current,
        document_id: str,
        audience: Annotated[str, Query(alias="for")],
        format: str = "txt",
        exempt: str | None = None,
    ) -> Response:
        with caller.archive() as a:
            data, name, _ = a.release(document_id, audience, format, exempt)
        media = {"txt": "text/plain; charset=utf-8", "html": "text/html; charset=utf-8", "pdf": "application/pdf"}
        return Response(
            data, media_type=media[format], headers={"Content-Disposition": f'attachment; filename="{name}"'}
        )

    @app.get("/api/links", summary="Shortest evidence paths between two entities.")
    def links(caller: Current, a: str, b: str, since: str | None = None, until: str | None = None) -> dict[str, Any]:
        with caller.archive() as arch:
            return arch.links(a, b, since, until)

    @app.get("/api/network/{ref}", summary="An entity's neighbourhood with centrality and communities.")
    def network(caller: Current, ref: str, depth: Annotated[int, Query(ge=1, le=4)] = 1) -> dict[str, Any]:
        with caller.archive() as arch:
            return arch.network(ref, depth)

    @app.get("/api/cooccur", summary="Do A and B co-occur more than chance? Fisher, PMI, G², Knox.")
    def cooccur(caller: Current, a: str, b: str) -> dict[str, Any]:
        with caller.archive() as arch:
            return arch.cooccur(a, b)

    @app.get("/api/timeline/{ref}", summary="Dated passages about an entity, with their precision.")
    def timeline(caller: Current, ref: str) -> dict[str, Any]:
        with caller.archive() as arch:
            return arch.timeline(ref)

    @app.get("/api/stats", summary="Counts of what you may see.")
    def stats(caller: Current) -> dict[str, Any]:
        with caller.archive() as a:
            out = a.stats()
            out.pop("archive", None)  # the server's file path is not the user's business
            return out

    from kartoteka.service import web

    web.mount(app)
    return app
