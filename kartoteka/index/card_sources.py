"""What resolution may weigh of a candidate card: its names, by what the readers of a mention see.

A card's names come from its labelled sources (passages, imported records,
analysts' aliases; `Store.person_name_sources`). A mention's readers judge a
card by the names from sources they all see; a card with no such source is
one they do not see at all, whatever else the index holds of it.
"""

from __future__ import annotations

from collections.abc import Iterable

from kartoteka.access.labels import Label, readers_see
from kartoteka.names.parse import ParsedName, parse_name
from kartoteka.store.base import Store


def alias_form(text: str) -> str:
    return " ".join(text.replace("’", "'").split()).removesuffix("'s").removesuffix("'")


class CardSources:
    """Candidate cards' names from their labelled sources, split by what every one of
    `readers` may see (without readers, every name is seen); read from the store as
    the name index asks about the cards, each card once."""

    def __init__(self, store: Store, readers: list[Label] | None) -> None:
        self.store = store
        self.readers = readers
        self._seen: dict[str, list[ParsedName]] = {}
        self._seen_forms: dict[str, set[str]] = {}
        self._every: dict[str, list[ParsedName]] = {}
        self._read: set[str] = set()
        # A card's sources share a few labels: each pair judged once.
        self._judged: dict[tuple[str | None, str], bool] = {}

    def read(self, ids: Iterable[str]) -> None:
        new = [e for e in ids if e not in self._read]
        if not new:
            return
        self._read.update(new)
        for eid, name, doc_label, label in self.store.person_name_sources(new):
            parsed = parse_name(alias_form(name))
            if parsed.is_empty:
                continue
            self._every.setdefault(eid, []).append(parsed)
            if self._shown(doc_label, label):
                self._seen.setdefault(eid, []).append(parsed)
                self._seen_forms.setdefault(eid, set()).add(_form(parsed))

    def _shown(self, doc_label: str | None, label: str) -> bool:
        if self.readers is None:
            return True
        if (doc_label, label) not in self._judged:
            own = Label.parse(label)
            source = own if doc_label is None else Label.join([Label.parse(doc_label), own])
            self._judged[(doc_label, label)] = all(readers_see(r, source) for r in self.readers)
        return self._judged[(doc_label, label)]

    def seen(self, eid: str) -> list[ParsedName]:
        """The card's names from sources all the readers see (none: not a card they see)."""
        return self._seen.get(eid, [])

    def shows(self, eid: str, name: str) -> bool:
        """Is `name`, a name the name index holds for the card, one of the
        names the readers see of it (compared as parsed, titles dropped)?"""
        return _form(parse_name(alias_form(name))) in self._seen_forms.get(eid, ())

    def unseen(self, eid: str) -> list[ParsedName]:
        """Every name of a card none of whose sources all the readers see (else none)."""
        return [] if eid in self._seen else self._every.get(eid, [])


def _form(p: ParsedName) -> str:
    # "Colonel Ivan Petrov" on file as "Ivan Petrov", "IVAN PETROV" as seen in
    # a cable: one name.
    return p.display.casefold()
