"""The web application: the archive in a browser, beside the JSON API, through the same `Archive` policy layer.

Server-rendered HTML (Jinja2), one module per page group under `pages/`:

- pages/auth.py: log-in and log-out (the API's Argon2 sessions, in a cookie)
- pages/search.py: the home page and search with facets
- pages/documents.py: the document list and the document view
- further page groups register themselves the same way (`PAGE_GROUPS`)

What every page shares is here and in the small modules beside it:
session.py (the session cookie and CSRF tokens), render.py (templates,
the banner rolled up from what a page shows, security headers),
assets.py (our own static files and the front-end libraries from npm).

A page handler asks `Archive` for what it shows, never the store, and
passes the labels of what it shows to `render.page`, which rolls up the
banner. A hidden item and a missing one answer the same bytes (the 404
page echoes nothing).
"""

from __future__ import annotations

from fastapi import FastAPI

from kartoteka.service.web import assets, pages

__all__ = ["mount"]


def mount(app: FastAPI) -> None:
    """Add the web pages and their static files to the API's app."""
    assets.mount(app)
    for group in pages.PAGE_GROUPS:
        app.include_router(group.router)
