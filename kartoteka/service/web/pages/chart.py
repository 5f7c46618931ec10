"""The link chart: an entity's neighbourhood in the relation graph, and the path between two entities.

The page lists the neighbourhood's nodes and relations as HTML (it works
without script and with a keyboard: every relation's evidence passages are
in a <details>); static/chart.js draws the same neighbourhood with
cytoscape, expands a node by fetching its neighbourhood from
`/chart/{ref}.json` (the same cookie session and the same `Archive`
policy), filters by relation type and date window, and opens an edge's
evidence when it is clicked. Every figure comes from `Archive.network` or
`Archive.links`; the banner is rolled up from the labels of the evidence
passages shown, and after an expansion from those of everything loaded
(`/chart/banner.json`, which rolls up the labels it is given and reads nothing).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from kartoteka.archive import Archive
from kartoteka.archive.analysis import _in_window as in_window
from kartoteka.errors import InvalidInput, KartotekaError, NotFound
from kartoteka.service.web.render import HEADERS, banner, page
from kartoteka.service.web.session import Viewer

router = APIRouter(include_in_schema=False)

DATE = r"^\d{4}(-\d{2}(-\d{2})?)?$"
Since = Annotated[str, Query(max_length=10, pattern=f"({DATE})|^$")]


def _document(source: str) -> str:
    return source.rsplit("/", 1)[-1]


def neighbourhood(a: Archive, ref: str) -> dict[str, Any]:
    """An entity's neighbourhood as the chart draws it: nodes, and one edge per
    (subject, relation type, object) with the passages that say so."""
    net = a.network(ref)
    edges: dict[str, dict[str, Any]] = {}
    for r in net["relations"]:
        key = f"{r['subject']}|{r['type']}|{r['object']}"
        ev = r["evidence"]
        edge = edges.setdefault(
            key,
            {"id": key, "source": r["subject"], "target": r["object"], "type": r["type"], "evidence": []},
        )
        edge["evidence"].append(
            {
                "document_id": ev["document_id"],
                "document": _document(ev["source"]),
                "portion": ev["portion"],
                "snippet": ev["snippet"],
                "label": ev["label"],
                "marking": banner([ev["label"]]),
                "start": r["start"],
                "end": r["end"],
            }
        )
    for edge in edges.values():
        starts = [e["start"] for e in edge["evidence"] if e["start"]]
        ends = [e["end"] or e["start"] for e in edge["evidence"] if e["start"]]
        edge["start"], edge["end"] = (min(starts), max(ends)) if starts else (None, None)
    labels = sorted({e["label"] for edge in edges.values() for e in edge["evidence"]})
    names = {n["id"]: n["name"] for n in net["nodes"]}
    return {
        "center": net["entity_id"],
        "name": names.get(net["entity_id"], net["entity_id"]),
        "nodes": [
            {
                "id": n["id"],
                "name": n["name"],
                "kind": n["kind"],
                "degree": n["degree"],
                "pagerank": n["pagerank"],
                "community": n["community"],
            }
            for n in net["nodes"]
        ],
        "edges": list(edges.values()),
        "labels": labels,
        "banner": banner(labels),
    }


def filtered(hood: dict[str, Any], types: list[str], since: str, until: str) -> dict[str, Any]:
    """The neighbourhood narrowed to some relation types and a date window (for the page without script)."""
    edges = []
    for edge in hood["edges"]:
        if types and edge["type"] not in types:
            continue
        evidence = edge["evidence"]
        if since or until:
            evidence = [e for e in evidence if in_window(e["start"], e["end"], since or None, until or None)]
            if not evidence:
                continue
        edges.append({**edge, "evidence": evidence})
    touched = {hood["center"]} | {e["source"] for e in edges} | {e["target"] for e in edges}
    return {**hood, "nodes": [n for n in hood["nodes"] if n["id"] in touched], "edges": edges}


@router.get("/chart/banner.json")
def chart_banner(_: Viewer, label: Annotated[list[str], Query(max_length=500)] = []) -> Response:  # noqa: B006
    """The banner of a chart showing passages with these labels (a roll-up; nothing is read)."""
    return JSONResponse({"banner": banner(label[:500])}, headers=HEADERS)


@router.get("/chart/path")
def path(
    request: Request,
    viewer: Viewer,
    a: Annotated[str, Query(max_length=500)] = "",
    b: Annotated[str, Query(max_length=500)] = "",
    since: Since = "",
    until: Since = "",
) -> Response:
    """The shortest evidence paths between two entities, each hop citing its passages."""
    a, b = a.strip(), b.strip()
    paths: list[list[dict[str, Any]]] | None = None
    error: KartotekaError | None = None
    if a and b:
        with viewer.archive() as arch:
            try:
                paths = arch.links(a, b, since or None, until or None)["paths"]
            except (NotFound, InvalidInput) as exc:
                # A name that names no card the viewer may see (E020) or several (E021):
                # the same words for a hidden card as for a missing one.
                error = exc
    labels = [ev["label"] for p in paths or [] for hop in p for ev in hop["evidence"]]
    return page(
        request,
        "chart_path.html",
        viewer,
        labels,
        title="Path" + (f": {a} to {b}" if a and b else ""),
        status=error.status if error is not None else 200,
        a=a,
        b=b,
        since=since,
        until=until,
        paths=paths,
        error=error,
    )


@router.get("/chart/{ref}.json")
def chart_json(viewer: Viewer, ref: str) -> Response:
    """The neighbourhood of one entity, for the chart to draw or expand."""
    with viewer.archive() as a:
        hood = neighbourhood(a, ref)
    return JSONResponse(hood, headers=HEADERS)


@router.get("/chart/{ref}")
def chart(
    request: Request,
    viewer: Viewer,
    ref: str,
    type: Annotated[list[str], Query(max_length=100)] = [],  # noqa: B006
    since: Since = "",
    until: Since = "",
) -> Response:
    with viewer.archive() as a:
        hood = neighbourhood(a, ref)
    shown = filtered(hood, type, since, until)
    names = {n["id"]: n["name"] for n in hood["nodes"]}
    return page(
        request,
        "chart.html",
        viewer,
        [e["label"] for edge in shown["edges"] for e in edge["evidence"]],
        title=f"Link chart: {hood['name']}",
        hood=shown,
        names=names,
        types=sorted({e["type"] for e in hood["edges"]}),
        chosen=type,
        since=since,
        until=until,
    )
