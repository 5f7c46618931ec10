"""Ingest: read, recognise structure, extract, resolve, store.

Documents stream through spaCy's `nlp.pipe` portion by portion, so memory
stays flat however large the corpus. Documents the model has finished wait in
a batch of a few; the batch is then stored in one short write transaction,
each document in its own savepoint, so a document that fails is reported and
skipped while the others are kept. Reading, OCR and the model run outside any
transaction: the archive's write lock is held only while a batch is written
(milliseconds), so another ingest or a writer waits briefly instead of failing.

A result is yielded only after the transaction that stored it has committed:
what a caller prints as "added" is in the archive. An interrupted run loses at
most the batch being written, and re-running skips every document whose
content is already stored: ingest is resumable and idempotent. A document that
another process stored meanwhile is found again inside the transaction and
reported as unchanged.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace

from kartoteka.access.labels import Label, LabelError, Level
from kartoteka.access.policy import stored_label
from kartoteka.errors import E, KartotekaError
from kartoteka.index import extract
from kartoteka.index.resolve import COMPONENT as RESOLVE_COMPONENT
from kartoteka.index.resolve import Resolver, relabel_people
from kartoteka.names.index import NameIndex
from kartoteka.registry import boilerplate, structure
from kartoteka.registry.author import Author
from kartoteka.registry.readers import RawDocument, ReadError
from kartoteka.store.base import Store
from kartoteka.store.records import DateMention, Document, Portion
from kartoteka.vocab import markings

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
    # What reading the document reported (encoding replacements, OCR pages
    # that failed), one line each with its code.
    warnings: tuple[str, ...] = ()

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {"document_id": self.document_id, "source": self.source, "status": self.status}
        if self.error:
            out["error"] = self.error
        if self.warnings:
            out["warnings"] = list(self.warnings)
        return out


class IngestRun(Iterator[IngestResult]):
    """The results of one ingest, each yielded after its commit, and how many
    documents it has stored so far (exact even right after an interrupt)."""

    def __init__(self, ingestor: Ingestor, results: Iterator[IngestResult]) -> None:
        self._ingestor = ingestor
        self._results = results

    def __next__(self) -> IngestResult:
        return next(self._results)

    @property
    def stored(self) -> int:
        return self._ingestor.stored_count()


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def document_id_for(store: Store, digest: str) -> str:
    # Keyed with the archive's secret: a bare content hash, printed on a
    # release copy, would let anyone confirm a guess of the withheld text.
    return store.keyed_id("doc", digest)


@dataclass
class _Pending:
    raw: RawDocument
    digest: str
    portions: list[Portion]
    classification: str | None
    masked: dict[int, str]  # text portions by seq, markings blanked: what extraction reads
    lines: dict[int, list[tuple[int, int, LineKey]]]  # candidate boilerplate lines by seq
    masked_keys: set[LineKey] = field(default_factory=set)  # learned lines masked when read
    label: str = "U"  # the document's label: the ingest's, raised to its banner under `enforce`
    found: dict[int, list[extract.Found]] = field(default_factory=dict)
    remaining: int = 0

    def __post_init__(self) -> None:
        self.remaining = len(self.masked)

    @property
    def keys(self) -> list[LineKey]:
        return [k for spans in self.lines.values() for _, _, k in spans]


def model_texts(portions: list[Portion]) -> dict[int, str]:
    """The text portions, by seq, with their markings blanked for extraction."""
    return {p.seq: structure.masked_text(p) for p in portions if p.kind == "text" and not p.boilerplate}


def pipeline_name() -> str:
    return ",".join(
        [
            structure.COMPONENT,
            boilerplate.COMPONENT,
            extract.ner_component(),
            extract.CYRILLIC_COMPONENT,
            extract.RULES_COMPONENT,
            RESOLVE_COMPONENT,
        ]
    )


# (line key, document label, label governing the line's portion): a line is
# counted and learned only within its partition, which a viewer sees whole or
# not at all (see registry/boilerplate.py).
LineKey = tuple[int, str, str]


def candidate_lines(portions: list[Portion], doc_label: str) -> dict[int, list[tuple[int, int, LineKey]]]:
    """The lines of each text portion that could be learned boilerplate, by seq:
    (start, end, (key, document label, label)), the label being the one that
    governs the line."""
    out: dict[int, list[tuple[int, int, LineKey]]] = {}
    for p in portions:
        if p.kind != "text" or p.boilerplate:
            continue
        label = p.label or doc_label
        for start, end, line in structure.line_spans(p):
            key = boilerplate.line_key(line)
            if key is not None:
                out.setdefault(p.seq, []).append((start, end, (key, doc_label, label)))
    return out


def with_ocr_confidence(portions: list[Portion], words: tuple[tuple[int, int, float], ...]) -> list[Portion]:
    """Each portion's OCR confidence: the mean confidence of the OCR words in it,
    weighted by their length, so that a passage can be ranked by how well it was read."""
    if not words:
        return portions
    ordered = sorted(words)
    out: list[Portion] = []
    i = 0
    for p in portions:
        while i < len(ordered) and ordered[i][1] <= p.start:
            i += 1
        total = weight = 0.0
        j = i
        while j < len(ordered) and ordered[j][0] < p.end:
            s, e, c = ordered[j]
            total += c * (e - s)
            weight += e - s
            j += 1
        out.append(replace(p, ocr_confidence=round(total / weight, 3)) if weight else p)
    return out


class Ingestor:
    def __init__(
        self,
        store: Store,
        *,
        workers: int = 1,
        batch_size: int | None = None,
        names: NameIndex | None = None,
        label: str = "U",
        markings: str = "enforce",
        on_stored: Callable[[str], None] | None = None,
        on_commit: Callable[[], None] | None = None,
        author: Author | None = None,
        ner: extract.SpanRunner | None = None,
    ) -> None:
        self.store = store
        # Where the model runs: here (with `workers` processes), or a cluster's runner.
        self.ner = ner
        # None: the owner, who sees everything. Anyone else's answers come from
        # their own view (see `registry/author.py`).
        self.author = author
        # on_stored runs inside the document's savepoint (its audit entry commits
        # with it); on_commit after each batch's commit.
        self.on_stored = on_stored
        self.on_commit = on_commit
        self._committed = 0
        self._writing: list[str] = []  # ids added in the batch being written
        self.label = label
        # enforce: a banner raises the document's label to its level, so that an
        # unmarked portion of a SECRET report is SECRET, never UNCLASSIFIED.
        # record: markings are kept as history only (an already released collection).
        self.enforce = markings == "enforce"
        self.workers = workers
        self.batch_size = batch_size or BATCH_SIZE
        self.resolver = Resolver(store, names, author.view if author else None)

    def _stored(self, digest: str) -> str | None:
        """The stored document of this text that makes the ingest a no-op, if any.

        For the owner, any. For another author, only their own copy: matching
        a text they rebuilt from what they were shown against someone else's
        document would say whether that document holds more (a hidden
        paragraph makes its text differ), so such a text is stored as theirs.
        """
        if self.author is None:
            return self.store.document_id_for_hash(digest)
        own = self._document_id(digest)
        if own in self.store.documents_with_content(digest) and self.author.sees_whole(own):
            return own
        return None

    def _document_id(self, digest: str) -> str:
        if self.author is None:
            return document_id_for(self.store, digest)
        return self.store.keyed_id("doc", f"{digest}\x00{self.author.scope}")

    def _above_author(self, doc_label: str, portions: list[Portion]) -> str | None:
        """The first label of the document that its author may not read, if any."""
        if self.author is None:
            return None
        for text in (doc_label, *(q.label for q in portions if q.label)):
            if not self.author.clearance.can_see(Label.parse(text)):
                return text
        return None

    def run(self, items: Iterable[RawDocument | ReadError]) -> IngestRun:
        return IngestRun(self, self._run(items))

    def stored_count(self) -> int:
        """Documents this run has stored. Ids of a batch whose commit was cut short
        are looked up, so the count is what the archive holds, not what was tried."""
        in_flight = sum(1 for doc_id in self._writing if self.store.document(doc_id) is not None)
        return self._committed + in_flight

    def _run(self, items: Iterable[RawDocument | ReadError]) -> Iterator[IngestResult]:
        pending: dict[int, _Pending] = {}
        ready: list[IngestResult] = []
        seen: set[str] = set()

        def portions_stream() -> Iterator[tuple[str, tuple[int, int]]]:
            for n, item in enumerate(items):
                if isinstance(item, ReadError):
                    ready.append(IngestResult(item.source, "error", error=item.message))
                    continue
                digest = content_hash(item.text)
                existing = self._stored(digest)
                if existing or digest in seen:
                    doc_id = existing or self._document_id(digest)
                    ready.append(IngestResult(item.source, "unchanged", doc_id, warnings=item.warnings))
                    continue
                seen.add(digest)
                try:
                    st = structure.analyse(item.text)
                    doc_label = self._document_label(st.classification)
                    labelled = (
                        _fail_closed([_labelled(q) for q in st.portions], doc_label) if self.enforce else st.portions
                    )
                    portions = with_ocr_confidence(labelled, item.word_confidence)
                    lines = candidate_lines(portions, doc_label)
                    portions, masked_keys = self._mask_learned(portions, lines)
                    above = self._above_author(doc_label, portions)
                except Exception as exc:  # a structure bug must not stop the batch
                    ready.append(IngestResult(item.source, "error", error=f"[E001] Can't read {item.source}: {exc}"))
                    continue
                if above is not None and self.author is not None:
                    seen.discard(digest)
                    refused = KartotekaError(
                        E.E101, source=item.source, label=above, clearance=self.author.clearance.key
                    )
                    ready.append(IngestResult(item.source, "error", error=refused.message))
                    continue
                masked = model_texts(portions)
                pending[n] = _Pending(item, digest, portions, st.classification, masked, lines, masked_keys, doc_label)
                if not masked:
                    yield "", (n, -1)  # a document of structure only still flows through in order
                for seq, text in masked.items():
                    yield extract.ner_view(text), (n, seq)

        runner = self.ner or extract.NerRunner(self.workers, self.batch_size)
        stream = runner.run(portions_stream())
        batch: list[_Pending] = []
        first_done = 0.0
        for spans, (n, seq) in stream:
            while ready:
                yield ready.pop(0)
            p = pending[n]
            if seq >= 0:
                text = p.masked[seq]
                found = extract.entities_from_spans(spans, text) + extract.cyrillic_names(text)
                p.found[seq] = found + extract.rule_names(text, found)
            p.remaining -= 1
            if p.remaining > 0:
                continue
            del pending[n]
            if not batch:
                first_done = time.monotonic()
            batch.append(p)
            if len(batch) >= COMMIT_EVERY_DOCS or time.monotonic() - first_done > COMMIT_EVERY_SECONDS:
                yield from self._write(batch)
                batch = []
        if batch:
            yield from self._write(batch)
        while ready:
            yield ready.pop(0)

    def _write(self, batch: list[_Pending]) -> Iterator[IngestResult]:
        """Store a batch in one short transaction; its results, after the commit."""
        self._writing = []
        with self.store.transaction():
            results = [self._store_one(p) for p in batch]
        # One statement with no call inside: an interrupt lands before or after
        # it, so the batch is counted exactly once (by id while it is in flight).
        self._committed, self._writing = self._committed + sum(r.status == "added" for r in results), []
        yield from results
        # After the results are out: a failure here (the audit trail busy) loses
        # nothing, since the entries committed with the batch are chained later.
        if self.on_commit is not None:
            self.on_commit()

    def _store_one(self, p: _Pending) -> IngestResult:
        raw = p.raw
        doc_id = self._document_id(p.digest)
        doc = Document(
            id=doc_id,
            content_hash=p.digest,
            source=raw.source,
            format=raw.format,
            text=raw.text,
            title=raw.title,
            classification=p.classification,
            pipeline=f"{raw.reader},{pipeline_name()}",
            portions=p.portions,
            label=p.label,
            pages=list(raw.pages),
            encoding=raw.encoding,
            replaced=raw.replaced,
            markings="enforce" if self.enforce else "record",
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
                # Another process may have stored the same content since it was read.
                stored = self._stored(p.digest)
                if stored is not None:
                    return IngestResult(raw.source, "unchanged", stored, warnings=raw.warnings)
                if self.store.document_id_for_hash(p.digest) is not None:
                    # A copy (its author could not see the first whole): the
                    # first of a text holds the bare digest, a copy adds its id.
                    doc.content_hash = f"{p.digest}/{doc_id}"
                portion_ids = self.store.add_document(doc)
                governing = {q.seq: stored_label(q.label or p.label) for q in p.portions}
                # Stored with the kind resolution gives them: a lone "Sorin"
                # the model read as ORG or NORP is a PERSON mention of the card.
                mentions = relabel_people(mentions, governing)
                entity_ids = self.resolver.resolve(doc_id, mentions, governing, stored_label(p.label))
                self.store.add_mentions(
                    doc_id,
                    portion_ids,
                    [(m[0], m[1], m[2], m[3], m[4], e) for m, e in zip(mentions, entity_ids, strict=True) if e],
                )
                keys = p.keys
                crossed = self.store.boilerplate_seen(doc_id, keys, boilerplate.min_docs())
                for key in crossed:
                    self._mask_stored(key, self.store.boilerplate_documents(*key))
                # Documents flow through the model ahead of storage, so lines
                # learned while this one was read are masked in it now.
                late = self.store.boilerplate_learned(keys, boilerplate.min_docs()) - p.masked_keys - set(crossed)
                for key in late:
                    self._mask_stored(key, [doc_id])
                if self.on_stored is not None:
                    self.on_stored(doc_id)
                self._writing.append(doc_id)
        except Exception as exc:
            if doc_id in self._writing:
                self._writing.remove(doc_id)
            return IngestResult(
                raw.source,
                "error",
                error=f"[E001] Can't read {raw.source}: {type(exc).__name__}: {exc}",
                warnings=raw.warnings,
            )
        return IngestResult(
            raw.source, "added", doc_id, chars=len(raw.text), mentions=len(mentions), warnings=raw.warnings
        )

    def _document_label(self, classification: str | None) -> str:
        if not self.enforce or classification is None:
            return self.label
        base = Label.parse(self.label)
        banner = next((lv for lv in markings().levels if lv.name == classification), None)
        if banner is None:
            return self.label
        level = Level.parse(banner.abbrev)
        return str(Label(max(base.level, level), base.expression)) if level > base.level else self.label

    def _mask_learned(
        self, portions: list[Portion], lines: dict[int, list[tuple[int, int, LineKey]]]
    ) -> tuple[list[Portion], set[LineKey]]:
        """Mark the lines this collection has already taught us are boilerplate;
        also which learned lines were marked."""
        keys = [k for spans in lines.values() for _, _, k in spans]
        learned = self.store.boilerplate_learned(keys, boilerplate.min_docs()) if keys else set()
        if not learned:
            return portions, set()
        marked = [
            structure.with_boilerplate_lines(q, [(s, e) for s, e, k in lines.get(q.seq, []) if k in learned])
            for q in portions
        ]
        return marked, learned

    def _mask_stored(self, key: LineKey, documents: list[str]) -> None:
        """A line has become boilerplate in its partition: correct the stored
        documents of that partition, removing the mentions and dates its lines
        gave. Only portions of the very partition are touched: the same line
        under another label, or in a document of another label, is not learned."""
        wanted, partition_doc_label, label = key
        for doc_id in documents:
            doc_label = self.store.document_label(doc_id) or "U"
            if doc_label != partition_doc_label:
                continue
            for pid, _seq, kind, text, _mark, own_label, start in self.store.portion_spans(doc_id):
                if kind != "text" or (own_label or doc_label) != label:
                    continue
                probe = Portion(0, start, start + len(text), kind, text)
                spans = [(s, e) for s, e, line in structure.line_spans(probe) if boilerplate.line_key(line) == wanted]
                if spans:
                    masked = structure.with_boilerplate_lines(probe, spans)
                    self.store.mask_boilerplate(pid, spans, masked.boilerplate)


def _fail_closed(portions: list[Portion], doc_label: str) -> list[Portion]:
    """Unmarked text in a document that marks its portions is classified at the
    document's overall level: the join of every portion mark (and the
    document's own label). A line the layout split from a marked paragraph
    ("1. ..." under "(S//HUM) The source reported:") is then never U.
    A document without portion marks keeps the document's label throughout."""
    marked = [stored_label(q.label) for q in portions if q.mark and q.label]
    if not marked:
        return portions
    top = str(Label.join([*marked, stored_label(doc_label)]))
    return [replace(q, label=top) if q.kind == "text" and not q.label else q for q in portions]


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
