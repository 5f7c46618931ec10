"""Protected sources: cryptonyms whose true names are sealed, each run by one handler."""

from __future__ import annotations

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
        row = self.ctx.store.user(name)
        if row is None or not clearance_of(row).can_see(stored_label(label)):
            raise InvalidInput(E.E102, name=name, cryptonym=cryptonym)

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
        self._cleared_handler(handler, cryptonym, source_label)
        if ctx.store.source(cryptonym) is not None:
            raise InvalidInput(E.E049, cryptonym=cryptonym)
        sealed = SourceSeal(ctx.path).seal(cryptonym, true_name.strip())
        with ctx.write():
            ctx.store.add_source(cryptonym, sealed, handler)
            ctx.store.set_source_label(cryptonym, source_label)
        ctx.audit.record(ctx.actor, "source add", [cryptonym, handler])
        return {"cryptonym": cryptonym, "handler": handler, "label": source_label}

    def _source_row(self, cryptonym: str) -> tuple[str, bytes, str]:
        row = self.ctx.store.source(cryptonym)
        # Unknown and not-yours answer alike: the registry is itself compartmented.
        # A handler whose clearance no longer covers the source has lost it.
        # The registry chief's role says what they may do, not what they have
        # read: they too must be cleared for the source's label.
        if row is None or not ((self._registry_chief() or row[2] == self.ctx.actor) and self._cleared(cryptonym)):
            raise NotFound(E.E047, cryptonym=cryptonym)
        return row

    def _cleared(self, cryptonym: str) -> bool:
        return self.ctx.policy.can_see(self.ctx.store.source_label(cryptonym) or DEFAULT_SOURCE_LABEL)

    def source_show(self, cryptonym: str) -> dict[str, Any]:
        """The true name, for the source's handler and the registry chief only."""
        _, sealed, handler = self._source_row(cryptonym)
        self.ctx.audit.record(self.ctx.actor, "source read", [cryptonym])
        return {
            "cryptonym": cryptonym,
            "handler": handler,
            "label": self.ctx.store.source_label(cryptonym),
            "true_name": SourceSeal(self.ctx.path).open(cryptonym, sealed),
        }

    def sources(self) -> list[dict[str, Any]]:
        rows = self.ctx.store.sources()
        mine = [(c, h) for c, h in rows if (self._registry_chief() or h == self.ctx.actor) and self._cleared(c)]
        # Each with its label, which the viewer is cleared for: a page listing them is marked by it.
        label = self.ctx.store.source_label
        return [{"cryptonym": c, "handler": h, "label": label(c) or DEFAULT_SOURCE_LABEL} for c, h in mine]

    def source_handover(self, cryptonym: str, new_handler: str) -> dict[str, Any]:
        """Pass a source to a new handler cleared for it: the current handler or the registry chief; audited."""
        ctx = self.ctx
        _, _, old = self._source_row(cryptonym)
        self._cleared_handler(new_handler, cryptonym, ctx.store.source_label(cryptonym) or DEFAULT_SOURCE_LABEL)
        with ctx.write():
            ctx.store.set_source_handler(cryptonym, new_handler)
        ctx.audit.record(ctx.actor, "source handover", [cryptonym, old, new_handler])
        return {"cryptonym": cryptonym, "from": old, "to": new_handler}
