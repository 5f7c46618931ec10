"""Protected sources: cryptonyms whose true names are sealed, each run by one handler.

Namesakes (issue 10, "Compartments hardening"). Cryptonyms unique across the
archive made `source add` an oracle: a registrar cleared for S who chose
ORCHARD was refused (E049) because a TOP SECRET ORCHARD existed, and so
learnt that it does; a handler collecting the drop learnt the same of a
source another handler had registered. Refusing a name is an answer
computed from hidden state whatever its wording, and an answer that hides
the refusal (say, "registered" while nothing is) is found out by the next
`source list`. Picking the cryptonym for the registrar (a random one) would
keep it out of their hands, but reports cite cryptonyms a service chose, and
the drop derives its own from the source's folder. So a cryptonym is unique
only among the sources its registrar may see: a source is a row with an id of
its own (schema 16), E049 answers only for a namesake the registrar may see
(which tells them nothing they could not read), and every read resolves a
cryptonym among the sources its viewer may see. A viewer who may see two
namesakes (a chief cleared for both compartments) is told which there are
(E171: their ids, labels and handlers, all of which they may see) and names
one by its id. A registrar may register a source only under a label they are
cleared for (E170): one who may not see what they registered could not tell
their namesake from another's, and has in any case no business holding a true
name of that level.
"""

from __future__ import annotations

import secrets
from typing import Any

from kartoteka.access import roles
from kartoteka.access.labels import Label, LabelError
from kartoteka.access.policy import stored_label
from kartoteka.access.sources import CRYPTONYM, SourceSeal
from kartoteka.archive.common import Context, clearance_of
from kartoteka.errors import E, InvalidInput, NotFound

# A protected source is a human source: SECRET, in the HUM compartment,
# unless registered otherwise.
DEFAULT_SOURCE_LABEL = "S:HUM"

# (id, cryptonym, handler, label): a stored source.
Row = tuple[str, str, str, str]


def new_source_id() -> str:
    # Random, never a function of what the source is; lower case, so never a
    # cryptonym (the id of a source kept from before schema 16).
    return "src-" + secrets.token_hex(8)


class Sources:
    """The source registry: the handler and the registry chief only."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def _registry_chief(self) -> bool:
        return roles.holds(self.ctx.policy.clearance, roles.REGISTRY)

    def _cleared_handler(self, name: str, cryptonym: str, label: str) -> None:
        """The handler must exist and be cleared for the source's label.

        A missing user and one who is not cleared give the same error: what
        users exist, and what they hold, is the owner's to know.
        """
        # No user's name holds a NUL (PostgreSQL text cannot): asked for, it is a missing one.
        row = None if "\x00" in name else self.ctx.store.user(name)
        if row is None or not clearance_of(row).can_see(stored_label(label)):
            raise InvalidInput(E.E102, name=name.replace("\x00", ""), cryptonym=cryptonym)

    def source_add(
        self,
        cryptonym: str,
        true_name: str,
        handler: str,
        label: str = DEFAULT_SOURCE_LABEL,
        action: str = "source add",
    ) -> dict[str, Any]:
        """Register a source under a cryptonym (owner or registry chief; a HANDLER collecting the drop
        registers its new sources under `action` "drop collect")."""
        ctx = self.ctx
        ctx.require(action)
        if not CRYPTONYM.match(cryptonym):
            raise InvalidInput(E.E048, cryptonym=cryptonym)
        if not true_name.strip():
            raise InvalidInput(E.E024, name=true_name)
        try:
            source_label = str(Label.parse(label))
        except LabelError as exc:
            raise InvalidInput(E.E041, reason=f"source label: {exc}") from exc
        # The registrar's own clearance first: refused after the handler's, a label above
        # the registrar told them whether the handler they named is cleared for it (E170,
        # else E102), and what users hold is the owner's to know (`_cleared_handler`).
        if not ctx.policy.can_see(source_label):
            raise InvalidInput(E.E170, label=source_label)
        self._cleared_handler(handler, cryptonym, source_label)
        # Only a namesake the registrar may see refuses the name (see the module's docstring).
        if self._visible(ctx.store.sources(cryptonym)):
            raise InvalidInput(E.E049, cryptonym=cryptonym)
        source_id = new_source_id()
        sealed = SourceSeal(ctx.path).seal(source_id, true_name.strip())
        with ctx.write():
            ctx.store.add_source(source_id, cryptonym, sealed, handler, source_label)
        ctx.audit.record(ctx.actor, "source add", [cryptonym, handler, source_id])
        return {"cryptonym": cryptonym, "handler": handler, "label": source_label, "id": source_id}

    def _visible(self, rows: list[Row]) -> list[Row]:
        """The sources among `rows` the viewer may see.

        The registry is itself compartmented: a source is the handler's, and the
        registry chief's (the owner holds every role). A handler whose clearance no
        longer covers the source has lost it; and the chief's role says what they
        may do, not what they have read: they too must be cleared for its label.
        """
        chief = self._registry_chief()
        can_see = self.ctx.policy.can_see
        return [r for r in rows if (chief or r[2] == self.ctx.actor) and can_see(r[3])]

    def _source_row(self, cryptonym: str, source_id: str | None = None) -> Row:
        """The one source called `cryptonym` the viewer may see (with `source_id`, that one).

        Unknown and not-yours answer alike (E047). Namesakes the viewer may see
        are listed (E171) for them to name one by its id.
        """
        if "\x00" in cryptonym:  # in no cryptonym (CRYPTONYM), nor in PostgreSQL text: a missing source
            raise NotFound(E.E047, cryptonym=cryptonym.replace("\x00", ""))
        rows = self._visible(self.ctx.store.sources(cryptonym))
        if source_id is not None:
            rows = [r for r in rows if r[0] == source_id]
        if not rows:
            raise NotFound(E.E047, cryptonym=cryptonym)
        if len(rows) > 1:
            which = "; ".join(f"{i} ({label}, handler {h})" for i, _, h, label in rows)
            raise InvalidInput(E.E171, count=len(rows), cryptonym=cryptonym, which=which)
        return rows[0]

    def source_show(self, cryptonym: str, source_id: str | None = None) -> dict[str, Any]:
        """The true name, for the source's handler and the registry chief only."""
        sid, _, handler, label = self._source_row(cryptonym, source_id)
        sealed = self.ctx.store.source_sealed(sid)
        if sealed is None:  # handed over or gone between the two reads: as if never there
            raise NotFound(E.E047, cryptonym=cryptonym)
        self.ctx.audit.record(self.ctx.actor, "source read", [cryptonym, sid])
        return {
            "cryptonym": cryptonym,
            "handler": handler,
            "label": label,
            "true_name": SourceSeal(self.ctx.path).open(sid, sealed),
            "id": sid,
        }

    def sources(self) -> list[dict[str, Any]]:
        # Each with its label, which the viewer is cleared for: a page listing them is marked by it.
        # In stored order (cryptonym, label, handler): of what the viewer sees alone.
        mine = self._visible(self.ctx.store.sources())
        # The id is random (never a function of the source), and tells namesakes apart.
        return [{"cryptonym": c, "handler": h, "label": label, "id": i} for i, c, h, label in mine]

    def source_handover(self, cryptonym: str, new_handler: str, source_id: str | None = None) -> dict[str, Any]:
        """Pass a source to a new handler cleared for it: the current handler or the registry chief; audited.

        Never refused for a namesake the new handler already runs: the current
        handler may not see it, and the ids keep the two apart."""
        ctx = self.ctx
        sid, _, old, label = self._source_row(cryptonym, source_id)
        self._cleared_handler(new_handler, cryptonym, label)
        with ctx.write():
            ctx.store.set_source_handler(sid, new_handler)
        ctx.audit.record(ctx.actor, "source handover", [cryptonym, old, new_handler, sid])
        return {"cryptonym": cryptonym, "from": old, "to": new_handler}
