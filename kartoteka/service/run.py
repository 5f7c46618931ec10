"""`kartoteka serve`: uvicorn with a deadline per request and a shutdown that does not wait forever.

On SIGTERM or Ctrl-C the app is told first (`begin_shutdown`), so requests in
flight stop at their next SQL step and answer 503; uvicorn then waits at most
`GRACE_SECONDS` for connections to close, the app anchors the audit head and
closes its archives, and the process exits.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import FrameType

import uvicorn
from fastapi import FastAPI

from kartoteka.service.api import ANCHOR_SECONDS, REQUEST_SECONDS, create_app
from kartoteka.store.location import is_postgres

GRACE_SECONDS = 5


class _Server(uvicorn.Server):
    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        begin = getattr(self.config.app, "state", None)
        if begin is not None:
            begin.begin_shutdown()
        super().handle_exit(sig, frame)


_ENV = "KARTOTEKA_SERVE"


def app_from_environment() -> FastAPI:
    """The app of one worker process (`serve --workers N`): its settings come from the parent's environment."""
    settings = json.loads(os.environ[_ENV])
    return create_app(settings["path"], request_seconds=settings["request"], anchor_seconds=settings["anchor"])


def serve(
    path: str | Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    request_seconds: float = REQUEST_SECONDS,
    anchor_seconds: float = ANCHOR_SECONDS,
    workers: int = 1,
) -> None:
    if workers > 1:
        # Several processes, each with its own open archives, sharing sessions
        # and tokens through the credentials file or schema (access/credentials.py)
        # and writes through the store's locks. uvicorn's supervisor restarts a worker
        # that dies; on SIGTERM each worker closes and anchors as one does.
        where = str(path) if is_postgres(path) else str(Path(path).resolve())
        settings = {"path": where, "request": request_seconds, "anchor": anchor_seconds}
        os.environ[_ENV] = json.dumps(settings)
        uvicorn.run(
            "kartoteka.service.run:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="info",
            timeout_graceful_shutdown=GRACE_SECONDS,
        )
        return
    app = create_app(path, request_seconds=request_seconds, anchor_seconds=anchor_seconds)
    config = uvicorn.Config(app, host=host, port=port, log_level="info", timeout_graceful_shutdown=GRACE_SECONDS)
    _Server(config).run()
