"""What every capability of the archive shares: one viewer's context, and small helpers.

The facade builds one `Context` per `Archive`: the store, the viewer's policy
and the audit log, with the caches that a write must drop. Each capability
module receives it; none opens the store itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from kartoteka.access import roles
from kartoteka.access.audit import AuditLog
from kartoteka.access.labels import OWNER, Clearance, Label, Level
from kartoteka.access.policy import Policy, stored_label
from kartoteka.analysis.graph import RelationGraph
from kartoteka.errors import E, Forbidden
from kartoteka.names.index import NameIndex
from kartoteka.store.base import Store
from kartoteka.store.location import Location
from kartoteka.store.records import MentionHit

SNIPPET_CONTEXT = 110
UNCLASSIFIED_LABEL = "U"

PortionRow = tuple[int, int, str, str, str | None, str | None]


@dataclass
class Context:
    """One archive as one viewer sees it: the store, read only through `policy`, and the audit log.

    The caches live here, not in a capability, because any write drops them all.
    """

    path: Path
    store: Store
    policy: Policy
    audit: AuditLog
    names: NameIndex | None = None
    visible_names: dict[str, list[str]] = field(default_factory=dict)
    # Relation graphs by date window, kept until the next write: a server
    # answers path queries from memory, not from a fresh read of every relation.
    graphs: dict[tuple[str | None, str | None], RelationGraph] = field(default_factory=dict)
    data_version: int = 0
    # Each document's portions numbered as the viewer sees them (1, 2, 3 ...
    # over visible portions only), by portion id; kept until the next write.
    numbers: dict[str, dict[int, int]] = field(default_factory=dict)
    # Where the archive is, as shown (a file, or a PostgreSQL URL without its password);
    # `path` is where its side files are named from (kartoteka/store/location.py).
    location: str = ""
    # Where the archive is, with its password: what a transfer backend opens (archive/transfer.py).
    target: Location = field(default=Path())

    def __post_init__(self) -> None:
        self.data_version = self.store.data_version()

    @property
    def actor(self) -> str:
        return self.policy.actor

    def refresh(self) -> None:
        """Drop cached views if another process wrote to the archive since."""
        version = self.store.data_version()
        if version != self.data_version:
            self.data_version = version
            self.names = None
            self.graphs.clear()
            self.numbers.clear()
            self.policy.invalidate()

    @contextmanager
    def write(self) -> Iterator[None]:
        """A write transaction; the name index, graphs and visibility are recomputed on next use."""
        self.names = None
        self.graphs.clear()
        self.numbers.clear()
        self.policy.invalidate()
        with self.store.transaction():
            yield
        # Audit entries recorded inside the transaction committed with it (the
        # outbox); chain them into the trail now (a no-op inside an outer one).
        self.audit.flush()

    def owner_only(self, action: str) -> None:
        if not self.policy.is_owner:
            raise Forbidden(E.E042, action=action, actor=self.actor)

    def require(self, action: str) -> None:
        """Refuse a write whose author lacks its role (`kartoteka.access.roles`).

        Called first in every write, before anything is read, so that the
        refusal says nothing about what the archive holds.
        """
        role, doing = roles.role_for(action)
        if not roles.holds(self.policy.clearance, role):
            raise Forbidden(E.E100, action=doing, role=role, actor=self.actor)

    def doc_of_portion(self) -> dict[int, str]:
        return {pid: doc for pid, doc, _, _ in self.store.portion_labels()}

    def labelled_rows(self, document_id: str) -> list[tuple[PortionRow, Label]]:
        """A document's portion rows (id, seq, kind, text, mark, label), each with the
        label that governs it: its own, or else the document's."""
        doc_label = self.store.document_label(document_id) or UNCLASSIFIED_LABEL
        return [(r, stored_label(r[5] or doc_label)) for r in self.store.portion_rows(document_id)]

    def portion_label(self, memo: dict[str, dict[int, str]], document_id: str, portion_id: int) -> str:
        """The stored label governing a portion (its own, else its document's): what a
        page citing the portion rolls its banner up from. `memo` keeps each document's
        labels for one answer."""
        if document_id not in memo:
            memo[document_id] = {r[0]: str(lab) for r, lab in self.labelled_rows(document_id)}
        return memo[document_id][portion_id]

    def portion_numbers(self, document_id: str) -> dict[int, int]:
        """The viewer's number (1, 2, 3 ...) of each portion of a document they may see.

        Every citation a viewer is given (search hits, dossier snippets,
        timelines, relation evidence) uses these, as `show` does: a stored
        sequence number would count hidden portions before it.
        """
        found = self.numbers.get(document_id)
        if found is None:
            rows = self.store.portion_rows(document_id)
            found = {r[0]: n for n, r in enumerate((r for r in rows if self.policy.portion_visible(r[0])), start=1)}
            self.numbers[document_id] = found
        return found

    def portion_number(self, document_id: str, portion_id: int) -> int:
        return self.portion_numbers(document_id)[portion_id]

    def mention_id(self, h: MentionHit) -> str:
        """A mention's id as the viewer sees it: document, visible portion number and
        offsets inside the portion (`doc-…:3:10-24`), so it measures nothing hidden."""
        n = self.portion_number(h.document_id, h.portion_id)
        return f"{h.document_id}:{n}:{h.start - h.portion_start}-{h.end - h.portion_start}"

    def mention_key(self, mention_id: str) -> str | None:
        """The stored key of a mention id the viewer was given; None if it names nothing they may see."""
        doc, sep, rest = mention_id.partition(":")
        n_text, sep2, span = rest.partition(":")
        start_text, sep3, end_text = span.partition("-")
        if not (sep and sep2 and sep3 and n_text.isdigit() and start_text.isdigit() and end_text.isdigit()):
            return None
        if not self.policy.document_visible(doc):
            return None
        by_number = {n: pid for pid, n in self.portion_numbers(doc).items()}
        pid = by_number.get(int(n_text))
        if pid is None:
            return None
        _seq, text, pstart = self.store.portion_text(pid)
        start, end = int(start_text), int(end_text)
        if not 0 <= start < end <= len(text):
            return None  # offsets past the portion would reach into the hidden text beside it
        return f"{doc}:{pstart + start}-{pstart + end}"

    def sees_whole(self, document_id: str) -> bool:
        """May the viewer see a document and every portion of it?"""
        if not self.policy.document_visible(document_id):
            return False
        return all(self.policy.portion_visible(r[0]) for r in self.store.portion_rows(document_id))

    def visible_partitions(self) -> list[int] | None:
        """The label partitions the viewer sees whole (None for the owner: all of them).

        Reads of mentions ask only for these (`kartoteka.store.partitions`), so
        the work a viewer's dossier, timeline or co-occurrence does is the same
        however many hidden passages name the entity.
        """
        if self.policy.is_owner:
            return None
        can_see = self.policy.can_see
        return [
            part for part, doc_label, label in self.store.label_partitions() if can_see(doc_label) and can_see(label)
        ]

    def visible_mentions(self, eid: str) -> list[MentionHit]:
        hits = self.store.mentions_of(eid, self.visible_partitions())
        return [h for h in hits if self.policy.portion_visible(h.portion_id)]

    def visible_entity_portions(self) -> Iterator[tuple[str, str, int, str]]:
        """(entity id, kind, portion id, document id) of every visible mention of a live entity."""
        for row in self.store.entity_portions_in(self.visible_partitions()):
            if self.policy.portion_visible(row[2]):
                yield row

    def visible_document_count(self) -> int:
        """How many documents have a portion the viewer may see."""
        return self.store.documents_in(self.visible_partitions())


# The reserved token of a user who is an owner of the archive (`user add NAME --clearance OWNER`).
OWNER_TOKEN = "OWNER"


def clearance_of(row: tuple[str, str, str, str | None]) -> Clearance:
    """A stored user's clearance: (name, level, comma-separated tokens, password hash).

    A user holding the reserved token OWNER is an owner of the archive (the
    web application's administrator): they see and may do everything."""
    if OWNER_TOKEN in row[2].split(","):
        return OWNER
    return Clearance(Level[row[1]], frozenset(t for t in row[2].split(",") if t))


def snippet(text: str, start: int, end: int, context: int = SNIPPET_CONTEXT) -> str:
    a, b = max(0, start - context), min(len(text), end + context)
    # Cut at word boundaries so a snippet never starts mid-word.
    if a > 0:
        space = text.find(" ", a, start)
        a = space + 1 if space != -1 else a
    if b < len(text):
        space = text.rfind(" ", end, b)
        b = space if space != -1 else b
    body = " ".join(text[a:b].split())
    return ("… " if a > 0 else "") + body + (" …" if b < len(text) else "")
