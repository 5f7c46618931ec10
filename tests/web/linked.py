"""A demo archive with its relations read and its claims derived, served for the dossier and link chart tests.

The shared `web_server` serves the demo as `kartoteka demo` builds it before
its relation step; these pages need relations (the chart, the path, graded
facts), and the correction tests write to their archive, so each test module
gets a server of its own over a fresh copy.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kartoteka.archive import Archive
from kartoteka.demo import build
from kartoteka.errors import NotFound
from tests.web.conftest import CLERK, Server, start_server, stop_server, web_users

ZORIN = "Arkady Zorin"
VETROVA = "Yelena Vetrova"
MISSING = "per-0000000000000000"


def build_linked(path: Path) -> None:
    arch = build(path)
    try:
        arch.build_relations()
        arch.derive_claims()
    finally:
        arch.close()
    web_users(path)


@contextmanager
def linked_server(folder: Path) -> Iterator[Server]:
    path = folder / "linked.db"
    build_linked(path)
    proc, url = start_server(path)
    try:
        yield Server(url, path)
    finally:
        stop_server(proc)


def entity(path: Path, ref: str) -> str:
    arch = Archive(path)
    try:
        return arch.resolve_ref(ref)
    finally:
        arch.close()


def hidden_from_clerk(path: Path) -> tuple[list[str], list[str], list[str]]:
    """(names, entity ids, document ids) that only the documents hidden from the clerk hold.

    A name counts if no document the clerk may see contains it anywhere in its
    text; short all-capitals tokens (REF, USSR) are left out, since they turn
    up in any page's markup.
    """
    owner, clerk = Archive(path), Archive(path, user=CLERK)
    try:
        visible = {str(d["id"]) for d in clerk.documents(1000)}
        seen = " ".join(p["text"] for d in visible for p in clerk.document(d)["portions"]).casefold()
        hidden_docs = [str(d["id"]) for d in owner.documents(1000) if str(d["id"]) not in visible]
        names: set[str] = set()
        ids: set[str] = set()
        for doc in hidden_docs:
            for m in owner.document(doc)["mentions"]:
                texts = [t for t in (m["text"], m["name"]) if len(t) >= 6 and not t.isupper()]
                if m["text"].casefold() in seen or m["name"].casefold() in seen:
                    continue
                names.update(texts)
                ids.add(str(m["entity_id"]))
        return sorted(names), sorted(e for e in ids if not _visible(clerk, e)), hidden_docs
    finally:
        owner.close()
        clerk.close()


def _visible(arch: Archive, eid: str) -> bool:
    try:
        arch.resolve_ref(eid)
    except NotFound:
        return False
    return True


def assert_no_trace(text: str, names: list[str], ids: list[str], docs: list[str]) -> None:
    for needle in [*names, *ids, *docs, "report-1978-0412", "cable-1977-lisbon"]:
        assert needle not in text, f"{needle!r} is hidden from the clerk but appears"
