"""Protected sources: cryptonyms whose true names are sealed, each run by one handler."""

from __future__ import annotations

from typing import Any

from kartoteka.access.sources import CRYPTONYM, REGISTRY_TOKEN, SourceSeal
from kartoteka.archive.common import Context
from kartoteka.errors import E, Forbidden, InvalidInput, NotFound


class Sources:
    """The source registry: the handler and the registry chief only."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def _registry_chief(self) -> bool:
        return self.ctx.policy.is_owner or REGISTRY_TOKEN in self.ctx.policy.clearance.tokens

    def _user_exists(self, name: str) -> None:
        if self.ctx.store.user(name) is None:
            raise NotFound(E.E040, name=name)

    def source_add(self, cryptonym: str, true_name: str, handler: str) -> dict[str, Any]:
        """Register a source under a cryptonym (owner or registry chief)."""
        ctx = self.ctx
        if not self._registry_chief():
            raise Forbidden(E.E042, action="register sources", actor=ctx.actor)
        if not CRYPTONYM.match(cryptonym):
            raise InvalidInput(E.E048, cryptonym=cryptonym)
        if not true_name.strip():
            raise InvalidInput(E.E024, name=true_name)
        self._user_exists(handler)
        if ctx.store.source(cryptonym) is not None:
            raise InvalidInput(E.E049, cryptonym=cryptonym)
        sealed = SourceSeal(ctx.path).seal(cryptonym, true_name.strip())
        with ctx.write():
            ctx.store.add_source(cryptonym, sealed, handler)
        ctx.audit.record(ctx.actor, "source add", [cryptonym, handler])
        return {"cryptonym": cryptonym, "handler": handler}

    def _source_row(self, cryptonym: str) -> tuple[str, bytes, str]:
        row = self.ctx.store.source(cryptonym)
        # Unknown and not-yours answer alike: the registry is itself compartmented.
        if row is None or not (self._registry_chief() or row[2] == self.ctx.actor):
            raise NotFound(E.E047, cryptonym=cryptonym)
        return row

    def source_show(self, cryptonym: str) -> dict[str, Any]:
        """The true name, for the source's handler and the registry chief only."""
        _, sealed, handler = self._source_row(cryptonym)
        self.ctx.audit.record(self.ctx.actor, "source read", [cryptonym])
        return {
            "cryptonym": cryptonym,
            "handler": handler,
            "true_name": SourceSeal(self.ctx.path).open(cryptonym, sealed),
        }

    def sources(self) -> list[dict[str, Any]]:
        rows = self.ctx.store.sources()
        mine = [(c, h) for c, h in rows if self._registry_chief() or h == self.ctx.actor]
        return [{"cryptonym": c, "handler": h} for c, h in mine]

    def source_handover(self, cryptonym: str, new_handler: str) -> dict[str, Any]:
        """Pass a source to a new handler: the current handler or the registry chief; audited."""
        ctx = self.ctx
        _, _, old = self._source_row(cryptonym)
        self._user_exists(new_handler)
        with ctx.write():
            ctx.store.set_source_handler(cryptonym, new_handler)
        ctx.audit.record(ctx.actor, "source handover", [cryptonym, old, new_handler])
        return {"cryptonym": cryptonym, "from": old, "to": new_handler}
