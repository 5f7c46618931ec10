"""The access policy: the one place that decides what a viewer may see.

A document's label governs whether it exists for the viewer at all; a
portion is visible when its document is and its own label (or, unmarked, the
document's) is within the viewer's clearance. Mentions, dates, markings and
everything derived from them (names, aliases, co-mentions, counts) follow
their portion. Entities exist for a viewer only through visible evidence;
imported records and analysts' entities, which no document labelled, are
unclassified.

A stored label that does not parse fails closed: only the owner sees it.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from kartoteka.access.labels import UNCLASSIFIED, Clearance, Label, LabelError, Level, Token
from kartoteka.access.roles import ROLES
from kartoteka.store.base import Store

# What an unreadable stored label becomes: TOP SECRET with a token no user can
# hold (clearances hold bare tokens only, and this one has a space).
UNREADABLE = Label(Level.TS, Token("unreadable label"))


@cache
def stored_label(text: str) -> Label:
    """A label as stored; one that does not parse fails closed (only the owner sees it)."""
    try:
        return Label.parse(text)
    except LabelError:
        return UNREADABLE


class Policy:
    def __init__(self, store: Store, clearance: Clearance, actor: str) -> None:
        self.store = store
        self.clearance = clearance
        self.actor = actor
        self._docs: set[str] | None = None
        self._portions: set[int] | None = None
        self._entities: set[str] | None = None

    @property
    def is_owner(self) -> bool:
        return self.clearance.everything

    def invalidate(self) -> None:
        self._docs = self._portions = self._entities = None

    def can_see(self, label_text: str | None) -> bool:
        if self.is_owner:
            return True
        return self.clearance.can_see(stored_label(label_text or ""))

    def _compute(self) -> None:
        docs: set[str] = set()
        hidden_docs: set[str] = set()
        portions: set[int] = set()
        for pid, doc_id, plabel, dlabel in self.store.portion_labels():
            if doc_id not in docs and doc_id not in hidden_docs:
                (docs if self.can_see(dlabel) else hidden_docs).add(doc_id)
            if doc_id in docs and self.can_see(plabel or dlabel):
                portions.add(pid)
        self._docs, self._portions = docs, portions

    def authored_label(self, explicit: str | None, cited: str | None = None) -> str:
        """The label of a fact made by hand: as given, else the cited document's,
        else the author's own clearance, since what a cleared author writes may
        rest on anything they have read. The owner's facts default to U, as
        an unmarked document does. A label the author could not read is refused.
        """
        if explicit is not None:
            label = Label.parse(explicit)  # LabelError: the caller names the field
            if not self.clearance.can_see(label):
                raise LabelError(f"label {explicit!r} is above your own clearance")
            return str(label)
        if cited is not None:
            return cited
        if self.is_owner:
            return str(UNCLASSIFIED)
        # Roles (REGISTRY, ANALYST, RELEASE) say what the author may do, not what
        # they have read: a fact labelled with them would hide from readers who may see it.
        return str(Label.of_tokens(self.clearance.level, sorted(self.clearance.tokens - ROLES.keys())))

    def document_visible(self, document_id: str) -> bool:
        if self.is_owner:
            return self.store.document_label(document_id) is not None
        if self._docs is None:
            self._compute()
        assert self._docs is not None
        return document_id in self._docs

    def portion_visible(self, portion_id: int) -> bool:
        if self.is_owner:
            return True
        if self._portions is None:
            self._compute()
        assert self._portions is not None
        return portion_id in self._portions

    def portions_visible(self, portion_ids: Iterable[int]) -> bool:
        """May the viewer see every one of these portions? What a derived fact rests on."""
        return all(self.portion_visible(p) for p in portion_ids)

    def visible_portions(self) -> set[int] | None:
        """Every visible portion id, or None for "all" (the owner)."""
        if self.is_owner:
            return None
        if self._portions is None:
            self._compute()
        return self._portions

    def entity_visible(self, entity_id: str) -> bool:
        if self.is_owner:
            return True
        if self._entities is None:
            # A card is visible through any one of its sources the viewer may
            # see: a visible mention, or an imported record (a source with its
            # own label). A hidden mention never takes a card away.
            visible = self.visible_portions() or set()
            ents = {eid for eid, _, pid in self.store.entity_portions() if pid in visible}
            ents.update(e for e, label in self.store.sourced_entities() if self.can_see(label or "U"))
            ents.update(self.store.entities_without_mentions())
            self._entities = ents
        return entity_id in self._entities
