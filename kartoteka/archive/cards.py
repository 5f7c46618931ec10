"""The card index: name checks, cards and dossiers (corrections: corrections.py; imports: imports.py).

The name index the checks search is built here, per viewer: a person named
only in passages above the viewer's clearance is never a candidate.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from kartoteka.archive.common import UNCLASSIFIED_LABEL, Context, snippet
from kartoteka.errors import E, InvalidInput, KartotekaError, NotFound
from kartoteka.index.evidence import person_evidence
from kartoteka.index.name_snapshot import owner_index
from kartoteka.index.resolve import AuthorView, display_rank
from kartoteka.names.compare import LIKELY
from kartoteka.names.index import Hit, NameIndex
from kartoteka.names.parse import ParsedName, parse_name
from kartoteka.names.screen import screen
from kartoteka.registry.author import Author

# The key (in `name_keys`) by which an imported card is found under its file's id.
RECORD_KEY = "x:"


CARD_KINDS = {"person": "PERSON", "org": "ORG", "place": "PLACE", "cryptonym": "CRYPTONYM"}
CARD_SORTS = ("mentions", "records", "name")


@dataclass(frozen=True)
class Match:
    entity_id: str
    name: str
    score: float
    explanation: str
    matched: str

    def as_json(self) -> dict[str, Any]:
        return {"entity_id": self.entity_id, "name": self.name, "score": self.score, "explanation": self.explanation}


class Cards:
    """Who is in the index, as the viewer may see them."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    # names -------------------------------------------------------------------
    def name_index(self) -> NameIndex:
        # Read on first use and dropped after every write, so it never answers
        # for a past archive. The owner's comes from the file beside the
        # archive, brought up to date (index/name_snapshot.py); a viewer's is
        # built from what they may see.
        ctx = self.ctx
        if ctx.names is None:
            if ctx.policy.is_owner:
                ctx.names = owner_index(ctx.store, ctx.path)
            else:
                ctx.names = self._viewer_name_index()
        return ctx.names

    def _viewer_name_index(self) -> NameIndex:
        """Only names the viewer may see: a person named only above them is not a candidate."""
        index = NameIndex()
        names: dict[str, list[str]] = {}
        # Ties between equal scores go to the most-mentioned card, counted
        # over visible mentions: a count with hidden ones would order by them.
        seen = self._visible_mention_names()
        counts = Counter(eid for eid, _ in seen)
        for eid, text in seen:
            index.add(eid, text, counts[eid])
            if text not in names.setdefault(eid, []):
                names[eid].append(text)
        for eid, name in self._visible_sourced_names():
            index.add(eid, name, counts.get(eid, 0))
            if name not in names.setdefault(eid, []):
                names[eid].append(name)
        self.ctx.visible_names = names
        return index

    def _visible_mention_names(self) -> list[tuple[str, str]]:
        """(entity id, text) of every person mention in a passage the viewer may see."""
        policy = self.ctx.policy
        return [
            (eid, text) for eid, text, pid, _ in self.ctx.store.person_mention_names() if policy.portion_visible(pid)
        ]

    def _visible_sourced_names(self) -> list[tuple[str, str]]:
        """(entity id, name) of imported names and analysts' aliases, each shown with its own label."""
        policy = self.ctx.policy
        return [
            (eid, name)
            for eid, name, label in self.ctx.store.unlabelled_person_names()
            if policy.entity_visible(eid) and policy.can_see(label or UNCLASSIFIED_LABEL)
        ]

    def author(self) -> Author | None:
        """What an ingest by this viewer may see (None for the owner, who sees everything)."""
        ctx = self.ctx
        if ctx.policy.is_owner:
            return None
        view = AuthorView(ctx.policy.entity_visible)
        return Author(ctx.actor, ctx.policy.clearance, ctx.sees_whole, view)

    def shown(self, eid: str) -> str:
        """The name the viewer is shown for an entity id (`display` of its stored name; the id
        itself for an id the store does not hold)."""
        entity = self.ctx.store.entity(eid)
        return self.display(eid, entity.name) if entity else eid

    def display(self, eid: str, stored: str) -> str:
        """The name to show for an entity: for a viewer, the fullest name they may see."""
        if self.ctx.policy.is_owner:
            return stored
        self.name_index()
        seen = self.ctx.visible_names.get(eid)
        if not seen:
            # Not a person the index knows by a visible name: an organisation
            # or a place is shown as its visible mentions spell it most often
            # (the stored name is its first spelling, perhaps in a hidden
            # passage); an imported record with no visible mention, as imported.
            texts = Counter(" ".join(h.text.split()) for h in self.ctx.visible_mentions(eid))
            if not texts:
                return stored
            return max(texts.items(), key=lambda kv: (kv[1], len(kv[0]), kv[0]))[0]
        best = max(seen, key=lambda n: (display_rank(parse_name(n)), n))
        return parse_name(best).display or best

    # the card drawer -------------------------------------------------------------
    def _person_evidence(self, records: dict[str, set[str]]) -> dict[str, str | None]:
        """Each visible person card's evidence (index/evidence.py), read from the
        forms and records the viewer may see, so it says nothing of hidden ones."""
        forms: dict[str, list[str]] = {}
        for eid, text in self._visible_mention_names():
            if text not in forms.setdefault(eid, []):
                forms[eid].append(text)
        sourced = {eid for eid, _ in self._visible_sourced_names()}
        return {
            eid: person_evidence(forms.get(eid, []), len(records.get(eid, ())), eid in sourced)
            for eid in {*forms, *sourced}
        }

    def cards(
        self,
        kind: str | None = None,
        sort: str = "mentions",
        limit: int = 50,
        offset: int = 0,
        unconfirmed: bool = False,
    ) -> dict[str, Any]:
        """The index as an archivist reads a card drawer: every card the viewer may
        see, with its visible mentions and records (documents), best-known first.

        A person card is listed with its evidence (index/evidence.py); one with
        none is an unconfirmed mention, listed apart (`unconfirmed=True`) and
        counted in `unconfirmed`. Counts, names and evidence come from visible
        mentions only; ties go by the name shown, so the order says nothing of
        what is hidden.
        """
        ctx = self.ctx
        if kind is not None and kind not in CARD_KINDS:
            raise InvalidInput(E.E071, field="--kind", value=kind, expected=", ".join(CARD_KINDS))
        if sort not in CARD_SORTS:
            raise InvalidInput(E.E071, field="--sort", value=sort, expected=", ".join(CARD_SORTS))
        wanted = CARD_KINDS[kind] if kind else None
        mentions: Counter[str] = Counter()
        records: dict[str, set[str]] = {}
        kinds: dict[str, str] = {}
        for eid, k, _pid, doc in ctx.visible_entity_portions():
            if wanted is None or k == wanted:
                mentions[eid] += 1
                records.setdefault(eid, set()).add(doc)
                kinds[eid] = k
        # Cards with a source of their own and no visible mention (an import).
        for eid in sorted({*ctx.store.entities_without_mentions(), *(e for e, _ in ctx.store.sourced_entities())}):
            entity = ctx.store.entity(eid)
            if eid in kinds or entity is None or not ctx.policy.entity_visible(eid):
                continue
            if wanted is None or entity.kind == wanted:
                kinds[eid] = entity.kind
                records.setdefault(eid, set())
        evidence = self._person_evidence(records) if "PERSON" in kinds.values() else {}
        rows: list[dict[str, Any]] = []
        without = {eid for eid, k in kinds.items() if k == "PERSON" and evidence.get(eid) is None}
        for eid, k in kinds.items():
            if (eid in without) != unconfirmed:
                continue  # listed apart: the person cards without evidence (only persons need it)
            entity = ctx.store.entity(eid)
            stored = entity.name if entity else eid
            reason = evidence.get(eid) if k == "PERSON" else None
            rows.append(
                {
                    "entity_id": eid,
                    "name": self.display(eid, stored),
                    "kind": k,
                    "origin": entity.origin if entity else "",
                    "mentions": mentions[eid],
                    "records": len(records[eid]),
                    "evidence": reason,
                }
            )
        order = {
            "mentions": lambda r: (-r["mentions"], -r["records"], r["name"].casefold(), r["entity_id"]),
            "records": lambda r: (-r["records"], -r["mentions"], r["name"].casefold(), r["entity_id"]),
            "name": lambda r: (r["name"].casefold(), r["name"], r["entity_id"]),
        }[sort]
        rows.sort(key=order)
        page = rows[offset : offset + limit]
        ctx.audit.record(ctx.actor, "list cards", [r["entity_id"] for r in page])
        return {
            "kind": kind,
            "sort": sort,
            "total": len(rows),
            "unconfirmed": len(without),
            "cards": page,
        }

    # name check --------------------------------------------------------------
    def check(self, name: str, limit: int = 10) -> dict[str, Any]:
        q = parse_name(name)
        if q.is_empty:
            raise InvalidInput(E.E024, name=name)
        matches = self._candidates(q, limit)
        self.ctx.audit.record(self.ctx.actor, "check", [m.entity_id for m in matches], detail=name)
        return {"query": name, "matches": [{**m.as_json(), "labels": self._labels(m.entity_id)} for m in matches]}

    def _labels(self, eid: str) -> list[str]:
        """The stored labels of the passages naming a candidate that the viewer may see:
        what a page showing the candidate rolls its banner up from."""
        memo: dict[str, dict[int, str]] = {}
        ctx = self.ctx
        return sorted({ctx.portion_label(memo, h.document_id, h.portion_id) for h in ctx.visible_mentions(eid)})

    def _candidates(self, q: ParsedName, limit: int) -> list[Match]:
        return self._matches(self.name_index().search(q, limit))

    def _matches(self, hits: list[Hit]) -> list[Match]:
        out: list[Match] = []
        for h in hits:
            entity = self.ctx.store.entity(h.entity_id)
            if entity is None or not self.ctx.policy.entity_visible(h.entity_id):
                continue  # the index outlived a write; the store and the policy decide
            out.append(Match(h.entity_id, self.display(h.entity_id, entity.name), h.score, h.explanation, h.matched))
        return out

    def check_batch(
        self, rows: Iterable[tuple[str, str]], limit: int = 5, workers: int = 1, ray_actors: int = 0
    ) -> Iterator[dict[str, Any]]:
        """Check many (query id, name) rows, in order; a bad row is reported and the batch goes on."""
        pending: deque[tuple[str, str]] = deque()

        def names() -> Iterator[str]:
            for query_id, name in rows:
                pending.append((query_id, name))
                yield name

        index = self.name_index()
        for result in screen(index, names(), limit=limit, workers=workers, ray_actors=ray_actors):
            query_id, name = pending.popleft()
            if isinstance(result, str) or (not result and parse_name(name).is_empty):
                error = KartotekaError(E.E024, name=name).message if not isinstance(result, str) else result
                yield {"query_id": query_id, "query": name, "matches": [], "error": error}
                continue
            matches = self._matches(result)
            self.ctx.audit.record(self.ctx.actor, "check", [m.entity_id for m in matches], detail=name)
            yield {"query_id": query_id, "query": name, "matches": [m.as_json() for m in matches]}

    # dossier -------------------------------------------------------------------
    def resolve_ref(self, ref: str) -> str:
        """An entity id, or a name that the name check resolves without doubt."""
        if "\x00" in ref:
            # No id or name holds a NUL, and PostgreSQL can't be asked for one: missing.
            raise NotFound(E.E020, ref=ref.replace("\x00", ""))
        eid = self.ctx.store.resolve_redirect(ref)
        if self.ctx.store.entity(eid) is not None and self.ctx.policy.entity_visible(eid):
            return eid
        recorded = self.recorded(ref)
        if len(recorded) == 1:
            return recorded[0]  # the id an imported record had in its file
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

    def dossier(self, ref: str, associates: int, facts: Callable[[str], list[dict[str, Any]]]) -> dict[str, Any]:
        """Everything on one entity; `facts` is the assessment's view of it (see `Analysis.facts`)."""
        ctx = self.ctx
        eid = self.resolve_ref(ref)
        entity = ctx.store.entity(eid)
        assert entity is not None
        hits = ctx.visible_mentions(eid)
        dates = ctx.store.dates_in_portions(sorted({h.portion_id for h in hits}))
        documents: dict[str, dict[str, Any]] = {}
        seen_portions: set[int] = set()
        date_counter: Counter[tuple[str, str | None]] = Counter()
        labels: dict[str, dict[int, str]] = {}
        for h in hits:
            d = documents.setdefault(
                h.document_id, {"document_id": h.document_id, "source": h.source, "snippets": [], "dates": []}
            )
            if h.portion_id in seen_portions:
                continue  # one snippet per passage; the passage already cites the document
            seen_portions.add(h.portion_id)
            rel_start, rel_end = h.start - h.portion_start, h.end - h.portion_start
            n = ctx.portion_number(h.document_id, h.portion_id)
            d["snippets"].append(
                {
                    "portion": n,
                    "mention": h.text,
                    "mention_id": ctx.mention_id(h),
                    "text": snippet(h.portion_text, rel_start, rel_end),
                    # The passage's governing label, for the banner of a page citing it.
                    "label": ctx.portion_label(labels, h.document_id, h.portion_id),
                }
            )
            for dm in dates.get(h.portion_id, []):
                entry = {"text": dm.text, "value": dm.value, "portion": n}
                if entry not in d["dates"]:
                    d["dates"].append(entry)
                date_counter[(dm.text, dm.value)] += 1
        name = self.display(eid, entity.name)
        if ctx.policy.is_owner:
            aliases = [n for n in entity.names if n != name]
        else:
            self.name_index()
            seen = ctx.visible_names.get(eid, []) if entity.kind == "PERSON" else [h.text for h in hits]
            aliases = [n for n in dict.fromkeys(seen) if n != name]
        ctx.audit.record(ctx.actor, "dossier", [eid, *documents])
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
            "facts": facts(eid),
        }

    def _associates(self, eid: str, limit: int) -> list[dict[str, Any]]:
        if self.ctx.policy.is_owner:
            rows = self.ctx.store.co_mentions(eid, limit)
        else:
            # Counted over visible passages only: a co-mention in a hidden
            # portion would reveal that the portion exists.
            counts: Counter[tuple[str, str, str]] = Counter()
            for other, name, kind, pid in self.ctx.store.co_mention_rows(eid, self.ctx.visible_partitions()):
                if self.ctx.policy.portion_visible(pid):
                    counts[(other, name, kind)] += 1
            # Ties by the name shown: the stored name may come from a hidden mention.
            shown = [(a, self.display(a, n), k, c) for (a, n, k), c in counts.items()]
            rows = sorted(shown, key=lambda r: (-r[3], r[1], r[0]))[:limit]
        return [{"entity_id": a, "name": n, "kind": k, "portions": c} for a, n, k, c in rows]

    # imported persons ---------------------------------------------------------------
    def recorded(self, record_id: str) -> list[str]:
        """The visible cards imported under this id of their file, or that bear it as their own id."""
        store, policy = self.ctx.store, self.ctx.policy
        found = set(store.entities_for_keys([RECORD_KEY + record_id], "PERSON"))
        own = store.resolve_redirect(record_id)
        entity = store.entity(own)
        if entity is not None and entity.kind == "PERSON":
            found.add(own)
        return sorted(e for e in found if policy.entity_visible(e))
