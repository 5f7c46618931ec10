"""The archive: every question and every correction, as one data function each.

The CLI (and the HTTP API to come) only parse arguments, call these, and
render the plain dicts they return, so the channels cannot drift apart. The
store is private to this module: nothing else in the package reads archive
content, which is what makes this the single place an access policy applies.
"""

from __future__ import annotations

import csv
import json
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kartoteka.errors import E, InvalidInput, KartotekaError, NotFound
from kartoteka.index.resolve import build_name_index, entity_id_for
from kartoteka.names.compare import LIKELY
from kartoteka.names.index import Hit, NameIndex, screen
from kartoteka.names.parse import ParsedName, parse_name
from kartoteka.registry.ingest import Ingestor, IngestResult
from kartoteka.registry.readers import RawDocument, ReadError
from kartoteka.store import open_store
from kartoteka.store.base import Store

SNIPPET_CONTEXT = 110


@dataclass(frozen=True)
class Match:
    entity_id: str
    name: str
    score: float
    explanation: str
    matched: str

    def as_json(self) -> dict[str, Any]:
        return {"entity_id": self.entity_id, "name": self.name, "score": self.score, "explanation": self.explanation}


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
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._store: Store = open_store(path)
        self._names: NameIndex | None = None

    def _name_index(self) -> NameIndex:
        # Built on first use and dropped after every write: building is cheap
        # next to ingest, and a stale index would answer for a past archive.
        if self._names is None:
            self._names = build_name_index(self._store)
        return self._names

    def close(self) -> None:
        self._store.close()

    @contextmanager
    def _write(self) -> Iterator[None]:
        """A write transaction; the name index is dropped, rebuilt on next use."""
        self._names = None
        with self._store.transaction():
            yield

    # registry ----------------------------------------------------------------
    def ingest(self, items: Iterable[RawDocument | ReadError], *, workers: int = 1) -> Iterator[IngestResult]:
        index = self._name_index()
        self._names = None
        # The ingest keeps its own copy current as it resolves; ours is
        # rebuilt on next use, after the ingest has committed.
        return Ingestor(self._store, workers=workers, names=index).run(items)

    def stats(self) -> dict[str, Any]:
        return {"archive": str(self.path), "schema_version": self._store.schema_version(), **self._store.counts()}

    def documents(self, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
        return [d.__dict__ for d in self._store.documents(limit, offset)]

    def document(self, document_id: str) -> dict[str, Any]:
        summary = self._store.document(document_id)
        if summary is None:
            raise NotFound(E.E020, ref=document_id)
        return {
            **summary.__dict__,
            "portions": [
                {"seq": seq, "kind": kind, "mark": mark, "text": text}
                for seq, kind, text, mark in self._store.portion_texts(document_id)
            ],
            "markings": [
                {"kind": k, "value": v, "start": s, "end": e} for k, v, s, e in self._store.markings(document_id)
            ],
        }

    # name check --------------------------------------------------------------
    def check(self, name: str, limit: int = 10) -> dict[str, Any]:
        q = parse_name(name)
        if q.is_empty:
            raise InvalidInput(E.E024, name=name)
        matches = self._candidates(q, limit)
        return {"query": name, "matches": [m.as_json() for m in matches]}

    def _candidates(self, q: ParsedName, limit: int) -> list[Match]:
        return self._matches(self._name_index().search(q, limit))

    def _matches(self, hits: list[Hit]) -> list[Match]:
        out: list[Match] = []
        for h in hits:
            entity = self._store.entity(h.entity_id)
            if entity is None:  # the index outlived a write; the store decides
                continue
            out.append(Match(h.entity_id, entity.name, h.score, h.explanation, h.matched))
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
            yield {"query_id": query_id, "query": name, "matches": [m.as_json() for m in self._matches(result)]}

    # dossier -------------------------------------------------------------------
    def resolve_ref(self, ref: str) -> str:
        """An entity id, or a name that the name check resolves without doubt."""
        if self._store.entity(self._store.resolve_redirect(ref)) is not None:
            return self._store.resolve_redirect(ref)
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

    def dossier(self, ref: str, associates: int = 10) -> dict[str, Any]:
        eid = self.resolve_ref(ref)
        entity = self._store.entity(eid)
        assert entity is not None
        hits = self._store.mentions_of(eid)
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
        return {
            "entity_id": eid,
            "name": entity.name,
            "kind": entity.kind,
            "origin": entity.origin,
            "aliases": [n for n in entity.names if n != entity.name],
            "mention_count": len(hits),
            "documents": list(documents.values()),
            "dates": [
                {"text": t, "value": v, "count": c}
                for (t, v), c in sorted(date_counter.items(), key=lambda x: (x[0][1] or "9999", -x[1]))
            ],
            "associates": [
                {"entity_id": a, "name": n, "kind": k, "portions": c}
                for a, n, k, c in self._store.co_mentions(eid, associates)
            ],
        }

    # search ----------------------------------------------------------------------
    def search(self, query: str, limit: int = 20, offset: int = 0) -> dict[str, Any]:
        try:
            total, hits = self._store.search(query, limit, offset)
        except ValueError:
            # Not FTS5 syntax ("Gen. Kalugin"): search the words as a phrase-free AND.
            words = [w for w in "".join(c if c.isalnum() else " " for c in query).split() if w]
            if not words:
                return {"query": query, "total": 0, "hits": []}
            total, hits = self._store.search(" ".join(f'"{w}"' for w in words), limit, offset)
        return {
            "query": query,
            "total": total,
            "hits": [
                {"document_id": h.document_id, "source": h.source, "portion": h.portion_seq, "snippet": h.snippet}
                for h in hits
            ],
        }

    # corrections -----------------------------------------------------------------
    def _existing(self, ref: str) -> str:
        eid = self._store.resolve_redirect(ref)
        if self._store.entity(eid) is None:
            raise NotFound(E.E020, ref=ref)
        return eid

    def merge(self, keep_ref: str, gone_ref: str) -> dict[str, Any]:
        keep, gone = self._existing(keep_ref), self._existing(gone_ref)
        if keep == gone:
            raise InvalidInput(E.E023, entity=keep)
        with self._write():
            self._store.merge_entities(keep, gone)
            self._store.record_correction("merge", {"keep": keep, "merged": gone})
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
        return {"entity_id": eid, "new_entity_id": new_id, "moved": len(mention_keys)}

    def alias(self, ref: str, name: str) -> dict[str, Any]:
        eid = self._existing(ref)
        parsed = parse_name(name)
        if parsed.is_empty:
            raise InvalidInput(E.E024, name=name)
        with self._write():
            self._store.add_names(eid, [(name, "analyst")])
            self._store.record_correction("alias", {"entity": eid, "name": name})
        return {"entity_id": eid, "alias": name}

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
