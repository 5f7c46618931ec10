"""Release: choose an audience and exemption codes, preview the copy beside the original, produce it, verify it.

Everything comes from the facade: the original as the viewer sees it
(`Archive.document`), the copy (`Archive.release_copy`, `Archive.release`)
and the proof that nothing withheld survived (`Archive.verify_release`,
which reads a file: the copy is written to a private temporary folder and
removed at once). The facade decides who may release what to whom: a
declassification without the RELEASE role, an audience the viewer may not
name, or a verification by anyone but the owner is its numbered error, shown
as a page; a document the viewer may not see is the constant 404.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from kartoteka import release as releases
from kartoteka.access.labels import Level
from kartoteka.archive import Archive
from kartoteka.errors import E, InvalidInput
from kartoteka.service.web.render import HEADERS, page
from kartoteka.service.web.session import CsrfChecked, Viewer
from kartoteka.store.private import write_private
from kartoteka.vocab import markings

router = APIRouter(include_in_schema=False)

MEDIA = {"txt": "text/plain; charset=utf-8", "html": "text/html; charset=utf-8", "pdf": "application/pdf"}


def exemption_codes() -> dict[str, str]:
    """The exemption codes the release module prints, with what each protects (vocab/exemptions.yml)."""
    return markings().exemption_codes


def exempt_of(codes: list[str]) -> str | None:
    """The codes chosen, in the vocabulary's order, as printed beside each withheld portion; None: by compartment."""
    known = exemption_codes()
    for code in codes:
        if code not in known:
            raise InvalidInput(E.E071, field="exemption code", value=code, expected=", ".join(known))
    chosen: list[str] = [c for c in known if c in codes]
    return ", ".join(chosen) if chosen else None


def audience_of(user: str, level: str) -> str:
    """A level typed in (`S:HUM`) wins over the audience chosen from the list."""
    return level.strip() or user.strip()


def fmt_of(fmt: str) -> str:
    if fmt not in releases.FORMATS:
        raise InvalidInput(E.E045, format=fmt)
    return fmt


def audiences(a: Archive, viewer_user: str, is_owner: bool) -> list[tuple[str, str]]:
    """(value, text) of the audiences offered: the owner names any user, anyone else themselves;
    every level is offered to all (the facade's rule, `Releases.audience`)."""
    users = [(u["user"], f"{u['user']} ({_held(u)})") for u in a.users()] if is_owner else []
    if not is_owner:
        users = [(viewer_user, f"{viewer_user} (yourself)")]
    levels = [(lv.name, f"anyone cleared {lv.title}") for lv in Level]
    return users + levels


def _held(u: dict[str, Any]) -> str:
    tokens = [t for t in u["tokens"] if t]
    if "OWNER" in tokens:
        return "owner"
    return str(u["clearance"]) + (":" + ",".join(tokens) if tokens else "")


def side_by_side(doc: dict[str, Any], copy: releases.ReleaseCopy) -> list[tuple[dict[str, Any], releases.Part]] | None:
    """Pairs of (original portion, released part), or None if they do not line up one to one.

    The copy leaves out the document's banners (it carries its own) and
    keeps every other portion the viewer sees, in order."""
    kept = [p for p in doc["portions"] if p["kind"] != "banner"]
    if len(kept) != len(copy.parts):
        return None
    return list(zip(kept, copy.parts, strict=True))


@router.get("/documents/{document_id}/release")
def release_page(
    request: Request,
    viewer: Viewer,
    document_id: str,
    user: Annotated[str, Query(alias="for", max_length=200)] = "",
    level: Annotated[str, Query(max_length=200)] = "",
    code: Annotated[list[str] | None, Query(max_length=20)] = None,
    format: Annotated[str, Query(max_length=10)] = "pdf",
) -> Response:
    from kartoteka.service.web.render import viewer_of

    me = viewer_of(viewer)
    codes = code or []
    with viewer.archive() as a:
        doc = a.document(document_id)
        offered = audiences(a, viewer.principal.user, me["is_owner"])
        audience = audience_of(user, level)
        copy = None
        if audience:
            fmt_of(format)
            copy = a.release_copy(document_id, audience, exempt_of(codes))
    rows = side_by_side(doc, copy) if copy is not None else None
    return page(
        request,
        "release.html",
        viewer,
        # The original as the viewer sees it is on the page: its passages' labels make the banner.
        [p.get("label") for p in doc["portions"]],
        title=f"Release {doc['document_id']}",
        doc=doc,
        offered=offered,
        chosen_user=user,
        level=level,
        codes=exemption_codes(),
        chosen_codes=codes,
        format=format,
        formats=releases.FORMATS,
        copy=copy,
        rows=rows,
        marker=releases.MARKER,
        query=_query(user, level, codes, format),
    )


@router.get("/documents/{document_id}/release/copy")
def release_file(
    viewer: Viewer,
    document_id: str,
    user: Annotated[str, Query(alias="for", max_length=200)],
    level: Annotated[str, Query(max_length=200)] = "",
    code: Annotated[list[str] | None, Query(max_length=20)] = None,
    format: Annotated[str, Query(max_length=10)] = "pdf",
) -> Response:
    with viewer.archive() as a:
        data, name, _ = a.release(document_id, audience_of(user, level), fmt_of(format), exempt_of(code or []))
    headers = {**HEADERS, "Content-Disposition": f'attachment; filename="{name}"'}
    return Response(data, media_type=MEDIA[format], headers=headers)


@router.post("/documents/{document_id}/release/verify", dependencies=[CsrfChecked])
def release_verify(
    request: Request,
    viewer: Viewer,
    document_id: str,
    user: Annotated[str, Form(alias="for", max_length=200)],
    level: Annotated[str, Form(max_length=200)] = "",
    code: Annotated[list[str] | None, Form(max_length=20)] = None,
    format: Annotated[str, Form(max_length=10)] = "pdf",
) -> Response:
    """Produce the copy, write it to a private temporary file, run verify-release on it, show the verdict.

    Answered directly rather than redirected: the verdict is of this file,
    made now, and nothing is changed but the audit log."""
    codes = code or []
    fmt = fmt_of(format)
    with viewer.archive() as a:
        doc = a.document(document_id)
        data, name, copy = a.release(document_id, audience_of(user, level), fmt, exempt_of(codes))
        # mkdtemp makes the folder 0700 and write_private the file 0600: the copy
        # holds what the requester may see, which other users of the machine may not.
        with tempfile.TemporaryDirectory(prefix="kartoteka-release-") as folder:
            path = Path(folder) / name
            write_private(path, data)
            verdict = a.verify_release(path, document_id)
    return page(
        request,
        "release_verify.html",
        viewer,
        # Marked as the release page is: on a leak, the verdict quotes withheld text of the original.
        [p.get("label") for p in doc["portions"]],
        title=f"Verified release of {doc['document_id']}",
        doc=doc,
        copy=copy,
        name=name,
        fmt=fmt,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        verdict=verdict,
        query=_query(user, level, codes, fmt),
    )


def _query(user: str, level: str, codes: list[str], fmt: str) -> str:
    from urllib.parse import urlencode

    return urlencode([("for", user), ("level", level), *[("code", c) for c in codes], ("format", fmt)])
