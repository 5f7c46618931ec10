"""Administration, for the owner: users and clearances, protected sources and their handlers, the audit log.

Anyone but an owner gets the constant 404 page for every path here, GET or
POST, before a form is read or its CSRF token checked: a refusal would
tell that the page exists. Every change is a POST with the session's CSRF
token, answered with a 303 back to the page.

A source's true name is never on a list, not even the owner's. It is shown
only in answer to an explicit "reveal" POST, which the facade refuses to
anyone but the source's handler and the registry chief cleared for it and
records in the audit log; that answer is a page of its own, not a redirect,
so the name is in no URL and kept nowhere on the server.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from kartoteka.access.labels import Level
from kartoteka.archive.sources import DEFAULT_SOURCE_LABEL
from kartoteka.errors import E, InvalidInput, NotFound
from kartoteka.service.api import Caller
from kartoteka.service.web.render import HEADERS, page, viewer_of
from kartoteka.service.web.session import check_form, web_caller

router = APIRouter(include_in_schema=False)

MIN_PASSWORD = 12
CLEARANCES = [*(lv.name for lv in Level), "OWNER"]
# What a redirect after a change may say; anything else in ?done= is ignored.
DONE = {
    "user": "The user was saved. Their sessions have ended; they log in with the new password.",
    "source": "The source was registered under its cryptonym.",
    "handover": "The source was handed over to its new handler.",
}


def owner(caller: Annotated[Caller, Depends(web_caller)]) -> Caller:
    """The viewer, if an owner; anyone else is answered as if nothing were here."""
    if not viewer_of(caller)["is_owner"]:
        raise NotFound(E.E020, ref="admin")
    return caller


Owner = Annotated[Caller, Depends(owner)]


async def owner_form(request: Request, caller: Owner) -> Caller:
    """An owner's POST with a valid CSRF token (the owner test first: see the module's docstring)."""
    await check_form(request)
    return caller


OwnerForm = Annotated[Caller, Depends(owner_form)]


def _done(done: str) -> str | None:
    return DONE.get(done)


@router.get("/admin")
def admin(request: Request, viewer: Owner, done: Annotated[str, Query(max_length=20)] = "") -> Response:
    with viewer.archive() as a:
        users = a.users()
        sources = a.sources()
    return page(
        request,
        "admin.html",
        viewer,
        # Cryptonyms and handlers are shown, each under its source's label; true names never.
        [s.get("label") for s in sources],
        title="Administration",
        users=users,
        sources=sources,
        clearances=CLEARANCES,
        default_source_label=DEFAULT_SOURCE_LABEL,
        min_password=MIN_PASSWORD,
        done=_done(done),
        audit=None,
    )


@router.get("/admin/audit")
def audit(request: Request, viewer: Owner) -> Response:
    """Verify the audit log (a read: a GET, run when the owner asks)."""
    with viewer.archive() as a:
        result = a.audit_verify()
    return page(request, "admin_audit.html", viewer, title="Audit log", audit=result, words=audit_words(result))


def audit_words(result: dict[str, Any]) -> list[str]:
    """The verification in sentences, as a reader would say it."""
    n = result["entries"]
    lines = []
    if result["ok"]:
        lines.append(f"The audit log is intact: all {n:,} entries chain, and every signed anchor matches.")
    else:
        lines.append(f"The audit log FAILED verification ({len(result['problems'])} problem(s) in {n:,} entries).")
    lines.append(
        f"{result['anchors']:,} signed anchor(s)"
        + (f"; {result['segments']:,} sealed segment(s) of older entries" if result["segments"] else "")
        + "."
    )
    if result["unanchored"]:
        lines.append(
            f"{result['unanchored']:,} recent entr{'y is' if result['unanchored'] == 1 else 'ies are'} not signed"
            " yet: the server signs the head every half minute; this is not tampering."
        )
    return lines


@router.post("/admin/users")
def user_save(
    viewer: OwnerForm,
    name: Annotated[str, Form(max_length=100)],
    clearance: Annotated[str, Form(max_length=10)],
    password: Annotated[str, Form(max_length=4096)],
    tokens: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    if clearance not in CLEARANCES:
        raise InvalidInput(E.E071, field="clearance", value=clearance, expected=", ".join(CLEARANCES))
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(E.E070, field="password", reason=f"at least {MIN_PASSWORD} characters")
    held = [t.strip().upper() for t in tokens.replace(" ", ",").split(",") if t.strip()]
    with viewer.archive() as a:
        a.add_user(name.strip(), clearance, held, password)
    return RedirectResponse("/admin?done=user", status_code=303, headers=HEADERS)


@router.post("/admin/sources")
def source_add(
    viewer: OwnerForm,
    cryptonym: Annotated[str, Form(max_length=32)],
    true_name: Annotated[str, Form(max_length=500)],
    handler: Annotated[str, Form(max_length=100)],
    label: Annotated[str, Form(max_length=200)] = DEFAULT_SOURCE_LABEL,
) -> Response:
    with viewer.archive() as a:
        a.source_add(cryptonym.strip(), true_name, handler, label.strip() or DEFAULT_SOURCE_LABEL)
    return RedirectResponse("/admin?done=source", status_code=303, headers=HEADERS)


# The cryptonym is a form field, not a path segment: a cryptonym may hold a '/' (AE/SCREEN).
@router.post("/admin/sources/handover")
def source_handover(
    viewer: OwnerForm,
    cryptonym: Annotated[str, Form(max_length=32)],
    handler: Annotated[str, Form(max_length=100)],
    source_id: Annotated[str, Form(alias="id", max_length=40)] = "",
) -> Response:
    # The id tells namesakes apart: sources that share a cryptonym in different compartments.
    with viewer.archive() as a:
        a.source_handover(cryptonym, handler, source_id or None)
    return RedirectResponse("/admin?done=handover", status_code=303, headers=HEADERS)


@router.post("/admin/sources/reveal")
def source_reveal(
    request: Request,
    viewer: OwnerForm,
    cryptonym: Annotated[str, Form(max_length=32)],
    source_id: Annotated[str, Form(alias="id", max_length=40)] = "",
) -> Response:
    with viewer.archive() as a:
        shown = a.source_show(cryptonym, source_id or None)
    return page(request, "admin_reveal.html", viewer, [shown.get("label")], title=f"Source {cryptonym}", source=shown)
