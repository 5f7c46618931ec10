"""The dossier: a card's names, graded facts, timeline, passages and associates; the name look-up; corrections.

Everything shown comes from the `Archive` facade as the viewer may see it
(`dossier`, `timeline`, `associates`, `check`); the page adds only words
around the facade's figures. Corrections (merge, split, alias) are POST
forms with the session's CSRF token; the facade checks the role and audits
the write, and a refused write is shown on the dossier with its numbered
error. After a write the browser is sent back to the dossier (303).
"""

from __future__ import annotations

import calendar
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from kartoteka.archive import Archive
from kartoteka.errors import E, InvalidInput, KartotekaError, NotFound
from kartoteka.service.web.render import HEADERS, page
from kartoteka.service.web.session import CsrfChecked, Viewer

router = APIRouter(include_in_schema=False)

ASSOCIATES = 20
# A q-value below this is reported as "unlikely to be chance" (a 5% false discovery rate).
SIGNIFICANT = 0.05


# dates -----------------------------------------------------------------------
def date_span(value: str | None, precision: str) -> tuple[str, str] | None:
    """The first and last day a date of this precision may mean (ISO), or None if it has no value."""
    if not value:
        return None
    if precision == "year" and len(value) == 4:
        return f"{value}-01-01", f"{value}-12-31"
    if precision == "month" and len(value) == 7:
        try:
            last = calendar.monthrange(int(value[:4]), int(value[5:7]))[1]
        except ValueError:
            return None  # not a month a calendar has: shown as written, not drawn
        return f"{value}-01", f"{value}-{last:02d}"
    if precision == "day" and len(value) == 10:
        return value, value
    return None


def date_words(value: str | None, precision: str) -> str:
    """A date as a reader should take it: a year as the whole year, a month as the month."""
    span = date_span(value, precision)
    if span is None:
        return value or "undated"
    if precision == "year":
        return f"some time in {value} ({span[0]} to {span[1]})"
    if precision == "month" and value:
        return f"some time in {calendar.month_name[int(value[5:7])]} {value[:4]} ({span[0]} to {span[1]})"
    return span[0]


# chance, in words ------------------------------------------------------------
def number(x: float) -> str:
    """A figure rounded for reading: two significant digits, no exponent above 0.001."""
    if x == 0:
        return "0"
    if abs(x) < 0.001:
        return f"{x:.1e}"
    if abs(x) >= 10:
        return f"{x:.0f}"
    return f"{x:.2g}"


def chance_words(assoc: dict[str, Any], name: str, tested: int, passages: int | None = None) -> str:
    """What an associate's statistics say, in a sentence an editor can check."""
    k, n, n_a, n_b = int(assoc["k"]), int(assoc["n"]), int(assoc["n_a"]), int(assoc["n_b"])
    expected = n_a * n_b / n if n else 0.0
    p, q = float(assoc["p_value"]), float(assoc["q_value"])
    pairs = f"{tested} associate{'' if tested == 1 else 's'} tested"
    if q < SIGNIFICANT:
        verdict = f"unlikely to be chance, even after correcting for the {pairs} (q = {number(q)})"
    elif p < SIGNIFICANT:
        verdict = f"unusual on its own, but not after correcting for the {pairs} (q = {number(q)})"
    else:
        verdict = f"no more often than chance would put them together (q = {number(q)} over the {pairs})"
    together = (
        f"Together in {k} of the {n} documents you may see ({name} in {n_a}, {assoc['name']} in {n_b}); "
        f"by chance one would expect {number(expected)}."
    )
    if passages:
        together += f" Named in the same passage {passages} time{'' if passages == 1 else 's'}."
    lift = ""
    if assoc.get("pmi") is not None:
        times = 2 ** float(assoc["pmi"])
        lift = f" That is {number(times)} times the chance rate (PMI {number(float(assoc['pmi']))} bits)."
    return f"{together}{lift} p = {number(p)}: {verdict}."


# the page ----------------------------------------------------------------------
def _facts(facts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            **f,
            "standing": "confirmed by two independent sources"
            if f["confirmed"]
            else f"{len(f['sources'])} source{'' if len(f['sources']) == 1 else 's'}, not confirmed",
        }
        for f in facts
    ]


def dossier_view(a: Archive, ref: str) -> tuple[dict[str, Any], list[str | None]]:
    """What the dossier page shows, and the labels of what it shows (for the banner)."""
    d = a.dossier(ref, ASSOCIATES)
    eid = str(d["entity_id"])
    timeline = a.timeline(eid)
    stats = a.associates(eid, ASSOCIATES)
    passages_together = {x["entity_id"]: x["portions"] for x in d["associates"]}
    associates = [
        {**x, "words": chance_words(x, d["name"], int(stats["tested"]), passages_together.get(x["b"]))}
        for x in stats["associates"]
    ]
    events = []
    for e in timeline["events"]:
        span = date_span(e["date"], e["precision"])
        events.append({**e, "span": span, "words": date_words(e["date"], e["precision"])})
    mentions = [
        {**s, "document_id": doc["document_id"], "source": doc["source"]}
        for doc in d["documents"]
        for s in doc["snippets"]
    ]
    labels: list[str | None] = [s["label"] for s in mentions]
    labels += [e["label"] for e in timeline["events"]] + [u["label"] for u in timeline["undated"]]
    labels += [ev["label"] for f in d["facts"] for ev in f["evidence"]]
    labels += [m["label"] for m in d["marked"]]
    view = {
        "d": d,
        "eid": eid,
        "facts": _facts(d["facts"]),
        "marked": d["marked"],
        "events": events,
        "undated": timeline["undated"],
        "associates": associates,
        "tested": stats["tested"],
        "mentions": mentions,
    }
    return view, labels


def _dossier_page(
    request: Request, viewer: Viewer, ref: str, error: KartotekaError | None = None, done: str = ""
) -> Response:
    with viewer.archive() as a:
        view, labels = dossier_view(a, ref)
    return page(
        request,
        "dossier.html",
        viewer,
        labels,
        title=f"Dossier: {view['d']['name']}",
        status=error.status if error is not None else 200,
        error=error,
        done=done,
        **view,
    )


@router.get("/dossier")
def lookup(request: Request, viewer: Viewer, name: Annotated[str, Query(max_length=500)] = "") -> Response:
    """Find a card by name: the name check's candidates, each with its explanation, and
    the one the name resolves to without doubt, if any (as `dossier NAME` would open)."""
    name = name.strip()
    result: dict[str, Any] | None = None
    resolved: str | None = None
    error: KartotekaError | None = None
    if name:
        with viewer.archive() as a:
            try:
                result = a.check(name)
            except InvalidInput as exc:  # E024: nothing left of the name to look for
                error = exc
            else:
                try:
                    resolved = a.resolve_ref(name)
                except (NotFound, InvalidInput):
                    resolved = None  # no candidate beyond doubt (E020) or a tie (E021)
    return page(
        request,
        "dossier_lookup.html",
        viewer,
        # Names and scores only: no passage is shown.
        (),
        title=f"Dossier look-up: {name}" if name else "Dossier look-up",
        status=error.status if error is not None else 200,
        name=name,
        result=result,
        resolved=resolved,
        error=error,
    )


@router.get("/dossier/{ref}")
def dossier(request: Request, viewer: Viewer, ref: str, done: Annotated[str, Query(max_length=40)] = "") -> Response:
    return _dossier_page(request, viewer, ref, done=done)


def _after(ref: str, done: str) -> Response:
    return RedirectResponse(f"/dossier/{quote(ref, safe='')}?done={quote(done, safe=':')}", 303, headers=HEADERS)


@router.post("/dossier/{ref}/merge", dependencies=[CsrfChecked])
def merge(
    request: Request, viewer: Viewer, ref: str, other: Annotated[str, Form(min_length=1, max_length=500)]
) -> Response:
    """Merge another card into this one (the other card's mentions and names come here)."""
    try:
        with viewer.archive() as a:
            result = a.merge(ref, other.strip())
    except KartotekaError as exc:
        return _dossier_page(request, viewer, ref, exc)
    return _after(str(result["entity_id"]), "merged")


@router.post("/dossier/{ref}/split", dependencies=[CsrfChecked])
def split(
    request: Request,
    viewer: Viewer,
    ref: str,
    mention: Annotated[list[str], Form(max_length=1000)] = [],  # noqa: B006
) -> Response:
    """Move the chosen mentions out of this card to a new one."""
    try:
        if not mention:
            raise InvalidInput(E.E113, reason="Choose at least one mention to move to a new card.")
        with viewer.archive() as a:
            result = a.split(ref, mention)
    except KartotekaError as exc:
        return _dossier_page(request, viewer, ref, exc)
    return _after(str(result["entity_id"]), f"split:{result['new_entity_id']}")


@router.post("/dossier/{ref}/alias", dependencies=[CsrfChecked])
def alias(
    request: Request,
    viewer: Viewer,
    ref: str,
    name: Annotated[str, Form(min_length=1, max_length=500)],
    label: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Add a name the card is also known by, with an optional label (default: the author's clearance)."""
    try:
        with viewer.archive() as a:
            result = a.alias(ref, name.strip(), label.strip() or None)
    except KartotekaError as exc:
        return _dossier_page(request, viewer, ref, exc)
    return _after(str(result["entity_id"]), "alias")
