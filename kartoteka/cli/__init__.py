"""The `kartoteka` command line. Commands parse, call `Archive`, and render.

One module per command group; what they share (the app, the global
options, opening the archive, `_fail`) is in common.py:

- registry.py: ingest, show, stats, search, import, demo
- cards.py: check (one name or --batch), cards (the drawer), dossier, merge, split, alias
- analysis.py: relations, links, network, cooccur, timeline, grade, the claim group
- release.py: release, verify-release
- admin.py: the user, source, audit and token groups, serve
- doctor.py: init (an empty archive) and doctor (the full integrity check)
- channels.py: the drop, station and cable groups (secure channels)
- transfer.py: export, backup, restore (and `import DIR` of an export)
"""

from __future__ import annotations

# Importing a command module registers its commands on `app`.
from kartoteka.cli import admin, analysis, cards, channels, doctor, registry, release, transfer  # noqa: F401
from kartoteka.cli.common import app

__all__ = ["app", "main"]

app.add_typer(admin.user_app, name="user")
app.add_typer(analysis.claim_app, name="claim")
app.add_typer(admin.source_app, name="source")
app.add_typer(admin.audit_app, name="audit")
app.add_typer(admin.token_app, name="token")
app.add_typer(channels.drop_app, name="drop")
app.add_typer(channels.station_app, name="station")
app.add_typer(channels.cable_app, name="cable")

# `--help` lists commands in the order they were registered; keep the
# README's order, whichever module defines a command.
_ORDER = [
    "init", "ingest", "check", "import", "cards", "dossier", "search", "merge", "split", "alias", "show", "stats", "demo",
    "release", "verify-release", "relations", "links", "network", "cooccur", "timeline", "serve", "grade",
    "doctor", "export", "backup", "restore",
]  # fmt: skip
app.registered_commands.sort(key=lambda c: _ORDER.index(c.name or (c.callback.__name__ if c.callback else "")))
assert len(app.registered_commands) == len(_ORDER), "a new command needs its place in _ORDER"


def main() -> None:
    app()


if __name__ == "__main__":
    main()
