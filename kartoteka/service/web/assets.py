"""Static files: the application's own CSS and scripts, and the front-end libraries installed from npm.

The libraries are served from `node_modules/` (installed by `bin/setup` with
`npm ci` from package-lock.json), never copied into the repository. Only the
files listed here are served, so nothing else under node_modules is reachable.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

OWN = Path(__file__).parent / "static"

# URL name -> file under node_modules.
VENDOR: dict[str, str] = {
    "htmx.min.js": "htmx.org/dist/htmx.min.js",
    "cytoscape.min.js": "cytoscape/dist/cytoscape.min.js",
    # vis-timeline's peer build, not its standalone one: the standalone build
    # injects its CSS as <style> elements, which the pages' CSP (style-src
    # 'self', no inline styles) refuses; the peer build leaves its CSS to the
    # stylesheet below and takes moment and vis-data as the globals these set.
    "moment.min.js": "moment/min/moment.min.js",
    "vis-data.min.js": "vis-data/peer/umd/vis-data.min.js",
    "vis-timeline-graph2d.js": "vis-timeline/peer/umd/vis-timeline-graph2d.js",
    "vis-timeline-graph2d.min.css": "vis-timeline/styles/vis-timeline-graph2d.min.css",
}


def node_modules() -> Path:
    """$KARTOTEKA_NODE_MODULES, else node_modules/ at the root of the source tree."""
    explicit = os.environ.get("KARTOTEKA_NODE_MODULES")
    if explicit:
        return Path(explicit)
    return Path(__file__).resolve().parents[3] / "node_modules"


def vendor_available(name: str) -> bool:
    return (node_modules() / VENDOR[name]).is_file()


def mount(app: FastAPI) -> None:
    app.mount("/static/app", StaticFiles(directory=OWN), name="static-app")
    root = node_modules()

    from fastapi.responses import FileResponse, Response

    from kartoteka.service.web.render import HEADERS

    @app.get("/static/vendor/{name}", include_in_schema=False)
    def vendor(name: str) -> Response:
        rel = VENDOR.get(name)
        path = root / rel if rel else None
        if path is None or not path.is_file():
            return Response("Not found.", status_code=404, media_type="text/plain")
        media = "text/css" if name.endswith(".css") else "text/javascript"
        headers = {k: v for k, v in HEADERS.items() if k != "Cache-Control"}
        headers["Cache-Control"] = "public, max-age=3600"
        return FileResponse(path, media_type=media, headers=headers)
