"""The document list and the document view: pages and portions with their marks, OCR confidence and mentions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from markupsafe import Markup, escape

from kartoteka.service.web.render import page
from kartoteka.service.web.session import Viewer

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50


@router.get("/documents")
def documents(request: Request, viewer: Viewer, offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> Response:
    with viewer.archive() as a:
        rows = a.documents(PAGE_SIZE + 1, offset)
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return page(
        request,
        "documents.html",
        viewer,
        # A list of file names, formats and counts: no passage is shown.
        (),
        title="Documents",
        rows=rows,
        offset=offset,
        size=PAGE_SIZE,
        more=more,
    )


def highlighted(text: str, mentions: list[dict[str, Any]]) -> Markup:
    """A portion's text with its mentions as links to their cards (escaped everywhere else)."""
    out: list[str] = []
    at = 0
    for m in sorted(mentions, key=lambda m: (m["start"], -m["end"])):
        start, end = int(m["start"]), int(m["end"])
        if start < at or end > len(text):
            continue  # overlapping spans: the first one wins
        out.append(str(escape(text[at:start])))
        kind = str(m["kind"]).lower()
        out.append(
            f'<a class="mention mention-{escape(kind)}" href="/dossier/{escape(m["entity_id"])}"'
            f' title="{escape(m["kind"])}: {escape(m["name"])}">{escape(text[start:end])}</a>'
        )
        at = end
    out.append(str(escape(text[at:])))
    return Markup("".join(out))


@router.get("/documents/{document_id}")
def document(request: Request, viewer: Viewer, document_id: str) -> Response:
    with viewer.archive() as a:
        doc = a.document(document_id)
    by_portion: dict[int, list[dict[str, Any]]] = {}
    for m in doc["mentions"]:
        by_portion.setdefault(int(m["portion"]), []).append(m)
    portions = [{**p, "html": highlighted(p["text"], by_portion.get(int(p["n"]), []))} for p in doc["portions"]]
    return page(
        request,
        "document.html",
        viewer,
        [p.get("label") for p in doc["portions"]],
        title=f"Document {doc['document_id']}",
        doc=doc,
        portions=portions,
    )
