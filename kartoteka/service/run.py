"""`kartoteka serve`: uvicorn with a deadline per request and a shutdown that does not wait forever.

On SIGTERM or Ctrl-C the app is told first (`begin_shutdown`), so requests in
flight stop at their next SQL step and answer 503; uvicorn then waits at most
`GRACE_SECONDS` for connections to close, the app anchors the audit head and
closes its archives, and the process exits.
"""

from __future__ import annotations

from pathlib import Path
from types import FrameType

import uvicorn

from kartoteka.service.api import ANCHOR_SECONDS, REQUEST_SECONDS, create_app

GRACE_SECONDS = 5


class _Server(uvicorn.Server):
    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        begin = getattr(self.config.app, "state", None)
        if begin is not None:
            begin.begin_shutdown()
        super().handle_exit(sig, frame)


def serve(
    path: str | Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    request_seconds: float = REQUEST_SECONDS,
    anchor_seconds: float = ANCHOR_SECONDS,
) -> None:
    app = create_app(path, request_seconds=request_seconds, anchor_seconds=anchor_seconds)
    config = uvicorn.Config(app, host=host, port=port, log_level="info", timeout_graceful_shutdown=GRACE_SECONDS)
    _Server(config).run()
