"""Ingest: read, recognise structure, extract, resolve, store.

Documents stream through spaCy's `nlp.pipe` portion by portion, so memory
stays flat however large the corpus. Writes are grouped in transactions of a
few documents; each document sits in its own savepoint, so a document that
fails is reported and skipped while the others are kept. An interrupted run
loses at most the open transaction, and re-running skips every document whose
content is already stored: ingest is resumable and idempotent.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

from kartoteka.access.labels import Label, LabelError, Level
from kartoteka.index import extract
from kartoteka.index.resolve import COMPONENT as RESOLVE_COMPONENT
from kartoteka.index.resolve import Resolver
from kartoteka.names.index import NameIndex
from kartoteka.registry import structure
from kartoteka.registry.readers import RawDocument, ReadError
from kartoteka.store.base import Store
from kartoteka.store.records import DateMention, Document, Portion

COMMIT_EVERY_DOCS = 25
COMMIT_EVERY_SECONDS = 2.0
# Portions per spaCy batch: large enough to keep the model busy, small enough
# that a batch is a fraction of a second of work.
BATCH_SIZE = 64


@dataclass(frozen=True)
class IngestResult:
    source: str
    status: str  # added | unchanged | error
    document_id: str | None = None
    error: str | None = None
    chars: int = 0
    mentions: int = 0

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {"document_id": self.document_id, "source": self.source, "status": self.status}
        if self.error:
            out["error"] = self.error
        return out


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def document_id_for(digest: str) -> str:
    return f"doc-{digest[:16]}"


@dataclass
class _Pending:
    raw: RawDocument
    digest: str
    portions: list[Portion]
    classification: str | None
    masked: dict[int, str]  # text portions by seq, markings blanked: what extraction reads
    found: dict[int, list[extract.Found]] = field(default_factory=dict)
    remaining: int = 0

    def __post_init__(self) -> None:
        self.remaining = len(self.masked)


def model_texts(portions: list[Portion]) -> dict[int, str]:
    """The text portions, by seq, with their markings blanked for extraction."""
    return {p.seq: structure.masked_text(p) for p in portions if p.kind == "text"}


def pipeline_name() -> str:
    return ",".join([structure.COMPONENT, extract.NER_COMPONENT, extract.CYRILLIC_COMPONENT, RESOLVE_COMPONENT])


class Ingestor:
    def __init__(
        self,
        store: Store,
        *,
        workers: int = 1,
        batch_size: int | None = None,
        names: NameIndex | None = None,
        label: str = "U",
    ) -> None:
        self.store = store
        self.label = label
        self.workers = workers
        self.batch_size = batch_size or BATCH_SIZE
        self.resolver = Resolver(store, names)

    def run(self, items: Iterable[RawDocument | ReadError]) -> Iterator[IngestResult]:
        pending: dict[int, _Pending] = {}
        ready: list[IngestResult] = []
        seen: set[str] = set()

        def portions_stream() -> Iterator[tuple[str, tuple[int, int]]]:
            for n, item in enumerate(items):
                if isinstance(item, ReadError):
                    ready.append(IngestResult(item.source, "error", error=item.message))
                    continue
                digest = content_hash(item.text)
                existing = self.store.document_id_for_hash(digest)
                if existing or digest in seen:
                    ready.append(IngestResult(item.source, "unchanged", existing or document_id_for(digest)))
                    continue
                seen.add(digest)
                try:
                    st = structure.analyse(item.text)
                except Exception as exc:  # a structure bug must not stop the batch
                    ready.append(IngestResult(item.source, "error", error=f"[E001] Can't read {item.source}: {exc}"))
                    continue
                masked = model_texts(st.portions)
                pending[n] = _Pending(item, digest, st.portions, st.classification, masked)
                if not masked:
                    yield "", (n, -1)  # a document of structure only still flows through in order
                for seq, text in masked.items():
                    yield extract.ner_view(text), (n, seq)

        stream = extract.NerRunner(self.workers, self.batch_size).run(portions_stream())
        txn = self.store.transaction()
        txn.__enter__()
        opened = time.monotonic()
        stored_in_txn = 0
        try:
            for spans, (n, seq) in stream:
                while ready:
                    yield ready.pop(0)
                p = pending[n]
                if seq >= 0:
                    text = p.masked[seq]
                    p.found[seq] = extract.entities_from_spans(spans, text) + extract.cyrillic_names(text)
                p.remaining -= 1
                if p.remaining > 0:
                    continue
                del pending[n]
                result = self._store_one(p)
                stored_in_txn += 1
                if stored_in_txn >= COMMIT_EVERY_DOCS or time.monotonic() - opened > COMMIT_EVERY_SECONDS:
                    txn.__exit__(None, None, None)
                    txn = self.store.transaction()
                    txn.__enter__()
                    opened, stored_in_txn = time.monotonic(), 0
                yield result
            while ready:
                yield ready.pop(0)
        except BaseException as exc:
            txn.__exit__(type(exc), exc, exc.__traceback__)
            raise
        else:
            txn.__exit__(None, None, None)

    def _store_one(self, p: _Pending) -> IngestResult:
        raw = p.raw
        doc_id = document_id_for(p.digest)
        doc = Document(
            id=doc_id,
            content_hash=p.digest,
            source=raw.source,
            format=raw.format,
            text=raw.text,
            title=raw.title,
            classification=p.classification,
            pipeline=f"{raw.reader},{pipeline_name()}",
            portions=[_labelled(q) for q in p.portions],
            label=self.label,
        )
        by_seq = {q.seq: q for q in p.portions}
        mentions: list[tuple[int, int, int, str, str]] = []
        for seq in sorted(p.found):
            base = by_seq[seq].start
            for f in sorted(p.found[seq], key=lambda x: x.start):
                if f.kind == "DATE":
                    doc.dates.append(DateMention(seq, base + f.start, base + f.end, f.text, f.value))
                else:
                    mentions.append((seq, base + f.start, base + f.end, f.text, f.kind))
        try:
            with self.store.transaction(), self.store.savepoint():
                portion_ids = self.store.add_document(doc)
                entity_ids = self.resolver.resolve(doc_id, mentions)
                self.store.add_mentions(
                    doc_id,
                    portion_ids,
                    [(m[0], m[1], m[2], m[3], m[4], e) for m, e in zip(mentions, entity_ids, strict=True) if e],
                )
        except Exception as exc:
            return IngestResult(
                raw.source, "error", error=f"[E001] Can't read {raw.source}: {type(exc).__name__}: {exc}"
            )
        return IngestResult(raw.source, "added", doc_id, chars=len(raw.text), mentions=len(mentions))


def _labelled(portion: Portion) -> Portion:
    """A portion mark labels its portion: `(S//HUM/NF)` is level S with HUM and NF.
    Unmarked portions keep no label of their own and inherit the document's."""
    if not portion.mark or not portion.level:
        return portion
    level = "U" if portion.level == "CUI" else portion.level
    tokens = [*portion.tokens, "CUI"] if portion.level == "CUI" else list(portion.tokens)
    try:
        label = Label.of_tokens(Level.parse(level), [re.sub(r"[^A-Za-z0-9_\-.:/]", "_", t) for t in tokens])
    except LabelError:
        # An unreadable mark must not make a portion less protected than its
        # document: keep the document's label.
        return portion
    return replace(portion, label=str(label))
