"""Recognise declassified-document structure and split text into portions.

Banners, portion marks, exemption codes, withheld-text placeholders, page
markers and record numbers are kept as structure (markings), never fed to
entity extraction as text. Component: "kartoteka.structure.v1".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from rapidfuzz.distance import Levenshtein

from kartoteka.store.records import Marking, Portion
from kartoteka.vocab import Level, markings

COMPONENT = "kartoteka.structure.v1"

# Paragraphs longer than this are cut at line ends: OCR pages without blank
# lines would otherwise become one huge portion, useless as a citation.
MAX_PORTION = 3000
# A line this long is a paragraph of its own, not a typewriter line wrap.
LONG_LINE = 120

_NUMBERED = re.compile(r"^\s*(?:\d{1,2}|[a-z])\.\s+\S")
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


def _blocks(text: str) -> list[tuple[int, int, str]]:
    """Split into (start, end, kind) line groups: text paragraphs, banners, page markers."""
    blocks: list[tuple[int, int, str]] = []
    cur_start: int | None = None
    cur_end = 0
    prev_len = 0
    page = markings().page_marker
    pm = markings().portion_mark

    def close() -> None:
        nonlocal cur_start
        if cur_start is not None:
            blocks.append((cur_start, cur_end, "text"))
            cur_start = None

    pos = 0
    for line in text.splitlines(keepends=True):
        start, end = pos, pos + len(line.rstrip("\r\n"))
        pos += len(line)
        content = line.strip()
        if not content:
            close()
            continue
        if banner_level(content) is not None:
            close()
            blocks.append((start, end, "banner"))
            continue
        if page.match(content):
            close()
            blocks.append((start, end, "page_marker"))
            continue
        new_para = cur_start is not None and (
            prev_len > LONG_LINE or pm.match(line) or _NUMBERED.match(line) or end - cur_start > MAX_PORTION
        )
        if new_para:
            close()
        if cur_start is None:
            cur_start = start
        cur_end = end
        prev_len = len(content)
    close()
    return blocks


def analyse(text: str) -> Structure:
    m = markings()
    portions: list[Portion] = []
    top: Level | None = None
    for seq, (start, end, kind) in enumerate(_blocks(text)):
        body = text[start:end]
        if kind == "banner":
            level = banner_level(body)
            assert level is not None
            if top is None or level.rank > top.rank:
                top = level
            portions.append(
                Portion(
                    seq,
                    start,
                    end,
                    "banner",
                    body,
                    level=level.abbrev,
                    markings=(Marking("banner", level.name, start, end),),
                )
            )
            continue
        if kind == "page_marker":
            portions.append(
                Portion(
                    seq, start, end, "page_marker", body, markings=(Marking("page_marker", body.strip(), start, end),)
                )
            )
            continue
        marks = _inline_markings(body, start)
        mark: str | None = None
        mark_level: str | None = None
        tokens: tuple[str, ...] = ()
        pmatch = m.portion_mark.match(body)
        if pmatch:
            mark = pmatch.group(0).strip()
            mark_level = pmatch.group("level")
            raw_tokens = pmatch.group("tokens") or ""
            tokens = tuple(t for t in re.split(r"[/\s]+", raw_tokens) if t)
            marks.insert(
                0,
                Marking(
                    "portion_mark", mark, start + pmatch.start(), start + pmatch.start() + len(pmatch.group(0).rstrip())
                ),
            )
        portion = Portion(
            seq, start, end, "text", body, mark=mark, level=mark_level, tokens=tokens, markings=tuple(marks)
        )
        if not masked_text(portion).strip():
            # Nothing but markings ("25X1" alone in the margin): structure, not text.
            portion = Portion(seq, start, end, "marking", body, markings=tuple(marks))
        portions.append(portion)
    return Structure(portions, top.name if top else None)


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
