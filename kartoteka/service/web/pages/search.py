"""The home page (what the viewer may see, in counts) and full-text search."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from kartoteka.service.web.render import page
from kartoteka.service.web.session import Viewer

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20


@router.get("/")
def home(request: Request, viewer: Viewer) -> Response:
    with viewer.archive() as a:
        stats = a.stats()
    stats.pop("archive", None)
    return page(request, "home.html", viewer, title="Kartoteka", stats=stats)


FACET_TITLES = {
    "kind": "Mentions",
    "year": "Year mentioned",
    "classification": "Marking",
    "source": "Source file",
    "collection": "Collection",
}


@router.get("/search")
def search(
    request: Request,
    viewer: Viewer,
    q: Annotated[str, Query(max_length=500)] = "",
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
    kind: Annotated[str, Query(max_length=20)] = "",
    year: Annotated[str, Query(max_length=4)] = "",
    classification: Annotated[str, Query(max_length=200)] = "",
    source: Annotated[str, Query(max_length=500)] = "",
    collection: Annotated[str, Query(max_length=500)] = "",
) -> Response:
    if not q.strip():
        return page(request, "search.html", viewer, title="Search", q="", result=None, offset=0, size=PAGE_SIZE)
    given = {"kind": kind, "year": year, "classification": classification, "source": source, "collection": collection}
    chosen = {k: v for k, v in given.items() if v}
    with viewer.archive() as a:
        result = a.search(q, PAGE_SIZE, offset, chosen, with_facets=True)
    # The page shows the hits and counts over every passage found: its banner covers all of them.
    labels = [h.get("label") for h in result["hits"]]
    labels += [str(item["value"]) for item in result["facets"]["classification"]]
    return page(
        request,
        "search.html",
        viewer,
        labels,
        title=f"Search: {q}",
        q=q,
        result=result,
        offset=offset,
        size=PAGE_SIZE,
        titles=FACET_TITLES,
        chosen=chosen,
    )
