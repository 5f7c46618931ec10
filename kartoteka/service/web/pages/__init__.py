"""The page groups of the web application, each an APIRouter in its own module.

A new page group is a module with a `router` and a line here; the layout's
navigation lists the groups' entries in `NAVIGATION`.
"""

from __future__ import annotations

from types import ModuleType

from kartoteka.service.web.pages import admin, auth, chart, check, documents, dossier, release, search

PAGE_GROUPS: list[ModuleType] = [auth, search, documents, dossier, chart, check, release, admin]

# (path, label, owner only) of the navigation bar, in order.
NAVIGATION: list[tuple[str, str, bool]] = [
    ("/", "Search", False),
    ("/documents", "Documents", False),
    ("/check", "Name check", False),
    ("/dossier", "Dossier", False),
    ("/admin", "Administration", True),
]
