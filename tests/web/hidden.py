"""What the demo archive hides from the clerk, for the name check, release and administration tests.

The demo's SECRET report and cable are hidden from a clerk cleared for U.
`hidden_material` finds the names that only they hold (no document the clerk
may see contains them anywhere), the ids of the entities the clerk cannot
see, and the hidden documents' ids; `assert_clean` checks a page, a JSON
answer or a downloaded file for any of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kartoteka.archive import Archive
from kartoteka.errors import NotFound
from tests.web.conftest import CLERK

# Spelled out as well, so that the test still means something if the corpus changes.
KNOWN = ["Kalmykov", "Zorina", "Lebedeva", "Cascais", "Rossio", "Brasileira", "report-1978-0412", "cable-1977-lisbon"]


@dataclass(frozen=True)
class Hidden:
    names: list[str]
    entity_ids: list[str]
    document_ids: list[str]

    def needles(self) -> list[str]:
        return [*KNOWN, *self.names, *self.entity_ids, *self.document_ids]


def hidden_material(path: Path) -> Hidden:
    owner, clerk = Archive(path), Archive(path, user=CLERK)
    try:
        visible = {str(d["id"]) for d in clerk.documents(1000)}
        seen = " ".join(p["text"] for d in visible for p in clerk.document(d)["portions"]).casefold()
        hidden_docs = sorted(str(d["id"]) for d in owner.documents(1000) if str(d["id"]) not in visible)
        names: set[str] = set()
        ids: set[str] = set()
        for doc in hidden_docs:
            for m in owner.document(doc)["mentions"]:
                # Short all-capitals tokens (REF, USSR) turn up in any page's markup.
                texts = [t for t in (m["text"], m["name"]) if len(t) >= 6 and not t.isupper()]
                if m["text"].casefold() not in seen and m["name"].casefold() not in seen:
                    names.update(texts)
                ids.add(str(m["entity_id"]))
        return Hidden(sorted(names), sorted(e for e in ids if not _visible(clerk, e)), hidden_docs)
    finally:
        owner.close()
        clerk.close()


def _visible(arch: Archive, eid: str) -> bool:
    try:
        arch.resolve_ref(eid)
    except NotFound:
        return False
    return True


def document_id(path: Path, source_part: str) -> str:
    arch = Archive(path)
    try:
        return next(str(d["id"]) for d in arch.documents(1000) if source_part in str(d["source"]))
    finally:
        arch.close()


def assert_clean(text: str, hidden: Hidden, where: str) -> None:
    for needle in hidden.needles():
        assert needle not in text, f"{needle!r} is hidden from the clerk but appears in {where}"
