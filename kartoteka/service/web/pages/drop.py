"""The drop's desk, for handlers: what sources sent through the drop and what was replied (issue 16).

The drop itself is a separate service with no access to the archive
(channels/drop_app.py); `drop collect` brings its submissions in as
documents. This page lists them for the viewer through
`channels.collect.desk`, which the facade limits to the sources a handler
runs (all of them for the registry chief and the owner). Anyone without the
HANDLER role gets the constant 404 page: that the desk exists is a
handler's business. Replies are written with `kartoteka drop reply`, on the
machine that holds the drop's folder.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from kartoteka.channels.collect import desk
from kartoteka.errors import E, KartotekaError, NotFound
from kartoteka.service.web.render import page
from kartoteka.service.web.session import Viewer

router = APIRouter(include_in_schema=False)


@router.get("/drop")
def drop_desk(request: Request, viewer: Viewer) -> Response:
    with viewer.archive() as a:
        try:
            found: dict[str, Any] = desk(a)
        except KartotekaError as exc:
            if exc.code == "E100":
                raise NotFound(E.E020, ref="drop") from None  # no HANDLER role: nothing here
            raise
        labels = [s.get("label") for s in a.sources() if s["cryptonym"] in {x["cryptonym"] for x in found["sources"]}]
    return page(request, "drop.html", viewer, labels, title="Drop", desk=found)
