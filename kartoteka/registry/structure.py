"""Recognise declassified-document structure and split text into portions.

Banners, portion marks, exemption codes, withheld-text placeholders, page
markers, page footers, record numbers and stamps are kept as structure
(markings), never fed to entity extraction as text. Paragraphs are rebuilt
from the lines by `registry.layout`. Component: "kartoteka.structure.v2"
(v1 ended a paragraph at every blank line and missed portion marks after a
paragraph number), followed by the layout's own version, so that a document
read by an older layout is known as such.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cache

from rapidfuzz.distance import Levenshtein

from kartoteka.registry import boilerplate, layout
from kartoteka.registry.layout import MAX_PORTION as MAX_PORTION
from kartoteka.store.records import Marking, Portion
from kartoteka.vocab import Level, markings

COMPONENT = f"kartoteka.structure.v2/{layout.COMPONENT}"

_WORD = re.compile(r"[A-Z0-9]+")


@dataclass(frozen=True)
class Structure:
    portions: list[Portion]
    classification: str | None  # highest banner level found


@cache
def _banner_words() -> dict[str, Level]:
    out: dict[str, Level] = {}
    for lv in markings().levels:
        out[lv.name.replace(" ", "")] = lv
        for v in lv.ocr_variants:
            out[v.replace(" ", "")] = lv
    return out


def banner_level(line: str) -> Level | None:
    """The classification level of a banner line, or None if it is not a banner.

    A banner is a level name (exact, a known OCR variant, or within one edit
    for names of six letters or more) optionally followed by control words.
    """
    stripped = line.strip().strip("*=-_ ")
    if not stripped or len(stripped) > 60 or stripped != stripped.upper():
        return None
    words = _WORD.findall(stripped)
    if not words:
        return None
    if len(words) > 3 and all(len(w) == 1 for w in words):
        words = ["".join(words)]  # letter-spaced banner: "S E C R E T"
    table = _banner_words()
    m = markings()
    for n in (2, 1):
        if len(words) < n:
            continue
        head = "".join(words[:n])
        level = table.get(head)
        if level is None and len(head) >= 6:
            for name, lv in table.items():
                if abs(len(name) - len(head)) <= 1 and Levenshtein.distance(name, head, score_cutoff=1) <= 1:
                    level = lv
                    break
        if level is not None and all(w in m.controls for w in words[n:]):
            return level
    return None


def _inline_markings(text: str, offset: int) -> list[Marking]:
    m = markings()
    found: list[Marking] = []
    for match in m.exemption.finditer(text):
        found.append(Marking("exemption", match.group(0), offset + match.start(), offset + match.end()))
    for match in m.withheld.finditer(text):
        found.append(Marking("withheld", "[ ]", offset + match.start(), offset + match.end()))
    for name, pattern in m.record_numbers.items():
        for match in pattern.finditer(text):
            found.append(
                Marking("record_number", f"{name}:{match.group(0)}", offset + match.start(), offset + match.end())
            )
    return sorted(found, key=lambda x: x.start)


def classify(line: str) -> str:
    """What kind of line this is, for the layout: banner, page marker or
    footer, stamp, or text."""
    if banner_level(line) is not None:
        return layout.BANNER
    m = markings()
    if m.page_footer.match(line):
        return layout.PAGE_FOOTER
    if m.page_marker.match(line):
        return layout.PAGE_MARKER
    if boilerplate.stamp(line) is not None:
        return layout.STAMP
    return layout.TEXT


def _line_marking(line: layout.Line) -> Marking:
    if line.kind == layout.BANNER:
        level = banner_level(line.text)
        return Marking("banner", level.name if level else line.text, line.start, line.end)
    if line.kind == layout.STAMP:
        return Marking("boilerplate", boilerplate.stamp(line.text) or "stamp", line.start, line.end)
    return Marking("page_marker", line.text.strip(), line.start, line.end)


def analyse(text: str) -> Structure:
    m = markings()
    portions: list[Portion] = []
    top: Level | None = None
    last_mark: tuple[str | None, str | None, tuple[str, ...]] = (None, None, ())

    def raise_top(level: Level | None) -> None:
        nonlocal top
        if level is not None and (top is None or level.rank > top.rank):
            top = level

    for seq, block in enumerate(layout.blocks(text, classify, m.portion_mark)):
        start, end = block.start, block.end
        body = text[start:end]
        if block.kind == layout.BANNER:
            level = banner_level(body)
            assert level is not None
            raise_top(level)
            portions.append(
                Portion(
                    seq,
                    start,
                    end,
                    "banner",
                    body,
                    level=level.abbrev,
                    markings=(Marking("banner", level.name, start, end),),
                    page=block.page,
                )
            )
            continue
        if block.kind in (layout.PAGE_MARKER, layout.PAGE_FOOTER):
            portions.append(
                Portion(
                    seq,
                    start,
                    end,
                    "page_marker",
                    body,
                    markings=(Marking("page_marker", body.strip(), start, end),),
                    page=block.page,
                )
            )
            continue
        marks = _inline_markings(body, start)
        if block.kind == layout.STAMP:
            # Kept as text so that search finds it; masked from extraction.
            stamp = Marking("boilerplate", boilerplate.stamp(body) or "stamp", start, end)
            portions.append(
                Portion(seq, start, end, "text", body, markings=(stamp, *marks), page=block.page, boilerplate=True)
            )
            continue
        for inner in block.inner:
            if inner.kind == layout.BANNER:
                raise_top(banner_level(inner.text))
            marks.append(_line_marking(inner))
        mark: str | None = None
        mark_level: str | None = None
        tokens: tuple[str, ...] = ()
        pmatch = m.portion_mark.match(body)
        if pmatch:
            mark = pmatch.group("mark")
            mark_level = pmatch.group("level")
            raw_tokens = pmatch.group("tokens") or ""
            tokens = tuple(t for t in re.split(r"[/\s]+", raw_tokens) if t)
            marks.insert(0, Marking("portion_mark", mark, start + pmatch.start("mark"), start + pmatch.end("mark")))
        elif block.continued:
            # A paragraph cut for length keeps its mark: the piece after the
            # cut must be exactly as protected as the piece before it.
            mark, mark_level, tokens = last_mark
        marks.sort(key=lambda x: x.start)
        portion = Portion(
            seq,
            start,
            end,
            "text",
            body,
            mark=mark,
            level=mark_level,
            tokens=tokens,
            markings=tuple(marks),
            page=block.page,
        )
        if not masked_text(portion).strip():
            # Nothing but markings ("25X1" alone in the margin): structure, not text.
            portion = Portion(seq, start, end, "marking", body, markings=tuple(marks), page=block.page)
        else:
            last_mark = (mark, mark_level, tokens)
        portions.append(portion)
    return Structure(portions, top.name if top else None)


def line_spans(portion: Portion) -> list[tuple[int, int, str]]:
    """The non-blank lines of a portion as (start, end, text), document offsets:
    the layout's own lines, so boilerplate is learned line by line as layout reads them."""
    return [
        (portion.start + ln.start, portion.start + ln.end, ln.text)
        for ln in layout.lines(portion.text, lambda _: layout.TEXT)
    ]


def with_boilerplate_lines(portion: Portion, spans: list[tuple[int, int]]) -> Portion:
    """The portion with these lines marked as boilerplate (learned lines)."""
    if not spans or portion.kind != "text":
        return portion
    marks = sorted(
        [*portion.markings, *(Marking("boilerplate", "learned", s, e) for s, e in spans)], key=lambda x: x.start
    )
    updated = replace(portion, markings=tuple(marks))
    if not masked_text(updated).strip():
        updated = replace(updated, boilerplate=True)
    return updated


def masked_text(portion: Portion) -> str:
    """The portion's text with its markings blanked to spaces, offsets kept.

    Entity extraction sees this, so "25X1" never becomes a date and a record
    number never becomes a person.
    """
    chars = list(portion.text)
    for mk in portion.markings:
        for i in range(max(mk.start - portion.start, 0), min(mk.end - portion.start, len(chars))):
            chars[i] = " "
    return "".join(chars)
