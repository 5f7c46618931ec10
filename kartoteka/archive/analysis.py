"""Analysis: relations and their graph, co-occurrence and timelines (graded claims: claims.py).

Every figure is computed over what the viewer may see: a relation, a
co-occurrence or a claim in a hidden passage does not count.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from kartoteka.access.labels import Clearance
from kartoteka.access.policy import stored_label
from kartoteka.analysis import relations
from kartoteka.analysis.cooccur import benjamini_hochberg, cooccurrence
from kartoteka.analysis.graph import RelationGraph
from kartoteka.analysis.knox import knox
from kartoteka.archive.cards import Cards
from kartoteka.archive.common import UNCLASSIFIED_LABEL, Context, snippet
from kartoteka.store.records import support_text


def _in_window(d0: str | None, d1: str | None, since: str | None, until: str | None) -> bool:
    """Does a dated relation overlap [since, until]? Dates are ISO prefixes of any
    precision: "1977" overlaps a window from 1977-06."""
    if d0 is None:
        return False
    last = d1 or d0
    if until and d0[: len(until)] > until[: len(d0)]:
        return False
    return not (since and last[: len(since)] < since[: len(last)])


def _relation_order(r: dict[str, Any]) -> tuple[Any, ...]:
    """Relations between the same two entities in an order of what they say and cite."""
    ev = r["evidence"]
    return (r["type"], ev["source"], ev["portion"], ev["snippet"], r["start"] or "", r["end"] or "")


class Analysis:
    """Questions across documents; entities are named as the card index resolves and displays them."""

    def __init__(self, ctx: Context, cards: Cards) -> None:
        self.ctx = ctx
        self.cards = cards

    # co-occurrence ---------------------------------------------------------------
    def _entity_documents(self) -> tuple[dict[str, set[str]], int]:
        """Visible documents per entity, and how many visible documents there are."""
        docs: dict[str, set[str]] = {}
        for eid, _, _, doc in self.ctx.visible_entity_portions():
            docs.setdefault(eid, set()).add(doc)
        return docs, self.ctx.visible_document_count()

    def cooccur(self, a_ref: str, b_ref: str) -> dict[str, Any]:
        """Do A and B appear together in more documents than chance would put them?"""
        a, b = self.cards.resolve_ref(a_ref), self.cards.resolve_ref(b_ref)
        docs, n = self._entity_documents()
        result = cooccurrence(a, b, docs.get(a, set()), docs.get(b, set()), n)
        places = self._places_by_portion()
        space_time = knox(self._events(a, places), self._events(b, places))
        self.ctx.audit.record(self.ctx.actor, "cooccur", [a, b])
        return {**result.as_json(), "knox": space_time.as_json() if space_time else None}

    def _places_by_portion(self) -> dict[int, set[str]]:
        places: dict[int, set[str]] = {}
        for eid, kind, pid, _ in self.ctx.visible_entity_portions():
            if kind == "PLACE":
                places.setdefault(pid, set()).add(eid)
        return places

    def _events(self, eid: str, places: dict[int, set[str]]) -> list[tuple[str, str]]:
        """(place id, date) for every visible passage naming the entity, a place and a date."""
        portions = sorted({h.portion_id for h in self.ctx.visible_mentions(eid)})
        dates = self.ctx.store.dates_in_portions(portions)
        events = {
            (place, d.value) for pid in portions for place in places.get(pid, ()) for d in dates.get(pid, []) if d.value
        }
        # The permutation test draws in the order of its events: order them by
        # what the viewer sees (date, the place's shown name), not by place ids.
        shown = {p: self.cards.shown(p) for p, _ in events}
        return sorted(events, key=lambda ev: (ev[1], shown[ev[0]], ev[0]))

    def associates(self, ref: str, limit: int = 20) -> dict[str, Any]:
        """An entity's associates ranked by how unlikely their co-occurrence is by chance,
        with Benjamini–Hochberg q-values over every associate tested."""
        eid = self.cards.resolve_ref(ref)
        docs, n = self._entity_documents()
        mine = docs.get(eid, set())
        tested = [
            cooccurrence(eid, other, mine, theirs, n)
            for other, theirs in docs.items()
            if other != eid and mine & theirs
        ]
        qs = benjamini_hochberg([t.p_value for t in tested])
        named = []
        for t, q in zip(tested, qs, strict=True):
            entity = self.ctx.store.entity(t.b)
            named.append((t, q, self.cards.display(t.b, entity.name) if entity else t.b, entity.kind if entity else ""))
        # Ties go by the name shown, not by the id: an id is keyed from a first
        # mention that may be hidden, so its order is not the viewer's to see.
        named.sort(key=lambda x: (x[0].p_value, -x[0].k, x[2], x[0].b))
        out = [{**t.as_json(), "name": name, "kind": kind, "q_value": q} for t, q, name, kind in named[:limit]]
        self.ctx.audit.record(self.ctx.actor, "associates", [eid])
        return {"entity_id": eid, "n": n, "tested": len(tested), "associates": out}

    def timeline(self, ref: str) -> dict[str, Any]:
        """Dated passages about an entity, in order, each date with its precision."""
        eid = self.cards.resolve_ref(ref)
        entity = self.ctx.store.entity(eid)
        assert entity is not None
        hits = self.ctx.visible_mentions(eid)
        by_portion = {h.portion_id: h for h in hits}
        dates = self.ctx.store.dates_in_portions(sorted(by_portion))
        events: list[dict[str, Any]] = []
        undated: list[dict[str, Any]] = []
        labels: dict[str, dict[int, str]] = {}
        for pid, h in by_portion.items():
            rel_start, rel_end = h.start - h.portion_start, h.end - h.portion_start
            cite = {
                "document_id": h.document_id,
                "source": h.source,
                "portion": self.ctx.portion_number(h.document_id, pid),
                "snippet": snippet(h.portion_text, rel_start, rel_end),
                "label": self.ctx.portion_label(labels, h.document_id, pid),
            }
            found = dates.get(pid, [])
            if not found:
                undated.append(cite)
            for d in found:
                precision = {4: "year", 7: "month", 10: "day"}.get(len(d.value or ""), "unknown")
                events.append({"date": d.value, "text": d.text, "precision": precision, **cite})
        # Mixed precision sorts by the earliest day each date could mean;
        # "1978" comes before "1978-03-04" and is marked as a year, not a day.
        events.sort(key=lambda e: (e["date"] is None, e["date"] or "", e["precision"] != "year"))
        self.ctx.audit.record(self.ctx.actor, "timeline", [eid, *(e["document_id"] for e in events)])
        return {
            "entity_id": eid,
            "name": self.cards.display(eid, entity.name),
            "events": events,
            "undated": undated,
        }

    # relations -------------------------------------------------------------------
    def build_relations(self, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
        """Extract typed relations from every document not yet read by the current extractor."""
        ctx, store = self.ctx, self.ctx.store
        ctx.owner_only("extract relations")
        todo = store.documents_without_relations(relations.COMPONENT)
        found = 0
        nlp = relations.load_parser() if todo else None
        for i, doc_id in enumerate(todo):
            by_portion: dict[int, tuple[int, str, list[relations.Ent]]] = {}
            for pid, pstart, ptext, m_start, m_end, kind, eid in store.portion_mentions(doc_id):
                entry = by_portion.setdefault(pid, (pstart, ptext, []))
                entry[2].append(relations.Ent(m_start - pstart, m_end - pstart, kind, eid))
            rows = self._document_relations(doc_id, by_portion, nlp)
            with ctx.write():
                found += store.replace_relations(doc_id, relations.COMPONENT, rows)
            if progress:
                progress(i + 1, len(todo))
        ctx.audit.record(ctx.actor, "build relations", todo)
        return {"documents": len(todo), "relations": found}

    def _document_relations(
        self, doc_id: str, by_portion: dict[int, tuple[int, str, list[relations.Ent]]], nlp: Any
    ) -> list[tuple[object, ...]]:
        """Relation rows of one document, read once per view of it.

        Who "I" is comes from other paragraphs (the interviewee's introduction,
        the teller named before a quotation), and a hidden paragraph can both
        name a speaker and stand between a teller and the quotation. So the
        speakers are found once for each reader the document has: for each
        label among its portions, over the portions a reader cleared exactly
        for it may see. A relation through a speaker records where the speaker
        was named (its support); the lowest view's row is kept when two views
        find the same relation, so each reader sees what their own view of
        the document says, whatever lies above them.
        """
        store = self.ctx.store
        doc_label = stored_label(store.document_label(doc_id) or UNCLASSIFIED_LABEL)
        texts = [
            (pid, text, stored_label(own) if own else doc_label)
            for pid, _, kind, text, _, own in store.portion_rows(doc_id)
            if kind == "text"
        ]
        views = sorted({lab for _, _, lab in texts}, key=lambda lab: (lab.level, str(lab)))
        dates = store.dates_in_portions(sorted(by_portion))
        parsed: dict[int, Any] = {}
        done: dict[int, set[str | None]] = {}
        rows: list[tuple[object, ...]] = []
        for view in views:
            reader = Clearance(view.level, view.tokens)
            if not reader.can_see(doc_label):
                continue
            # Speakers are read on the parser's view: a portion mark "(U)" blanked,
            # so that a marked answer still opens with its dash or quotation.
            seen = [(pid, relations.parse_view(text)) for pid, text, lab in texts if reader.can_see(lab)]
            ents_of = {pid: by_portion[pid][2] for pid, _ in seen if pid in by_portion}
            speakers = relations.speakers(seen, ents_of)
            named_in = {id(e): pid for pid, ents in ents_of.items() for e in ents}
            for pid, ents in ents_of.items():
                speaker = speakers.get(pid)
                key = speaker.key if speaker else None
                if key in done.setdefault(pid, set()):
                    continue  # this paragraph was read with this speaker in a lower view
                done[pid].add(key)
                if len({e.key for e in ents} | ({key} if key else set())) < 2:
                    continue
                pstart, ptext, _ = by_portion[pid]
                if pid not in parsed:
                    parsed[pid] = nlp(relations.parse_view(ptext))
                origin = named_in.get(id(speaker)) if speaker is not None else None
                support = support_text([origin] if origin is not None and origin != pid else [])
                for r in relations.extract(parsed[pid], ents, speaker):
                    a, b = pstart + r.start, pstart + r.end
                    values = sorted(d.value for d in dates.get(pid, []) if d.value and a <= d.start < b)
                    uses_speaker = speaker is not None and speaker.key in (r.subject, r.object)
                    rows.append(
                        (r.type, r.subject, r.object, doc_id, pid, a, b, r.trigger, r.confidence,
                         values[0] if values else None, values[-1] if values else None,
                         support if uses_speaker else "", r.modality)
                    )  # fmt: skip
        return rows

    def _relation_graph(self, since: str | None = None, until: str | None = None) -> RelationGraph:
        """Every relation the viewer may see (its passage visible), optionally in a date window."""
        store, policy = self.ctx.store, self.ctx.policy
        cached = self.ctx.graphs.get((since, until))
        if cached is not None:
            return cached
        shown: dict[str, tuple[str, str]] = {}

        def key(e: str) -> tuple[str, str]:
            # What orders the graph's answers: the name the viewer is shown, then the id.
            if e not in shown:
                shown[e] = (self.cards.shown(e), e)
            return shown[e]

        graph = RelationGraph(key)
        texts: dict[int, tuple[int, str, int]] = {}
        grades: dict[str, int | None] = {}
        labels: dict[str, dict[int, str]] = {}
        for _, rtype, a, b, doc_id, pid, start, end, conf, d0, d1, source, support in store.relations():
            if a == b or not policy.portions_visible((pid, *support)):
                continue
            if not (policy.entity_visible(a) and policy.entity_visible(b)):
                continue  # a card the viewer cannot see is never a node of their graph
            if (since or until) and not _in_window(d0, d1, since, until):
                continue  # outside the window, or undated
            if pid not in texts:
                texts[pid] = store.portion_text(pid)
            _seq, text, pstart = texts[pid]
            if doc_id not in grades:
                grades[doc_id] = store.document_grade(doc_id)[1]
            graph.add(
                a,
                b,
                {
                    "type": rtype,
                    "subject": a,
                    "object": b,
                    "start": d0,
                    "end": d1,
                    "confidence": conf,
                    "credibility": grades[doc_id],
                    "evidence": {
                        "document_id": doc_id,
                        "source": source,
                        "portion": self.ctx.portion_number(doc_id, pid),
                        "snippet": " ".join(text[start - pstart : end - pstart].split()),
                        "label": self.ctx.portion_label(labels, doc_id, pid),
                    },
                },
            )
        self.ctx.graphs[(since, until)] = graph
        return graph

    def links(
        self, a_ref: str, b_ref: str, since: str | None = None, until: str | None = None, max_paths: int = 10
    ) -> dict[str, Any]:
        """The shortest evidence paths between two entities; each hop cites its passages."""
        a, b = self.cards.resolve_ref(a_ref), self.cards.resolve_ref(b_ref)
        graph = self._relation_graph(since, until)
        out = []
        names: dict[str, str] = {}

        def name(e: str) -> str:
            if e not in names:
                names[e] = self.cards.shown(e)
            return names[e]

        for path in graph.shortest_paths(a, b, max_paths):
            hops = []
            for u, v in itertools.pairwise(path):
                edge = graph.edge(u, v)
                best = edge.best
                hops.append(
                    {"from": u, "to": v, "from_name": name(u), "to_name": name(v),
                     "type": best["type"], "start": best["start"], "end": best["end"],
                     "evidence": [r["evidence"] for r in sorted(edge.relations, key=_relation_order)]}
                )  # fmt: skip
            out.append(hops)
        self.ctx.audit.record(self.ctx.actor, "links", [a, b])
        return {"paths": out}

    def network(self, ref: str, depth: int = 1) -> dict[str, Any]:
        """The neighbourhood of an entity in the relation graph, with centrality and communities."""
        eid = self.cards.resolve_ref(ref)
        whole = self._relation_graph()
        sub = whole.subgraph(whole.neighbourhood(eid, depth) or {eid})
        central = sub.centrality()
        groups = sub.communities()
        nodes = []
        for node in sorted(sub.index, key=sub.key):
            entity = self.ctx.store.entity(node)
            nodes.append(
                {
                    "id": node,
                    "name": self.cards.display(node, entity.name) if entity else node,
                    "kind": entity.kind if entity else "",
                    "community": groups.get(node, 0),
                    **central.get(node, {"degree": 0.0, "betweenness": 0.0, "pagerank": 0.0}),
                }
            )
        edges = sorted(
            (r for _, _, data in sub.g.weighted_edge_list() for r in data.relations),
            key=lambda r: (sub.key(r["subject"]), sub.key(r["object"]), *_relation_order(r)),
        )
        self.ctx.audit.record(self.ctx.actor, "network", [eid, *sub.index])
        return {"entity_id": eid, "depth": depth, "nodes": nodes, "relations": edges}

    def marked(self, eid: str) -> list[dict[str, Any]]:
        """Relations naming the entity that their sentence does not assert: a question, a
        hypothetical, speculation or someone's reported claim (relations.MODALITIES). They are
        no facts of the graph; the dossier lists them apart, each with its passage. Shown only
        where the viewer may see every passage it was read from and both cards."""
        ctx, policy = self.ctx, self.ctx.policy
        labels: dict[str, dict[int, str]] = {}
        out = []
        for rtype, a, b, doc_id, pid, start, end, support, modality, source in ctx.store.marked_relations(eid):
            if a == b or not policy.portions_visible((pid, *support)):
                continue
            if not (policy.entity_visible(a) and policy.entity_visible(b)):
                continue
            _seq, text, pstart = ctx.store.portion_text(pid)
            names = [self.cards.shown(a), self.cards.shown(b)]
            out.append(
                {
                    "relation": f"{names[0]} {rtype.replace('_', ' ')} {names[1]}",
                    "type": rtype,
                    "subject": a,
                    "object": b,
                    "modality": modality,
                    "document_id": doc_id,
                    "source": source,
                    "portion": ctx.portion_number(doc_id, pid),
                    "snippet": " ".join(text[start - pstart : end - pstart].split()),
                    "label": ctx.portion_label(labels, doc_id, pid),
                }
            )
        return out
