"""Analysts' corrections of the card index: merge, split and alias, each audited.

A card or mention the analyst may not see gives the same error as a missing
one, so a correction is never an oracle for hidden cards.
"""

from __future__ import annotations

from typing import Any

from kartoteka.access.labels import LabelError
from kartoteka.archive.common import Context
from kartoteka.errors import E, InvalidInput, NotFound
from kartoteka.index.resolve import entity_id_for
from kartoteka.names.parse import parse_name


class Corrections:
    """Merge, split and alias: the ANALYST role's writes to the card index."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def _existing(self, ref: str) -> str:
        eid = self.ctx.store.resolve_redirect(ref)
        if self.ctx.store.entity(eid) is None or not self.ctx.policy.entity_visible(eid):
            raise NotFound(E.E020, ref=ref)
        return eid

    def merge(self, keep_ref: str, gone_ref: str) -> dict[str, Any]:
        self.ctx.require("merge")
        ctx = self.ctx
        keep, gone = self._existing(keep_ref), self._existing(gone_ref)
        if keep == gone:
            raise InvalidInput(E.E023, entity=keep)
        with ctx.write():
            ctx.store.merge_entities(keep, gone)
            ctx.store.record_correction("merge", {"keep": keep, "merged": gone})
            ctx.audit.record(ctx.actor, "merge", [keep, gone])
        return {"entity_id": keep, "merged": gone}

    def split(self, ref: str, mention_keys: list[str]) -> dict[str, Any]:
        self.ctx.require("split")
        ctx = self.ctx
        eid = self._existing(ref)
        entity = ctx.store.entity(eid)
        assert entity is not None
        # Mention ids as the dossier gave them (document, visible portion,
        # offsets in the portion); one naming nothing the author sees is
        # refused exactly like one naming another card's mention.
        keys = [ctx.mention_key(m) for m in mention_keys]
        for given, key in zip(mention_keys, keys, strict=True):
            if key is None or ctx.store.mention_entity(key) != eid:
                raise InvalidInput(E.E022, mention=given, entity=eid)
        mention_keys = [k for k in keys if k is not None]
        doc, _, span = mention_keys[0].rpartition(":")
        start, _, end = span.partition("-")
        new_id = entity_id_for(self.ctx.store, entity.kind, f"split:{doc}", int(start), int(end))
        moved_texts = {h.text for h in ctx.store.mentions_of(eid) if h.mention_key in set(mention_keys)}
        with ctx.write():
            new_name = max(moved_texts, key=lambda t: (len(parse_name(t).display), t))
            ctx.store.create_entity(new_id, entity.kind, parse_name(new_name).display or new_name, "analyst")
            ctx.store.move_mentions(mention_keys, new_id, pin=True)
            ctx.store.add_names(new_id, [(t, "mention") for t in moved_texts])
            ctx.store.mark_distinct(eid, new_id)
            ctx.store.record_correction("split", {"from": eid, "new": new_id, "mentions": mention_keys})
            ctx.audit.record(ctx.actor, "split", [eid, new_id])
        return {"entity_id": eid, "new_entity_id": new_id, "moved": len(mention_keys)}

    def alias(self, ref: str, name: str, label: str | None = None) -> dict[str, Any]:
        """Add a name a person is also known by. The alias is a fact its author
        knows: it carries `label` (default: the author's clearance)."""
        self.ctx.require("alias")
        ctx = self.ctx
        eid = self._existing(ref)
        parsed = parse_name(name)
        if parsed.is_empty:
            raise InvalidInput(E.E024, name=name)
        try:
            alias_label = ctx.policy.authored_label(label)
        except LabelError as exc:
            raise InvalidInput(E.E070, field="--label", reason=str(exc)) from exc
        with ctx.write():
            # Given, not extracted: a hidden mention of the same name must not swallow it.
            ctx.store.add_given_names(eid, [(name, "analyst")], alias_label)
            ctx.store.record_correction("alias", {"entity": eid, "name": name})
            ctx.audit.record(ctx.actor, "alias", [eid], detail=name)
        return {"entity_id": eid, "alias": name, "label": alias_label}
