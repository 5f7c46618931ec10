"""The page groups of the web application, each an APIRouter in its own module.

A new page group is a module with a `router` and a line here; the layout's
navigation lists the groups' entries in `NAVIGATION`.
"""

from __future__ import annotations

from types import ModuleType

from kartoteka.service.web.pages import admin, auth, chart, check, documents, dossier, drop, release, search

PAGE_GROUPS: list[ModuleType] = [auth, search, documents, dossier, chart, check, release, drop, admin]

# (path, label, who sees it) of the navigation bar, in order: False everyone,
# True owners, a role name (roles.py) those who hold it, and owners.
NAVIGATION: list[tuple[str, str, bool | str]] = [
    ("/", "Search", False),
    ("/documents", "Documents", False),
    ("/check", "Name check", False),
    ("/dossier", "Dossier", False),
    ("/drop", "Drop", "HANDLER"),
    ("/admin", "Administration", True),
]
