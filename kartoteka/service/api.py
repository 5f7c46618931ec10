"""The HTTP API: the same archive and the same policy layer as the CLI.

Users log in with their password (`POST /api/login`) and send the session
token as `Authorization: Bearer TOKEN`. Every endpoint opens the archive as
that user, so every answer comes through `Archive`'s policy layer.

A hidden item and a missing one must be indistinguishable, so a 404 body
never echoes the reference asked for: it is always the same bytes.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from kartoteka.archive import Archive
from kartoteka.errors import E, KartotekaError, NotFound

SESSION_SECONDS = 8 * 3600
NOT_FOUND_BODY = {"error": "E020", "message": "Not found."}
UNAUTHORISED_BODY = {"error": "E046", "message": E.E046.value}


class LoginRequest(BaseModel):
    user: str
    password: str


class BatchRow(BaseModel):
    query_id: str
    name: str


class BatchRequest(BaseModel):
    names: list[BatchRow] = Field(max_length=10_000)
    limit: int = Field(default=5, ge=1, le=50)


class _Unauthorised(Exception):
    pass


class Sessions:
    """Session tokens in memory, stored as hashes: a memory dump does not hand out sessions."""

    def __init__(self) -> None:
        self._by_hash: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _h(token: str) -> str:
        import hashlib

        return hashlib.sha256(token.encode()).hexdigest()

    def open(self, user: str) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._by_hash[self._h(token)] = (user, time.time() + SESSION_SECONDS)
        return token

    def user(self, token: str) -> str | None:
        with self._lock:
            found = self._by_hash.get(self._h(token))
            if found is None or found[1] < time.time():
                return None
            return found[0]

    def close(self, token: str) -> None:
        with self._lock:
            self._by_hash.pop(self._h(token), None)


class Views:
    """One open Archive per user, each used by one request at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._views: dict[str, tuple[Archive, threading.Lock]] = {}
        self._lock = threading.Lock()

    @contextmanager
    def archive(self, user: str) -> Iterator[Archive]:
        with self._lock:
            if user not in self._views:
                self._views[user] = (Archive(self.path, user=user), threading.Lock())
            arch, lock = self._views[user]
        with lock:
            arch.refresh()
            yield arch

    def close(self) -> None:
        for arch, _ in self._views.values():
            arch.close()


def current_user(request: Request, authorization: Annotated[str | None, Header()] = None) -> str:
    if not authorization or not authorization.startswith("Bearer "):
        raise _Unauthorised
    sessions: Sessions = request.app.state.sessions
    user = sessions.user(authorization.removeprefix("Bearer ").strip())
    if user is None:
        raise _Unauthorised
    return user


User = Annotated[str, Depends(current_user)]


def create_app(archive_path: str | Path) -> FastAPI:
    path = Path(archive_path)
    sessions = Sessions()
    views = Views(path)
    app = FastAPI(
        title="Kartoteka",
        summary="An archive for intelligence-style records: name checks, dossiers, search, release copies.",
        version="0.1.0",
    )
    app.state.sessions = sessions

    @app.exception_handler(KartotekaError)
    def _domain_error(_: Request, exc: KartotekaError) -> JSONResponse:
        if isinstance(exc, NotFound):
            return JSONResponse(NOT_FOUND_BODY, status_code=404)
        return JSONResponse({"error": exc.code, "message": exc.message}, status_code=exc.status)

    @app.exception_handler(_Unauthorised)
    def _unauthorised(_: Request, __: _Unauthorised) -> JSONResponse:
        return JSONResponse(UNAUTHORISED_BODY, status_code=401, headers={"WWW-Authenticate": "Bearer"})

    @app.post("/api/login", summary="Log in with a password; returns a session token.")
    def login(body: LoginRequest) -> dict[str, Any]:
        if not Archive.login(path, body.user, body.password):
            raise _Unauthorised
        return {"token": sessions.open(body.user), "expires_in": SESSION_SECONDS}

    @app.post("/api/logout", summary="End the session.")
    def logout(user: User, authorization: Annotated[str, Header()]) -> dict[str, Any]:
        sessions.close(authorization.removeprefix("Bearer ").strip())
        return {"user": user, "logged_out": True}

    @app.get("/api/check", summary="Name check: ranked, scored, explained candidates.")
    def check(user: User, name: str, limit: Annotated[int, Query(ge=1, le=50)] = 10) -> dict[str, Any]:
        with views.archive(user) as a:
            return a.check(name, limit)

    @app.post("/api/check/batch", summary="Name check for many names, in order.")
    def check_batch(user: User, body: BatchRequest) -> dict[str, Any]:
        with views.archive(user) as a:
            rows = [(r.query_id, r.name) for r in body.names]
            return {"results": list(a.check_batch(rows, body.limit))}

    @app.get("/api/search", summary="Full-text search with snippets; totals count only what you may see.")
    def search(
        user: User,
        q: str,
        limit: Annotated[int, Query(ge=1, le=200)] = 20,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> dict[str, Any]:
        with views.archive(user) as a:
            return a.search(q, limit, offset)

    @app.get("/api/dossier/{ref}", summary="Everything on one entity, each fact citing its passage.")
    def dossier(user: User, ref: str) -> dict[str, Any]:
        with views.archive(user) as a:
            return a.dossier(ref)

    @app.get("/api/documents", summary="Documents you may see.")
    def documents(
        user: User, limit: Annotated[int, Query(ge=1, le=500)] = 50, offset: Annotated[int, Query(ge=0)] = 0
    ) -> dict[str, Any]:
        with views.archive(user) as a:
            return {"documents": a.documents(limit, offset)}

    @app.get("/api/documents/{document_id}", summary="A document with its portion markings, as you may see it.")
    def document(user: User, document_id: str) -> dict[str, Any]:
        with views.archive(user) as a:
            return a.document(document_id)

    @app.get("/api/documents/{document_id}/release", summary="A release copy for an audience (txt, html or pdf).")
    def release(
        user: User,
        document_id: str,
        audience: Annotated[str, Query(alias="for")],
        format: str = "txt",
        exempt: str | None = None,
    ) -> Response:
        with views.archive(user) as a:
            data, name, _ = a.release(document_id, audience, format, exempt)
        media = {"txt": "text/plain; charset=utf-8", "html": "text/html; charset=utf-8", "pdf": "application/pdf"}
        return Response(
            data, media_type=media[format], headers={"Content-Disposition": f'attachment; filename="{name}"'}
        )

    @app.get("/api/links", summary="Shortest evidence paths between two entities.")
    def links(user: User, a: str, b: str, since: str | None = None, until: str | None = None) -> dict[str, Any]:
        with views.archive(user) as arch:
            return arch.links(a, b, since, until)

    @app.get("/api/network/{ref}", summary="An entity's neighbourhood with centrality and communities.")
    def network(user: User, ref: str, depth: Annotated[int, Query(ge=1, le=4)] = 1) -> dict[str, Any]:
        with views.archive(user) as arch:
            return arch.network(ref, depth)

    @app.get("/api/cooccur", summary="Do A and B co-occur more than chance? Fisher, PMI, G², Knox.")
    def cooccur(user: User, a: str, b: str) -> dict[str, Any]:
        with views.archive(user) as arch:
            return arch.cooccur(a, b)

    @app.get("/api/timeline/{ref}", summary="Dated passages about an entity, with their precision.")
    def timeline(user: User, ref: str) -> dict[str, Any]:
        with views.archive(user) as arch:
            return arch.timeline(ref)

    @app.get("/api/stats", summary="Counts of what you may see.")
    def stats(user: User) -> dict[str, Any]:
        with views.archive(user) as a:
            out = a.stats()
            out.pop("archive", None)  # the server's file path is not the user's business
            return out

    app.router.on_shutdown.append(views.close)
    return app
