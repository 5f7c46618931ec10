"""Documents: reading them in, counting, listing, showing and searching them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kartoteka.access.labels import Label, LabelError, roll_up
from kartoteka.access.policy import stored_label
from kartoteka.archive import facets
from kartoteka.archive.cards import Cards
from kartoteka.archive.common import UNCLASSIFIED_LABEL, Context
from kartoteka.errors import E, InvalidInput, NotFound
from kartoteka.index.extract import SpanRunner
from kartoteka.registry.ingest import Ingestor, IngestRun
from kartoteka.registry.readers import RawDocument, ReadError


class Documents:
    """The registry of documents, as the viewer may see it."""

    def __init__(self, ctx: Context, cards: Cards) -> None:
        self.ctx = ctx
        self.cards = cards

    def ingest(
        self,
        items: Iterable[RawDocument | ReadError],
        *,
        workers: int = 1,
        label: str | None = None,
        markings: str = "enforce",
        action: str = "ingest",
        ner: SpanRunner | None = None,
    ) -> IngestRun:
        """Read documents in. `label` (e.g. `S:HUM`) labels each document; portion marks label their portions.

        A bad label is refused here, before anything is read. `action` names the
        write for its role (`drop collect` ingests as a HANDLER, roles.py).
        `ner` runs the model elsewhere (a Ray cluster, registry/cluster.py).
        """
        self.ctx.require(action)
        doc_label = UNCLASSIFIED_LABEL
        if label is not None:
            try:
                doc_label = str(Label.parse(label))
            except LabelError as exc:
                raise InvalidInput(E.E041, reason=str(exc)) from exc
        if markings not in ("enforce", "record"):
            raise InvalidInput(E.E063, mode=markings)
        return self._ingest(items, workers, doc_label, markings, ner)

    def _ingest(
        self,
        items: Iterable[RawDocument | ReadError],
        workers: int,
        doc_label: str,
        markings: str,
        ner: SpanRunner | None = None,
    ) -> IngestRun:
        ctx = self.ctx
        # Anyone but the owner resolves against, and is answered from, their own view.
        index, author = self.cards.name_index(), self.cards.author()
        ctx.names = None
        ctx.policy.invalidate()
        # The ingest keeps its own copy current as it resolves; ours is
        # rebuilt on next use, after the ingest has committed.
        ingestor = Ingestor(
            ctx.store,
            workers=workers,
            names=index,
            label=doc_label,
            markings=markings,
            # Inside the document's savepoint: a stored document always has its
            # audit entry (in the outbox), chained into the trail after each commit.
            on_stored=lambda doc_id: ctx.audit.record(ctx.actor, "ingest", [doc_id]),
            on_commit=ctx.audit.flush,
            author=author,
            ner=ner,
        )
        return ingestor.run(items)

    def stats(self) -> dict[str, Any]:
        store, policy = self.ctx.store, self.ctx.policy
        base = {"archive": self.ctx.location or str(self.ctx.path), "schema_version": store.schema_version()}
        if policy.is_owner:
            return {**base, **store.counts()}
        visible = policy.visible_portions() or set()
        # One pass over the portions table (once per visible portion made
        # stats quadratic: half an hour at 51,218 portions, issue 11).
        doc_of = self.ctx.doc_of_portion()
        docs = {d for d in (doc_of.get(p) for p in visible) if d}
        kinds: dict[str, set[str]] = {"PERSON": set(), "ORG": set(), "PLACE": set(), "CRYPTONYM": set()}
        for eid, kind, pid in store.entity_portions():
            if pid in visible and kind in kinds:
                kinds[kind].add(eid)
        # A card counts through any source the viewer may see: an imported
        # record too, even when a hidden document also names the person.
        imported = {e for e, label in store.sourced_entities() if policy.can_see(label or UNCLASSIFIED_LABEL)}
        for eid in sorted({*store.entities_without_mentions(), *imported}):
            entity = store.entity(eid)
            if entity is not None and entity.kind in kinds:
                kinds[entity.kind].add(eid)

        def total(table: str) -> int:
            return sum(n for pid, n in store.per_portion_counts(table).items() if pid in visible)

        return {
            **base,
            "documents": len(docs),
            "portions": len(visible),
            "mentions": total("mentions"),
            "people": len(kinds["PERSON"]),
            "organisations": len(kinds["ORG"]),
            "places": len(kinds["PLACE"]),
            "cryptonyms": len(kinds["CRYPTONYM"]),
            "dates": total("dates"),
            "markings": total("markings"),
        }

    def documents(self, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
        ctx = self.ctx
        if ctx.policy.is_owner:
            rows = ctx.store.documents(limit, offset)
        else:
            every = ctx.store.documents(10**9, 0)
            rows = [d for d in every if ctx.policy.document_visible(d.id)][offset : offset + limit]
        ctx.audit.record(ctx.actor, "list documents", [d.id for d in rows])
        return [self._summary(d.__dict__) for d in rows]

    def _summary(self, d: dict[str, Any]) -> dict[str, Any]:
        if self.ctx.policy.is_owner:
            return d
        # Counts the viewer can check against what they are shown; the highest
        # banner of the whole file is the owner's to know, as in `show`.
        shown = [r for r in self.ctx.store.portion_rows(d["id"]) if self.ctx.policy.portion_visible(r[0])]
        visible = {k: v for k, v in d.items() if k != "classification"}
        return {**visible, "portion_count": len(shown), "char_count": sum(len(r[3]) for r in shown)}

    def document(self, document_id: str) -> dict[str, Any]:
        """A document as the viewer may see it: the JSON contract of `show --json`.

        Portions are numbered 1, 2, 3 ... over what the viewer sees, and every
        offset (markings, mentions) is inside its portion's text, so nothing
        in the answer measures a hidden portion: not its number, not its length.
        """
        ctx = self.ctx
        if "\x00" in document_id:
            raise NotFound(E.E025, ref=document_id.replace("\x00", ""))  # no id holds a NUL
        summary = ctx.store.document(document_id)
        if summary is None or not ctx.policy.document_visible(document_id):
            raise NotFound(E.E025, ref=document_id)
        labelled = [(r, lab) for r, lab in ctx.labelled_rows(document_id) if ctx.policy.portion_visible(r[0])]
        labels = [lab for r, lab in labelled if r[2] == "text"] or [
            stored_label(ctx.store.document_label(document_id) or UNCLASSIFIED_LABEL)
        ]
        layout = ctx.store.portion_layout(document_id)
        spans = {pid: row[0] for pid, row in layout.items()}
        number = {r[0]: n for n, (r, _) in enumerate(labelled, start=1)}
        portions: list[dict[str, Any]] = []
        for (pid, _seq, kind, text, mark, _own), lab in labelled:
            _start, page, confidence, boilerplate = layout[pid]
            portions.append(
                {
                    "n": number[pid],
                    "kind": kind,
                    "page": page,
                    "mark": mark,
                    "label": str(lab),
                    "boilerplate": boilerplate,
                    "ocr_confidence": confidence,
                    "text": text,
                }
            )
        markings = [
            {"portion": number[pid], "kind": k, "value": v, "start": s - spans[pid], "end": e - spans[pid]}
            for k, v, s, e, pid in ctx.store.portion_markings(document_id)
            if pid is not None and pid in number
        ]
        mentions: list[dict[str, Any]] = []
        for pid, pstart, _text, s, e, kind, eid in ctx.store.portion_mentions(document_id):
            if pid not in number:
                continue
            entity = ctx.store.entity(eid)
            stored = entity.name if entity else eid
            mentions.append(
                {
                    "entity_id": eid,
                    "kind": kind,
                    "name": self.cards.display(eid, stored),
                    "text": _text[s - pstart : e - pstart],
                    "portion": number[pid],
                    "start": s - pstart,
                    "end": e - pstart,
                }
            )
        # Pages that hold something the viewer sees; a page of hidden
        # portions only is not listed (its existence is not theirs to know),
        # and the pages a viewer sees are numbered 1, 2, 3 ... without the gap
        # it would leave.
        seen_pages = {p["page"] for p in portions}
        page_no = {pg: n for n, pg in enumerate(sorted(pg for pg in seen_pages if pg is not None), start=1)}
        if not ctx.policy.is_owner:
            for p in portions:
                p["page"] = page_no.get(p["page"], p["page"])

        def page_confidence(page: int, whole_page: float | None) -> float | None:
            if ctx.policy.is_owner or whole_page is None:
                return whole_page
            # A page's confidence over all its words would move with hidden
            # text: a viewer gets the mean over the portions they see.
            shown = [p["ocr_confidence"] for p in portions if p["page"] == page and p["ocr_confidence"] is not None]
            return round(sum(shown) / len(shown), 3) if shown else None

        pages = [
            {
                "page": pg if ctx.policy.is_owner else page_no[pg],
                "method": method,
                "ocr_confidence": page_confidence(page_no[pg] if not ctx.policy.is_owner else pg, conf),
            }
            for pg, _s, _e, method, conf in ctx.store.document_pages(document_id)
            if pg in seen_pages
        ]
        encoding, replaced, markings_mode = ctx.store.document_encoding(document_id)
        banner = roll_up(labels)
        ctx.audit.record(ctx.actor, "read document", [document_id])
        out: dict[str, Any] = {
            "document_id": document_id,
            "source": summary.source,
            "format": summary.format,
            "label": banner,
            "banner": banner,
            # enforce: the banner and portion marks are the labels; record: they
            # are history only (an already released collection).
            "markings_mode": markings_mode,
            "portion_count": len(portions),
            "char_count": sum(len(p["text"]) for p in portions),
            "pages": pages,
            "portions": portions,
            "markings": markings,
            "mentions": mentions,
        }
        if ctx.policy.is_owner:
            # Facts about the whole file: only its owner sees what a portion
            # count or a byte count of the original would give away.
            out["classification"] = summary.classification
            out["encoding"] = encoding
            out["replaced"] = replaced
        return out

    def search(
        self,
        query: str,
        limit: int = 20,
        offset: int = 0,
        chosen: Mapping[str, str] | None = None,
        with_facets: bool = False,
    ) -> dict[str, Any]:
        """Full-text search over what the viewer may see, best first.

        A viewer's query runs only in the label partitions they may see whole
        (see `kartoteka.store.search`): the rank of a hit, the total and the
        time taken are computed from visible paragraphs alone. `chosen` keeps
        the passages with these facet values and `with_facets` counts them
        (archive/facets.py), over the best `FACET_LIMIT` matches.
        """
        for name in chosen or {}:
            if name not in facets.FACETS:
                raise InvalidInput(E.E071, field="facet", value=name, expected=", ".join(facets.FACETS))
        ctx = self.ctx
        partitions = ctx.store.search_partitions()
        try:
            fts, matches = query, self._matches(query, partitions)
        except ValueError:
            # Not FTS5 syntax ("Gen. Kalugin"): search the words as a phrase-free AND.
            words = [w for w in "".join(c if c.isalnum() else " " for c in query).split() if w]
            if not words:
                return {"query": query, "total": 0, "hits": []}
            fts = " ".join(f'"{w}"' for w in words)
            matches = self._matches(fts, partitions)
        # A hit carries its passage's label (the partition's governing label),
        # which the viewer sees anyway in `show`: the web page rolls its banner up from them.
        label_of = {part: portion_label for part, _doc, portion_label in partitions}
        faceted: dict[str, Any] = {}
        if chosen or with_facets:
            best = matches[: facets.FACET_LIMIT]
            facts = ctx.store.passage_facets([pid for pid, _rank, _part in best])
            passages = [facets.passage(pid, label_of.get(part, ""), facts[pid]) for pid, _rank, part in best]
            kept = facets.keep(passages, chosen or {})
            if chosen:
                ids = {p.portion_id for p in kept}
                matches = [m for m in best if m[0] in ids]
            faceted = {"filters": dict(chosen or {}), "facets_over": len(best)}
            if with_facets:
                faceted["facets"] = facets.counts(kept)
        page = matches[offset : offset + limit]
        hits = ctx.store.partition_hits(fts, page)
        part_of = {pid: part for pid, _rank, part in page}
        ctx.audit.record(ctx.actor, "search", [h.document_id for h in hits], detail=query)
        return {
            "query": query,
            "total": len(matches),
            "hits": [
                {
                    "document_id": h.document_id,
                    "source": h.source,
                    "portion": ctx.portion_number(h.document_id, h.portion_id),
                    "snippet": h.snippet,
                    "label": str(stored_label(label_of.get(part_of.get(h.portion_id, -1), "") or "")),
                }
                for h in hits
            ],
            **faceted,
        }

    def _matches(self, fts: str, partitions: list[tuple[int, str, str]]) -> list[tuple[int, float, int]]:
        """(portion id, rank, partition) of every visible match, best first, among these partitions."""
        policy = self.ctx.policy
        parts = [
            part
            for part, doc_label, portion_label in partitions
            if policy.can_see(doc_label) and policy.can_see(portion_label)
        ]
        return self.ctx.store.search_in_partitions(fts, parts)
