"""Plain records passed between the core and a store backend."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass(frozen=True)
class Marking:
    """A piece of document structure: banner, portion mark, exemption, ..."""

    kind: str  # banner | portion_mark | exemption | withheld | page_marker | record_number
    value: str
    start: int
    end: int


@dataclass(frozen=True)
class Portion:
    seq: int
    start: int
    end: int
    kind: str  # text | banner | page_marker
    text: str
    mark: str | None = None
    level: str | None = None
    tokens: tuple[str, ...] = ()
    markings: tuple[Marking, ...] = ()
    label: str | None = None  # None: the document's label
    page: int | None = None  # page of the portion's first line
    boilerplate: bool = False  # stamps and recurring lines only: masked from extraction
    ocr_confidence: float | None = None  # mean OCR word confidence, 0..1; None for born-digital text


@dataclass(frozen=True)
class Mention:
    """A span naming an entity. `key` is stable across re-ingest."""

    portion_seq: int
    start: int  # document offsets
    end: int
    text: str
    kind: str  # PERSON | ORG | PLACE
    entity_id: str | None = None

    def key(self, document_id: str) -> str:
        return f"{document_id}:{self.start}-{self.end}"


@dataclass(frozen=True)
class DateMention:
    portion_seq: int
    start: int
    end: int
    text: str
    value: str | None  # ISO 8601, possibly partial: 1985, 1985-03, 1985-03-31


@dataclass(frozen=True)
class Page:
    number: int
    start: int
    end: int
    method: str  # text | ocr
    ocr_confidence: float | None = None


@dataclass
class Document:
    id: str
    content_hash: str
    source: str
    format: str
    text: str
    title: str | None = None
    classification: str | None = None
    pipeline: str = ""
    label: str = "U"
    portions: list[Portion] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)
    dates: list[DateMention] = field(default_factory=list)
    pages: list[Page] = field(default_factory=list)
    encoding: str | None = None
    replaced: int = 0
    markings: str = "enforce"  # enforce | record


@dataclass(frozen=True)
class Entity:
    id: str
    kind: str
    name: str
    origin: str  # extracted | imported | analyst
    names: tuple[str, ...] = ()
    mention_count: int = 0


@dataclass(frozen=True)
class MentionHit:
    """A mention as read back for a dossier: with its document and passage."""

    mention_key: str
    document_id: str
    source: str
    portion_seq: int
    portion_id: int
    text: str
    start: int
    end: int
    portion_text: str
    portion_start: int


@dataclass(frozen=True)
class SearchHit:
    document_id: str
    source: str
    portion_seq: int
    snippet: str
    rank: float
    portion_id: int = 0


@dataclass(frozen=True)
class PassageFacets:
    """What a search facet counts of one passage: its document's source, the kinds it mentions, its years."""

    document_id: str
    source: str
    kinds: frozenset[str]
    years: frozenset[str]


@dataclass(frozen=True)
class DocumentSummary:
    id: str
    source: str
    format: str
    classification: str | None
    char_count: int
    portion_count: int


def support_text(ids: Iterable[int]) -> str:
    """Supporting portion ids as stored: "12,40"."""
    return ",".join(str(i) for i in sorted(set(ids)))


def support_ids(text: str | None) -> tuple[int, ...]:
    return tuple(int(x) for x in (text or "").split(",") if x)


def now_iso() -> str:
    """The time a row is written, in UTC to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")
