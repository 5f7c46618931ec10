"""Templates, the banner of a page, and the headers every page carries.

The banner is rolled up (`access.labels.roll_up`) from the labels of what
the page shows, never from what the viewer holds or from the documents the
shown passages come from: a clerk's page that shows two UNCLASSIFIED
passages of a SECRET report is UNCLASSIFIED, as its printout would be.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from kartoteka.access.labels import Clearance, roll_up
from kartoteka.access.policy import stored_label
from kartoteka.service.api import Caller
from kartoteka.service.web.session import session_token

TEMPLATES = Path(__file__).parent / "templates"

# No script, style, font or frame from anywhere but this server, no inline
# script, no forms posted elsewhere, no page embedding ours.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    # same-origin, not no-referrer: under no-referrer Chromium posts forms with
    # "Origin: null", which drops the SameSite=Strict cookie and fails the Origin check.
    "Referrer-Policy": "same-origin",
    # A classified page must not stay in a shared machine's browser cache.
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def highlight(snippet: str) -> Markup:
    """A search snippet with its «matched words» marked (the store's FTS5 snippets use « »)."""
    return Markup(str(escape(snippet)).replace("«", "<mark>").replace("»", "</mark>"))


def query_with(request: Request, **changes: object) -> str:
    """The page's query string with some parameters changed (paging, facets)."""
    from urllib.parse import urlencode

    # None drops a parameter (a facet let go, the first page).
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    params += [(k, str(v)) for k, v in changes.items() if v is not None and v != ""]
    return urlencode(params)


def _navigation() -> list[tuple[str, str, bool | str]]:
    from kartoteka.service.web.pages import NAVIGATION

    return NAVIGATION


_env.filters["highlight"] = highlight
_env.filters["marking"] = lambda label: banner([label])


def banner_class(text: str) -> str:
    """The colour of a banner, by its level (the usual ones: green, blue, red, orange)."""
    for level, name in (("TOP SECRET", "ts"), ("SECRET", "s"), ("CONFIDENTIAL", "c")):
        if text.startswith(level):
            return f"banner-{name}"
    return "banner-u"


_env.filters["banner_class"] = banner_class
_env.globals["query_with"] = query_with


def banner(labels: Iterable[str | None]) -> str:
    """The banner of a page showing material with these stored labels."""
    return roll_up([stored_label(text or "") for text in labels])


def clearance_text(clearance: Clearance) -> str:
    if clearance.everything:
        return "OWNER (everything)"
    return clearance.key.replace(":", " : ")


def viewer_of(caller: Caller) -> dict[str, Any]:
    from kartoteka.archive.common import clearance_of

    clearance = clearance_of(caller.principal.row)
    return {
        "user": caller.principal.user,
        "clearance": clearance_text(clearance),
        "is_owner": clearance.everything,
        "tokens": sorted(clearance.tokens),
    }


def page(
    request: Request,
    template: str,
    caller: Caller | None,
    labels: Iterable[str | None] = (),
    *,
    title: str,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A whole page: the template inside the layout, with the viewer, the banner and a CSRF token."""
    token = session_token(request)
    csrf = request.app.state.csrf.token(token) if token and caller is not None else ""
    html = _env.get_template(template).render(
        request=request,
        title=title,
        viewer=viewer_of(caller) if caller is not None else None,
        banner=banner(labels),
        csrf=csrf,
        navigation=_navigation(),
        **context,
    )
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def fragment(template: str, **context: Any) -> str:
    """A part of a page (for htmx swaps and tests)."""
    return _env.get_template(template).render(**context)
