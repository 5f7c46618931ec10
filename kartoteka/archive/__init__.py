"""The archive: every question and every correction, as one data function each.

The CLI and the HTTP API only parse arguments, call these, and render the
plain dicts they return, so the channels cannot drift apart. The store is
private to this package: nothing else in kartoteka reads archive content,
which is what makes this the single place an access policy applies.

`Archive` (facade.py) opens the store and builds the viewer's `Context`
(common.py: store, policy, audit log, caches) once, and hands it to one
module per capability:

- documents.py: ingest, stats, listing, showing and searching documents
- cards.py: name check, dossier, corrections, imported persons, the name index
- analysis.py: relations, links, network, co-occurrence, timeline, grades, claims
- release.py: release copies and their verification
- sources.py: protected sources
- users.py: log-in, users, the audit log, the record of corrections

Only `Archive` is exported: the unfiltered store is never reachable from here.
"""

from kartoteka.archive.facade import Archive

__all__ = ["Archive"]
