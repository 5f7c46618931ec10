"""The archive: every question and every correction, as one data function each.

The CLI (and the HTTP API to come) only parse arguments, call these, and
render the plain dicts they return, so the channels cannot drift apart. The
store is private to this module: nothing else in the package reads archive
content, which is what makes this the single place an access policy applies.
"""

from __future__ import annotations

import csv
import itertools
import json
import re
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import Argon2Error

from kartoteka import release
from kartoteka.access.audit import AuditLog
from kartoteka.access.labels import OWNER, Clearance, Label, LabelError, Level, roll_up
from kartoteka.access.policy import Policy, stored_label
from kartoteka.access.sources import CRYPTONYM, REGISTRY_TOKEN, SourceSeal
from kartoteka.analysis import assessment, relations
from kartoteka.analysis.cooccur import benjamini_hochberg, cooccurrence
from kartoteka.analysis.graph import RelationGraph
from kartoteka.analysis.knox import knox
from kartoteka.errors import E, Forbidden, InvalidInput, KartotekaError, NotFound
from kartoteka.index.resolve import build_name_index, display_rank, entity_id_for
from kartoteka.names.compare import LIKELY
from kartoteka.names.index import Hit, NameIndex, screen
from kartoteka.names.parse import ParsedName, parse_name
from kartoteka.registry.ingest import Ingestor, IngestResult
from kartoteka.registry.readers import RawDocument, ReadError
from kartoteka.store import open_store
from kartoteka.store.base import Store
from kartoteka.store.records import MentionHit

SNIPPET_CONTEXT = 110
UNCLASSIFIED_LABEL = "U"


# Verified against when a user is unknown, so that log-in time does not tell
# which user names exist.
@cache
def _dummy_hash() -> str:
    return PasswordHasher().hash("kartoteka: no such user")


@dataclass(frozen=True)
class Match:
    entity_id: str
    name: str
    score: float
    explanation: str
    matched: str

    def as_json(self) -> dict[str, Any]:
        return {"entity_id": self.entity_id, "name": self.name, "score": self.score, "explanation": self.explanation}


def release_codes() -> list[tuple[str, str]]:
    """(token, exemption code) pairs, most specific first; the last is the default.

    A withheld human-source portion is exempt as 50X1-HUM (E.O. 13526
    §3.3(b)(1)); anything else as 25X1 unless `--exempt` says otherwise.
    """
    return [("HUM", "50X1-HUM"), ("", "25X1")]


def _in_window(d0: str | None, d1: str | None, since: str | None, until: str | None) -> bool:
    """Does a dated relation overlap [since, until]? Dates are ISO prefixes of any
    precision: "1977" overlaps a window from 1977-06."""
    if d0 is None:
        return False
    last = d1 or d0
    if until and d0[: len(until)] > until[: len(d0)]:
        return False
    return not (since and last[: len(since)] < since[: len(last)])


def _clearance_of(row: tuple[str, str, str, str | None]) -> Clearance:
    """A stored user's clearance: (name, level, comma-separated tokens, password hash)."""
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


class Archive:
    """One archive as one viewer sees it.

    `user` names a user of the archive; without it the archive owner, who
    holds everything. Every read below goes through `self._policy`; nothing
    else in the package reads the store.
    """

    def __init__(self, path: str | Path, user: str | None = None) -> None:
        self.path = Path(path)
        self._store: Store = open_store(path)
        if user is None:
            clearance, actor = OWNER, "owner"
        else:
            row = self._store.user(user)
            if row is None:
                self._store.close()
                raise NotFound(E.E040, name=user)
            clearance = _clearance_of(row)
            actor = user
        self._policy = Policy(self._store, clearance, actor)
        self._audit = AuditLog(self._store, self.path)
        self._names: NameIndex | None = None
        self._visible_names: dict[str, list[str]] = {}
        self._data_version = self._store.data_version()
        # Relation graphs by date window, kept until the next write: a server
        # answers path queries from memory, not from a fresh read of every relation.
        self._graphs: dict[tuple[str | None, str | None], RelationGraph] = {}

    @staticmethod
    def login(path: str | Path, user: str, password: str) -> bool:
        """Check a user's password (server mode). Unknown users cost the same time as wrong passwords."""
        store = open_store(path)
        try:
            row = store.user(user)
        finally:
            store.close()
        hasher = PasswordHasher()
        stored = row[3] if row and row[3] else _dummy_hash()
        ok: bool
        try:
            ok = hasher.verify(stored, password)
        except Argon2Error:
            ok = False
        return bool(ok and row and row[3])

    def refresh(self) -> None:
        """Drop cached views if another process wrote to the archive since."""
        version = self._store.data_version()
        if version != self._data_version:
            self._data_version = version
            self._names = None
            self._graphs.clear()
            self._policy.invalidate()

    @property
    def actor(self) -> str:
        return self._policy.actor

    def _name_index(self) -> NameIndex:
        # Built on first use and dropped after every write: building is cheap
        # next to ingest, and a stale index would answer for a past archive.
        if self._names is None:
            if self._policy.is_owner:
                self._names = build_name_index(self._store)
            else:
                self._names = self._viewer_name_index()
        return self._names

    def _viewer_name_index(self) -> NameIndex:
        """Only names the viewer may see: a person named only above them is not a candidate."""
        index = NameIndex()
        names: dict[str, list[str]] = {}
        for eid, text, pid, mentions in self._store.person_mention_names():
            if self._policy.portion_visible(pid):
                index.add(eid, text, mentions)
                if text not in names.setdefault(eid, []):
                    names[eid].append(text)
        for eid, name in self._store.unlabelled_person_names():
            if self._policy.entity_visible(eid):
                index.add(eid, name)
                if name not in names.setdefault(eid, []):
                    names[eid].append(name)
        self._visible_names = names
        return index

    def _display(self, eid: str, stored: str) -> str:
        """The name to show for an entity: for a viewer, the fullest name they may see."""
        if self._policy.is_owner:
            return stored
        self._name_index()
        seen = self._visible_names.get(eid)
        if not seen:
            return stored  # an imported or analyst record: no document labelled it
        best = max(seen, key=lambda n: (display_rank(parse_name(n)), n))
        return parse_name(best).display or best

    def close(self) -> None:
        try:
            self._audit.anchor()
        finally:
            self._store.close()

    @contextmanager
    def _write(self) -> Iterator[None]:
        """A write transaction; the name index, graphs and visibility are recomputed on next use."""
        self._names = None
        self._graphs.clear()
        self._policy.invalidate()
        with self._store.transaction():
            yield

    def _owner_only(self, action: str) -> None:
        if not self._policy.is_owner:
            raise Forbidden(E.E042, action=action, actor=self.actor)

    # registry ----------------------------------------------------------------
    def ingest(
        self, items: Iterable[RawDocument | ReadError], *, workers: int = 1, label: str | None = None
    ) -> Iterator[IngestResult]:
        """Read documents in. `label` (e.g. `S:HUM`) labels each document; portion marks label their portions.

        A bad label is refused here, before anything is read.
        """
        doc_label = UNCLASSIFIED_LABEL
        if label is not None:
            try:
                doc_label = str(Label.parse(label))
            except LabelError as exc:
                raise InvalidInput(E.E041, reason=str(exc)) from exc
        return self._ingest(items, workers, doc_label)

    def _ingest(self, items: Iterable[RawDocument | ReadError], workers: int, doc_label: str) -> Iterator[IngestResult]:
        index = self._name_index() if self._policy.is_owner else build_name_index(self._store)
        self._names = None
        self._policy.invalidate()
        # The ingest keeps its own copy current as it resolves; ours is
        # rebuilt on next use, after the ingest has committed.
        for result in Ingestor(self._store, workers=workers, names=index, label=doc_label).run(items):
            if result.status == "added" and result.document_id:
                self._audit.record(self.actor, "ingest", [result.document_id])
            yield result

    def stats(self) -> dict[str, Any]:
        base = {"archive": str(self.path), "schema_version": self._store.schema_version()}
        if self._policy.is_owner:
            return {**base, **self._store.counts()}
        visible = self._policy.visible_portions() or set()
        docs = {d for d in (self._doc_of_portion().get(p) for p in visible) if d}
        kinds: dict[str, set[str]] = {"PERSON": set(), "ORG": set(), "PLACE": set()}
        for eid, kind, pid in self._store.entity_portions():
            if pid in visible and kind in kinds:
                kinds[kind].add(eid)
        for eid in self._store.entities_without_mentions():
            entity = self._store.entity(eid)
            if entity is not None and entity.kind in kinds:
                kinds[entity.kind].add(eid)

        def total(table: str) -> int:
            return sum(n for pid, n in self._store.per_portion_counts(table).items() if pid in visible)

        return {
            **base,
            "documents": len(docs),
            "portions": len(visible),
            "mentions": total("mentions"),
            "people": len(kinds["PERSON"]),
            "organisations": len(kinds["ORG"]),
            "places": len(kinds["PLACE"]),
            "dates": total("dates"),
            "markings": total("markings"),
        }

    def _doc_of_portion(self) -> dict[int, str]:
        return {pid: doc for pid, doc, _, _ in self._store.portion_labels()}

    def documents(self, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
        if self._policy.is_owner:
            rows = self._store.documents(limit, offset)
        else:
            every = self._store.documents(10**9, 0)
            rows = [d for d in every if self._policy.document_visible(d.id)][offset : offset + limit]
        self._audit.record(self.actor, "list documents", [d.id for d in rows])
        return [self._summary(d.__dict__) for d in rows]

    def _summary(self, d: dict[str, Any]) -> dict[str, Any]:
        if self._policy.is_owner:
            return d
        # Counts the viewer can check against what they are shown.
        shown = [r for r in self._store.portion_rows(d["id"]) if self._policy.portion_visible(r[0])]
        return {**d, "portion_count": len(shown), "char_count": sum(len(r[3]) for r in shown)}

    def _labelled_rows(self, document_id: str) -> list[tuple[tuple[int, int, str, str, str | None, str | None], Label]]:
        """A document's portion rows (id, seq, kind, text, mark, label), each with the
        label that governs it: its own, or else the document's."""
        doc_label = self._store.document_label(document_id) or UNCLASSIFIED_LABEL
        return [(r, stored_label(r[5] or doc_label)) for r in self._store.portion_rows(document_id)]

    def document(self, document_id: str) -> dict[str, Any]:
        summary = self._store.document(document_id)
        if summary is None or not self._policy.document_visible(document_id):
            raise NotFound(E.E020, ref=document_id)
        labelled = [(r, lab) for r, lab in self._labelled_rows(document_id) if self._policy.portion_visible(r[0])]
        rows = [r for r, _ in labelled]
        labels = [lab for r, lab in labelled if r[2] == "text"] or [
            stored_label(self._store.document_label(document_id) or UNCLASSIFIED_LABEL)
        ]
        shown = {r[0] for r in rows}
        self._audit.record(self.actor, "read document", [document_id])
        return {
            **self._summary(summary.__dict__),
            "banner": roll_up(labels),
            "portions": [
                {"seq": seq, "kind": kind, "mark": mark, "text": text} for _, seq, kind, text, mark, _ in rows
            ],
            "markings": [
                {"kind": k, "value": v, "start": s, "end": e}
                for k, v, s, e, pid in self._store.portion_markings(document_id)
                if (pid is None and self._policy.is_owner) or pid in shown
            ],
        }

    # name check --------------------------------------------------------------
    def check(self, name: str, limit: int = 10) -> dict[str, Any]:
        q = parse_name(name)
        if q.is_empty:
            raise InvalidInput(E.E024, name=name)
        matches = self._candidates(q, limit)
        self._audit.record(self.actor, "check", [m.entity_id for m in matches], detail=name)
        return {"query": name, "matches": [m.as_json() for m in matches]}

    def _candidates(self, q: ParsedName, limit: int) -> list[Match]:
        return self._matches(self._name_index().search(q, limit))

    def _matches(self, hits: list[Hit]) -> list[Match]:
        out: list[Match] = []
        for h in hits:
            entity = self._store.entity(h.entity_id)
            if entity is None or not self._policy.entity_visible(h.entity_id):
                continue  # the index outlived a write; the store and the policy decide
            out.append(Match(h.entity_id, self._display(h.entity_id, entity.name), h.score, h.explanation, h.matched))
        return out

    def check_batch(
        self, rows: Iterable[tuple[str, str]], limit: int = 5, workers: int = 1
    ) -> Iterator[dict[str, Any]]:
        """Check many (query id, name) rows, in order; a bad row is reported and the batch goes on."""
        pending: deque[tuple[str, str]] = deque()

        def names() -> Iterator[str]:
            for query_id, name in rows:
                pending.append((query_id, name))
                yield name

        for result in screen(self._name_index(), names(), limit=limit, workers=workers):
            query_id, name = pending.popleft()
            if isinstance(result, str) or (not result and parse_name(name).is_empty):
                error = KartotekaError(E.E024, name=name).message if not isinstance(result, str) else result
                yield {"query_id": query_id, "query": name, "matches": [], "error": error}
                continue
            matches = self._matches(result)
            self._audit.record(self.actor, "check", [m.entity_id for m in matches], detail=name)
            yield {"query_id": query_id, "query": name, "matches": [m.as_json() for m in matches]}

    # dossier -------------------------------------------------------------------
    def resolve_ref(self, ref: str) -> str:
        """An entity id, or a name that the name check resolves without doubt."""
        eid = self._store.resolve_redirect(ref)
        if self._store.entity(eid) is not None and self._policy.entity_visible(eid):
            return eid
        q = parse_name(ref)
        if q.is_empty:
            raise NotFound(E.E020, ref=ref)
        matches = [m for m in self._candidates(q, 5) if m.score >= LIKELY]
        if not matches:
            raise NotFound(E.E020, ref=ref)
        if len(matches) > 1 and matches[1].score == matches[0].score:
            tied = [m for m in matches if m.score == matches[0].score]
            raise InvalidInput(E.E021, ref=ref, candidates=", ".join(f"{m.entity_id} ({m.name})" for m in tied))
        return matches[0].entity_id

    def _visible_mentions(self, eid: str) -> list[MentionHit]:
        return [h for h in self._store.mentions_of(eid) if self._policy.portion_visible(h.portion_id)]

    def dossier(self, ref: str, associates: int = 10) -> dict[str, Any]:
        eid = self.resolve_ref(ref)
        entity = self._store.entity(eid)
        assert entity is not None
        hits = self._visible_mentions(eid)
        dates = self._store.dates_in_portions(sorted({h.portion_id for h in hits}))
        documents: dict[str, dict[str, Any]] = {}
        seen_portions: set[int] = set()
        date_counter: Counter[tuple[str, str | None]] = Counter()
        for h in hits:
            d = documents.setdefault(
                h.document_id, {"document_id": h.document_id, "source": h.source, "snippets": [], "dates": []}
            )
            if h.portion_id in seen_portions:
                continue  # one snippet per passage; the passage already cites the document
            seen_portions.add(h.portion_id)
            rel_start, rel_end = h.start - h.portion_start, h.end - h.portion_start
            d["snippets"].append(
                {
                    "portion": h.portion_seq,
                    "mention": h.text,
                    "mention_id": h.mention_key,
                    "text": snippet(h.portion_text, rel_start, rel_end),
                }
            )
            for dm in dates.get(h.portion_id, []):
                entry = {"text": dm.text, "value": dm.value, "portion": h.portion_seq}
                if entry not in d["dates"]:
                    d["dates"].append(entry)
                date_counter[(dm.text, dm.value)] += 1
        name = self._display(eid, entity.name)
        if self._policy.is_owner:
            aliases = [n for n in entity.names if n != name]
        else:
            self._name_index()
            seen = self._visible_names.get(eid, []) if entity.kind == "PERSON" else [h.text for h in hits]
            aliases = [n for n in dict.fromkeys(seen) if n != name]
        self._audit.record(self.actor, "dossier", [eid, *documents])
        return {
            "entity_id": eid,
            "name": name,
            "kind": entity.kind,
            "origin": entity.origin,
            "aliases": aliases,
            "mention_count": len(hits),
            "documents": list(documents.values()),
            "dates": [
                {"text": t, "value": v, "count": c}
                for (t, v), c in sorted(date_counter.items(), key=lambda x: (x[0][1] or "9999", -x[1]))
            ],
            "associates": self._associates(eid, associates),
            "facts": self._facts(eid),
        }

    def _associates(self, eid: str, limit: int) -> list[dict[str, Any]]:
        if self._policy.is_owner:
            rows = self._store.co_mentions(eid, limit)
        else:
            # Counted over visible passages only: a co-mention in a hidden
            # portion would reveal that the portion exists.
            counts: Counter[tuple[str, str, str]] = Counter()
            for other, name, kind, pid in self._store.co_mention_rows(eid):
                if self._policy.portion_visible(pid):
                    counts[(other, name, kind)] += 1
            ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0][1]))[:limit]
            rows = [(a, self._display(a, n), k, c) for (a, n, k), c in ranked]
        return [{"entity_id": a, "name": n, "kind": k, "portions": c} for a, n, k, c in rows]

    # analysis --------------------------------------------------------------------
    def _entity_documents(self) -> tuple[dict[str, set[str]], int]:
        """Visible documents per entity, and how many visible documents there are."""
        doc_of = self._doc_of_portion()
        visible = self._policy.visible_portions()
        docs: dict[str, set[str]] = {}
        for eid, _, pid in self._store.entity_portions():
            if visible is None or pid in visible:
                docs.setdefault(eid, set()).add(doc_of[pid])
        all_docs = {d for p, d in doc_of.items() if visible is None or p in visible}
        return docs, len(all_docs)

    def cooccur(self, a_ref: str, b_ref: str) -> dict[str, Any]:
        """Do A and B appear together in more documents than chance would put them?"""
        a, b = self.resolve_ref(a_ref), self.resolve_ref(b_ref)
        docs, n = self._entity_documents()
        result = cooccurrence(a, b, docs.get(a, set()), docs.get(b, set()), n)
        places = self._places_by_portion()
        space_time = knox(self._events(a, places), self._events(b, places))
        self._audit.record(self.actor, "cooccur", [a, b])
        return {**result.as_json(), "knox": space_time.as_json() if space_time else None}

    def _places_by_portion(self) -> dict[int, set[str]]:
        places: dict[int, set[str]] = {}
        for eid, kind, pid in self._store.entity_portions():
            if kind == "PLACE":
                places.setdefault(pid, set()).add(eid)
        return places

    def _events(self, eid: str, places: dict[int, set[str]]) -> list[tuple[str, str]]:
        """(place id, date) for every visible passage naming the entity, a place and a date."""
        portions = sorted({h.portion_id for h in self._visible_mentions(eid)})
        dates = self._store.dates_in_portions(portions)
        return sorted(
            {
                (place, d.value)
                for pid in portions
                for place in places.get(pid, ())
                for d in dates.get(pid, [])
                if d.value
            }
        )

    def associates(self, ref: str, limit: int = 20) -> dict[str, Any]:
        """An entity's associates ranked by how unlikely their co-occurrence is by chance,
        with Benjamini–Hochberg q-values over every associate tested."""
        eid = self.resolve_ref(ref)
        docs, n = self._entity_documents()
        mine = docs.get(eid, set())
        tested = [
            cooccurrence(eid, other, mine, theirs, n)
            for other, theirs in docs.items()
            if other != eid and mine & theirs
        ]
        qs = benjamini_hochberg([t.p_value for t in tested])
        ranked = sorted(zip(tested, qs, strict=True), key=lambda x: (x[0].p_value, -x[0].k, x[0].b))[:limit]
        out = []
        for t, q in ranked:
            entity = self._store.entity(t.b)
            name = self._display(t.b, entity.name) if entity else t.b
            out.append({**t.as_json(), "name": name, "kind": entity.kind if entity else "", "q_value": q})
        self._audit.record(self.actor, "associates", [eid])
        return {"entity_id": eid, "n": n, "tested": len(tested), "associates": out}

    def timeline(self, ref: str) -> dict[str, Any]:
        """Dated passages about an entity, in order, each date with its precision."""
        eid = self.resolve_ref(ref)
        entity = self._store.entity(eid)
        assert entity is not None
        hits = self._visible_mentions(eid)
        by_portion = {h.portion_id: h for h in hits}
        dates = self._store.dates_in_portions(sorted(by_portion))
        events: list[dict[str, Any]] = []
        undated: list[dict[str, Any]] = []
        for pid, h in by_portion.items():
            rel_start, rel_end = h.start - h.portion_start, h.end - h.portion_start
            cite = {
                "document_id": h.document_id,
                "source": h.source,
                "portion": h.portion_seq,
                "snippet": snippet(h.portion_text, rel_start, rel_end),
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
        self._audit.record(self.actor, "timeline", [eid, *(e["document_id"] for e in events)])
        return {
            "entity_id": eid,
            "name": self._display(eid, entity.name),
            "events": events,
            "undated": undated,
        }

    def build_relations(self, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
        """Extract typed relations from every document not yet read by the current extractor."""
        self._owner_only("extract relations")
        todo = self._store.documents_without_relations(relations.COMPONENT)
        found = 0
        nlp = relations.load_parser() if todo else None
        for i, doc_id in enumerate(todo):
            by_portion: dict[int, tuple[int, str, list[relations.Ent]]] = {}
            for pid, pstart, ptext, m_start, m_end, kind, eid in self._store.portion_mentions(doc_id):
                entry = by_portion.setdefault(pid, (pstart, ptext, []))
                entry[2].append(relations.Ent(m_start - pstart, m_end - pstart, kind, eid))
            speakers = relations.speakers(
                [(pid, text) for pid, _, kind, text, _, _ in self._store.portion_rows(doc_id) if kind == "text"],
                {pid: ents for pid, (_, _, ents) in by_portion.items()},
            )
            dates = self._store.dates_in_portions(sorted(by_portion))
            rows: list[tuple[object, ...]] = []
            for pid, (pstart, ptext, ents) in by_portion.items():
                speaker = speakers.get(pid)
                if len({e.key for e in ents} | ({speaker.key} if speaker else set())) < 2:
                    continue
                assert nlp is not None
                for r in relations.extract(nlp(relations.parse_view(ptext)), ents, speaker):
                    a, b = pstart + r.start, pstart + r.end
                    values = sorted(d.value for d in dates.get(pid, []) if d.value and a <= d.start < b)
                    rows.append(
                        (r.type, r.subject, r.object, doc_id, pid, a, b, r.trigger, r.confidence,
                         values[0] if values else None, values[-1] if values else None)
                    )  # fmt: skip
            with self._write():
                found += self._store.replace_relations(doc_id, relations.COMPONENT, rows)
            if progress:
                progress(i + 1, len(todo))
        self._audit.record(self.actor, "build relations", todo)
        return {"documents": len(todo), "relations": found}

    def _relation_graph(self, since: str | None = None, until: str | None = None) -> RelationGraph:
        """Every relation the viewer may see (its passage visible), optionally in a date window."""
        cached = self._graphs.get((since, until))
        if cached is not None:
            return cached
        graph = RelationGraph()
        texts: dict[int, tuple[int, str, int]] = {}
        grades: dict[str, int | None] = {}
        for _, rtype, a, b, doc_id, pid, start, end, conf, d0, d1, source in self._store.relations():
            if not self._policy.portion_visible(pid) or a == b:
                continue
            if (since or until) and not _in_window(d0, d1, since, until):
                continue  # outside the window, or undated
            if pid not in texts:
                texts[pid] = self._store.portion_text(pid)
            seq, text, pstart = texts[pid]
            if doc_id not in grades:
                grades[doc_id] = self._store.document_grade(doc_id)[1]
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
                        "portion": seq,
                        "snippet": " ".join(text[start - pstart : end - pstart].split()),
                    },
                },
            )
        self._graphs[(since, until)] = graph
        return graph

    def links(
        self, a_ref: str, b_ref: str, since: str | None = None, until: str | None = None, max_paths: int = 10
    ) -> dict[str, Any]:
        """The shortest evidence paths between two entities; each hop cites its passages."""
        a, b = self.resolve_ref(a_ref), self.resolve_ref(b_ref)
        graph = self._relation_graph(since, until)
        out = []
        for path in graph.shortest_paths(a, b, max_paths):
            hops = []
            for u, v in itertools.pairwise(path):
                edge = graph.edge(u, v)
                best = edge.best
                hops.append(
                    {"from": u, "to": v, "type": best["type"], "start": best["start"], "end": best["end"],
                     "evidence": [r["evidence"] for r in edge.relations]}
                )  # fmt: skip
            out.append(hops)
        self._audit.record(self.actor, "links", [a, b])
        return {"paths": out}

    def network(self, ref: str, depth: int = 1) -> dict[str, Any]:
        """The neighbourhood of an entity in the relation graph, with centrality and communities."""
        eid = self.resolve_ref(ref)
        whole = self._relation_graph()
        sub = whole.subgraph(whole.neighbourhood(eid, depth) or {eid})
        central = sub.centrality()
        groups = sub.communities()
        nodes = []
        for node in sorted(sub.index):
            entity = self._store.entity(node)
            nodes.append(
                {
                    "id": node,
                    "name": self._display(node, entity.name) if entity else node,
                    "kind": entity.kind if entity else "",
                    "community": groups.get(node, 0),
                    **central.get(node, {"degree": 0.0, "betweenness": 0.0, "pagerank": 0.0}),
                }
            )
        edges = [
            r for ia, ib, data in sub.g.weighted_edge_list() for r in sorted(data.relations, key=lambda r: r["type"])
        ]
        self._audit.record(self.actor, "network", [eid, *sub.index])
        return {"entity_id": eid, "depth": depth, "nodes": nodes, "relations": edges}

    # assessment --------------------------------------------------------------------
    @staticmethod
    def _checked_grade(reliability: str, credibility: int) -> tuple[str, int]:
        try:
            return assessment.check_grade(reliability, credibility)
        except ValueError as exc:
            raise InvalidInput(E.E050, reason=str(exc)) from exc

    def grade(
        self, document_id: str, reliability: str, credibility: int, reported_by: str | None = None
    ) -> dict[str, Any]:
        """Give a document its Admiralty grade and, optionally, who reported it."""
        if not self._policy.document_visible(document_id):
            raise NotFound(E.E020, ref=document_id)
        r, c = self._checked_grade(reliability, credibility)
        with self._write():
            self._store.grade_document(document_id, r, c, reported_by)
        self._audit.record(self.actor, "grade", [document_id])
        return {"document_id": document_id, "reliability": r, "credibility": c, "grade": assessment.describe(r, c)}

    def claim(
        self,
        subject_ref: str,
        statement: str,
        source: str,
        reliability: str,
        credibility: int,
        document_id: str | None = None,
    ) -> dict[str, Any]:
        """Record by hand what a source says about an entity."""
        eid = self.resolve_ref(subject_ref)
        if document_id is not None and not self._policy.document_visible(document_id):
            raise NotFound(E.E020, ref=document_id)
        r, c = self._checked_grade(reliability, credibility)
        if not statement.strip() or not source.strip():
            raise InvalidInput(E.E050, reason="a claim needs a statement and a source")
        with self._write():
            self._store.add_claim(
                (eid, statement.strip(), None, None, source.strip(), r, c, document_id, None, "analyst")
            )
        self._audit.record(self.actor, "claim", [eid], detail=statement)
        return {
            "entity_id": eid,
            "statement": statement.strip(),
            "source": source.strip(),
            "reliability": r,
            "credibility": c,
        }

    def derive_claims(self) -> dict[str, Any]:
        """One claim per extracted relation, graded as its document, sourced to who reported it."""
        self._owner_only("derive claims")
        added = 0
        grades: dict[str, tuple[str | None, int | None, str | None]] = {}
        with self._write():
            for _, rtype, a, b, doc_id, pid, _, _, _, _, _, _ in self._store.relations():
                if doc_id not in grades:
                    grades[doc_id] = self._store.document_grade(doc_id)
                rel, cred, reported_by = grades[doc_id]
                statement = f"{rtype.replace('_', ' ')}"
                added += self._store.add_claim(
                    (a, statement, rtype, b, reported_by or doc_id, rel or "F", cred or 6, doc_id, pid, "derived")
                )
        self._audit.record(self.actor, "derive claims", [])
        return {"claims": added}

    def _visible_claims(self, eid: str) -> list[assessment.Claim]:
        out = []
        for row in self._store.claims_about(eid):
            claim = assessment.Claim(*row)
            if claim.portion_id is not None and not self._policy.portion_visible(claim.portion_id):
                continue
            if claim.document_id is not None and not self._policy.document_visible(claim.document_id):
                continue
            out.append(claim)
        return out

    def assess(self, ref: str) -> dict[str, Any]:
        """What the archive holds about an entity, claim by claim: grade, sources, confirmation, contradictions."""
        eid = self.resolve_ref(ref)
        facts = self._facts(eid)
        self._audit.record(self.actor, "assess", [eid])
        return {"entity_id": eid, "facts": facts}

    def _facts(self, eid: str) -> list[dict[str, Any]]:
        facts = []
        names: dict[str, str] = {}

        def name(e: str | None) -> str | None:
            if e is None:
                return None
            if e not in names:
                entity = self._store.entity(e)
                names[e] = self._display(e, entity.name) if entity else e
            return names[e]

        for a in assessment.assess(self._visible_claims(eid)):
            first = a.claims[0]
            text = (
                f"{name(first.subject)} {first.relation.replace('_', ' ')} {name(first.object)}"
                if first.relation
                else f"{name(first.subject)}: {first.statement}"
            )
            facts.append(
                {
                    "fact": text,
                    "reliability": a.reliability,
                    "credibility": a.credibility,
                    "grade": assessment.describe(a.reliability, a.credibility),
                    "confirmed": a.confirmed,
                    "sources": a.sources,
                    "contradicted": bool(a.contradicted_by),
                    "evidence": [
                        {"source": c.source, "document_id": c.document_id, "stated": f"{c.reliability}{c.credibility}"}
                        for c in a.claims
                    ],
                }
            )
        return facts

    # search ----------------------------------------------------------------------
    def search(self, query: str, limit: int = 20, offset: int = 0) -> dict[str, Any]:
        try:
            fts, ranked = query, self._store.search_ranked(query)
        except ValueError:
            # Not FTS5 syntax ("Gen. Kalugin"): search the words as a phrase-free AND.
            words = [w for w in "".join(c if c.isalnum() else " " for c in query).split() if w]
            if not words:
                return {"query": query, "total": 0, "hits": []}
            fts = " ".join(f'"{w}"' for w in words)
            ranked = self._store.search_ranked(fts)
        # Counts and pages are computed after the policy, so totals never
        # include what the viewer may not see.
        visible = [pid for pid, _ in ranked if self._policy.portion_visible(pid)]
        page = visible[offset : offset + limit]
        hits = self._store.search_hits(fts, page)
        self._audit.record(self.actor, "search", [h.document_id for h in hits], detail=query)
        return {
            "query": query,
            "total": len(visible),
            "hits": [
                {"document_id": h.document_id, "source": h.source, "portion": h.portion_seq, "snippet": h.snippet}
                for h in hits
            ],
        }

    # corrections -----------------------------------------------------------------
    def _existing(self, ref: str) -> str:
        eid = self._store.resolve_redirect(ref)
        if self._store.entity(eid) is None or not self._policy.entity_visible(eid):
            raise NotFound(E.E020, ref=ref)
        return eid

    def merge(self, keep_ref: str, gone_ref: str) -> dict[str, Any]:
        keep, gone = self._existing(keep_ref), self._existing(gone_ref)
        if keep == gone:
            raise InvalidInput(E.E023, entity=keep)
        with self._write():
            self._store.merge_entities(keep, gone)
            self._store.record_correction("merge", {"keep": keep, "merged": gone})
            self._audit.record(self.actor, "merge", [keep, gone])
        return {"entity_id": keep, "merged": gone}

    def split(self, ref: str, mention_keys: list[str]) -> dict[str, Any]:
        eid = self._existing(ref)
        entity = self._store.entity(eid)
        assert entity is not None
        for key in mention_keys:
            if self._store.mention_entity(key) != eid:
                raise InvalidInput(E.E022, mention=key, entity=eid)
        doc, _, span = mention_keys[0].rpartition(":")
        start, _, end = span.partition("-")
        new_id = entity_id_for(entity.kind, f"split:{doc}", int(start), int(end))
        moved_texts = {h.text for h in self._store.mentions_of(eid) if h.mention_key in set(mention_keys)}
        with self._write():
            new_name = max(moved_texts, key=lambda t: (len(parse_name(t).display), t))
            self._store.create_entity(new_id, entity.kind, parse_name(new_name).display or new_name, "analyst")
            self._store.move_mentions(mention_keys, new_id, pin=True)
            self._store.add_names(new_id, [(t, "mention") for t in moved_texts])
            self._store.mark_distinct(eid, new_id)
            self._store.record_correction("split", {"from": eid, "new": new_id, "mentions": mention_keys})
            self._audit.record(self.actor, "split", [eid, new_id])
        return {"entity_id": eid, "new_entity_id": new_id, "moved": len(mention_keys)}

    def alias(self, ref: str, name: str) -> dict[str, Any]:
        eid = self._existing(ref)
        parsed = parse_name(name)
        if parsed.is_empty:
            raise InvalidInput(E.E024, name=name)
        with self._write():
            self._store.add_names(eid, [(name, "analyst")])
            self._store.record_correction("alias", {"entity": eid, "name": name})
            self._audit.record(self.actor, "alias", [eid], detail=name)
        return {"entity_id": eid, "alias": name}

    # release -----------------------------------------------------------------------
    def _audience(self, audience: str) -> tuple[Clearance, str]:
        """A user name, or a level with tokens (`U`, `S:HUM,NOFORN`)."""
        row = self._store.user(audience)
        if row is not None:
            return _clearance_of(row), audience
        try:
            c = Clearance.parse(audience)
        except LabelError as exc:
            raise InvalidInput(E.E041, reason=f"audience {audience!r} is neither a user nor a level: {exc}") from exc
        return c, c.key

    def release_copy(self, document_id: str, audience: str, exempt: str | None = None) -> release.ReleaseCopy:
        """What `audience` may receive of a document the requester can see."""
        if not self._policy.document_visible(document_id):
            raise NotFound(E.E020, ref=document_id)
        clearance, who = self._audience(audience)
        doc_label = self._store.document_label(document_id) or UNCLASSIFIED_LABEL
        if not clearance.can_see(stored_label(doc_label)):
            # The audience may not know the document exists: nothing to release.
            raise Forbidden(E.E042, action=f"release {document_id} to {who}", actor=self.actor)
        codes = release_codes()
        parts: list[release.Part] = []
        shown: list[Label] = []
        for (pid, _, kind, text, _, _), label in self._labelled_rows(document_id):
            if not self._policy.portion_visible(pid):
                continue  # not the requester's to release, nor to mention
            if kind == "banner":
                continue  # the copy carries its own banner, computed from what it releases
            if clearance.can_see(label):
                parts.append(release.Part(text))
                if kind == "text":
                    shown.append(label)
            else:
                code = exempt or next((c for t, c in codes if t in label.tokens), codes[-1][1])
                parts.append(release.Part(None, code))
        copy = release.ReleaseCopy(document_id, who, roll_up(shown), tuple(parts))
        self._audit.record(self.actor, "release", [document_id], detail=who)
        return copy

    def release(
        self, document_id: str, audience: str, fmt: str, exempt: str | None = None
    ) -> tuple[bytes, str, release.ReleaseCopy]:
        if fmt not in release.FORMATS:
            raise InvalidInput(E.E045, format=fmt)
        copy = self.release_copy(document_id, audience, exempt)
        return release.render(copy, fmt), release.file_name(copy, fmt), copy

    def verify_release(self, path: Path, document_id: str, audience: str | None = None) -> dict[str, Any]:
        """Prove that no text withheld from the copy's audience survives in the file.

        The audience is read from the copy's own header line unless given.
        """
        self._owner_only("verify releases")
        if self._store.document_label(document_id) is None:
            raise NotFound(E.E020, ref=document_id)
        fmt = path.suffix.lower().lstrip(".")
        if fmt not in release.FORMATS:
            raise InvalidInput(E.E045, format=fmt)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InvalidInput(E.E001, path=path, reason=exc.strerror or str(exc)) from exc
        text = release.extract_text(data, fmt)
        if audience is None:
            m = re.search(r"Release copy of [\w-]+ for ([\w:,.\-]+)", text)
            if m is None:
                raise InvalidInput(E.E041, reason=f"{path}: no release header; give the audience with --for")
            audience = m.group(1)
        clearance, who = self._audience(audience)
        withheld: list[str] = []
        for (_, _, kind, body, mark, _), label in self._labelled_rows(document_id):
            if kind != "text" or clearance.can_see(label):
                continue
            passage = body.strip()
            if mark and passage.startswith(mark):
                passage = passage[len(mark) :].strip()
            withheld.append(passage)
        found = release.leaks(text, withheld)
        return {
            "file": str(path),
            "document_id": document_id,
            "audience": who,
            "withheld": len(withheld),
            "leaks": found,
        }

    # protected sources ---------------------------------------------------------------
    def _registry_chief(self) -> bool:
        return self._policy.is_owner or REGISTRY_TOKEN in self._policy.clearance.tokens

    def _user_exists(self, name: str) -> None:
        if self._store.user(name) is None:
            raise NotFound(E.E040, name=name)

    def source_add(self, cryptonym: str, true_name: str, handler: str) -> dict[str, Any]:
        """Register a source under a cryptonym (owner or registry chief)."""
        if not self._registry_chief():
            raise Forbidden(E.E042, action="register sources", actor=self.actor)
        if not CRYPTONYM.match(cryptonym):
            raise InvalidInput(E.E048, cryptonym=cryptonym)
        if not true_name.strip():
            raise InvalidInput(E.E024, name=true_name)
        self._user_exists(handler)
        if self._store.source(cryptonym) is not None:
            raise InvalidInput(E.E049, cryptonym=cryptonym)
        sealed = SourceSeal(self.path).seal(cryptonym, true_name.strip())
        with self._write():
            self._store.add_source(cryptonym, sealed, handler)
        self._audit.record(self.actor, "source add", [cryptonym, handler])
        return {"cryptonym": cryptonym, "handler": handler}

    def _source_row(self, cryptonym: str) -> tuple[str, bytes, str]:
        row = self._store.source(cryptonym)
        # Unknown and not-yours answer alike: the registry is itself compartmented.
        if row is None or not (self._registry_chief() or row[2] == self.actor):
            raise NotFound(E.E047, cryptonym=cryptonym)
        return row

    def source_show(self, cryptonym: str) -> dict[str, Any]:
        """The true name, for the source's handler and the registry chief only."""
        _, sealed, handler = self._source_row(cryptonym)
        self._audit.record(self.actor, "source read", [cryptonym])
        return {"cryptonym": cryptonym, "handler": handler, "true_name": SourceSeal(self.path).open(cryptonym, sealed)}

    def sources(self) -> list[dict[str, Any]]:
        rows = self._store.sources()
        mine = [(c, h) for c, h in rows if self._registry_chief() or h == self.actor]
        return [{"cryptonym": c, "handler": h} for c, h in mine]

    def source_handover(self, cryptonym: str, new_handler: str) -> dict[str, Any]:
        """Pass a source to a new handler: the current handler or the registry chief; audited."""
        _, _, old = self._source_row(cryptonym)
        self._user_exists(new_handler)
        with self._write():
            self._store.set_source_handler(cryptonym, new_handler)
        self._audit.record(self.actor, "source handover", [cryptonym, old, new_handler])
        return {"cryptonym": cryptonym, "from": old, "to": new_handler}

    # users and audit -------------------------------------------------------------
    def add_user(self, name: str, clearance: str, tokens: list[str], password: str | None = None) -> dict[str, Any]:
        """Add (or change) a user. Only the owner manages users."""
        self._owner_only("manage users")
        try:
            held = Clearance.parse(f"{clearance}:{','.join(tokens)}")
        except LabelError as exc:
            raise InvalidInput(E.E041, reason=str(exc)) from exc
        if not name or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise InvalidInput(E.E041, reason=f"user name {name!r}: letters, digits, '-', '_', '.' only")
        hashed = PasswordHasher().hash(password) if password else None
        with self._write():
            self._store.add_user(name, held.level.name, ",".join(sorted(held.tokens)), hashed)
        self._audit.record(self.actor, "user add", [name])
        return {"user": name, "clearance": held.level.name, "tokens": sorted(held.tokens)}

    def users(self) -> list[dict[str, Any]]:
        self._owner_only("list users")
        return [
            {"user": n, "clearance": c, "tokens": [t for t in t_.split(",") if t]} for n, c, t_ in self._store.users()
        ]

    def audit_verify(self) -> dict[str, Any]:
        self._owner_only("verify the audit log")
        result = self._audit.verify()
        return {"ok": result.ok, "entries": result.entries, "anchors": result.anchors, "problems": result.problems}

    def corrections(self) -> list[dict[str, Any]]:
        return [{"at": at, "op": op, **payload} for at, op, payload in self._store.corrections()]

    # imports -----------------------------------------------------------------------
    def import_persons(self, path: Path) -> Iterator[dict[str, Any]]:
        """Load known persons (CSV id,name,aliases or FollowTheMoney JSON lines).

        Yields one result per record; bad records are reported and skipped.
        Re-importing adds nothing new: ids are kept from the file.
        """
        suffix = path.suffix.lower()
        if suffix == ".csv":
            records = _csv_persons(path)
        elif suffix in (".json", ".jsonl", ".ndjson", ".ftm"):
            records = _ftm_persons(path)
        else:
            raise InvalidInput(E.E032, path=path)
        for rec in _guarded(records, path):
            if isinstance(rec, str):
                yield {"status": "error", "error": rec}
                continue
            eid, names = rec
            parsed = [parse_name(n) for n in names]
            if not names or parsed[0].is_empty:
                yield {
                    "entity_id": eid,
                    "status": "error",
                    "error": KartotekaError(E.E024, name=names[0] if names else "").message,
                }
                continue
            with self._write():
                existing = self._store.entity(eid)
                if existing is None:
                    self._store.create_entity(eid, "PERSON", parsed[0].display or names[0], "imported")
                self._store.add_names(eid, [(n, "import") for n in names])
                self._audit.record(self.actor, "import", [eid])
            yield {"entity_id": eid, "name": names[0], "status": "unchanged" if existing else "added"}


def _guarded(records: Iterator[tuple[str, list[str]] | str], path: Path) -> Iterator[tuple[str, list[str]] | str]:
    """A file that cannot be decoded or read is one clean error, not a traceback."""
    try:
        yield from records
    except UnicodeDecodeError as exc:
        raise InvalidInput(E.E001, path=path, reason=f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise InvalidInput(E.E001, path=path, reason=exc.strerror or str(exc)) from exc


def _csv_persons(path: Path) -> Iterator[tuple[str, list[str]] | str]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        fields = [f.strip() for f in reader.fieldnames or []]
        if "id" not in fields or "name" not in fields:
            raise InvalidInput(E.E031, path=path, expected="id,name[,aliases]", found=",".join(fields) or "(none)")
        for row_no, row in enumerate(reader, start=2):
            eid, name = (row.get("id") or "").strip(), (row.get("name") or "").strip()
            if not eid or not name:
                yield KartotekaError(E.E030, path=path, row=row_no, reason="'id' and 'name' are required").message
                continue
            aliases = [a.strip() for a in (row.get("aliases") or "").split(";") if a.strip()]
            yield eid, [name, *aliases]


def _ftm_persons(path: Path) -> Iterator[tuple[str, list[str]] | str]:
    with path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield KartotekaError(E.E030, path=path, row=line_no, reason=f"invalid JSON: {exc.msg}").message
                continue
            if not isinstance(obj, dict) or obj.get("schema") != "Person" or not obj.get("id"):
                yield KartotekaError(
                    E.E030,
                    path=path,
                    row=line_no,
                    reason="expected a FollowTheMoney entity with schema 'Person' and an 'id'",
                ).message
                continue
            props = obj.get("properties") or {}
            names: list[str] = []
            for prop in ("name", "alias", "weakAlias", "previousName"):
                names.extend(str(v) for v in props.get(prop, []) if str(v).strip())
            if not names and (props.get("firstName") or props.get("lastName")):
                names.append(
                    " ".join(str(v) for v in [*props.get("firstName", [])[:1], *props.get("lastName", [])[:1]])
                )
            if not names:
                yield KartotekaError(E.E030, path=path, row=line_no, reason="no 'name' property").message
                continue
            yield str(obj["id"]), list(dict.fromkeys(names))
