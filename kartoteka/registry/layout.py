"""Layout: rebuild the paragraphs of a page from its lines.

OCR of typewritten records breaks the page into lines and often puts a blank
line after every one of them, so "a blank line ends a paragraph" cuts every
paragraph into lines and every name at a line end ("LYNDON B." / "JOHNSON").
This module decides, for each pair of neighbouring lines, whether the second
continues the first's paragraph, from cues a reader uses:

- a line that starts a paragraph by its form: a portion mark, a paragraph
  number or letter (`1.`, `a.`, `(2)`), a form field or cable header
  (`TO:`, `SUBJECT:`), a banner, a page marker, a stamp;
- a line that continues by its form: after a hyphenated line end, starting
  in lower case (after a line in mixed case), after a comma, an initial, an
  abbreviation, a given name or title, a connecting word or an open
  bracket; in capitals-only cables, after a full line or before a
  connecting word; the value after a field key alone; the tail of a
  sentence after a full line;
- noise: a line that is mostly OCR fragments (stamps, handwriting, smudges)
  stands alone, and specks before and after a line's words are read past;
- the page's own spacing: on a double-spaced page (most lines one blank line
  apart) a blank line is spacing, and a paragraph ends where a line stops
  short of the page's measure; on a single-spaced page a blank line ends a
  paragraph.

A paragraph that runs over a page break stays one paragraph; the page's
footer, header, banner and stamps between its halves become markings inside
it, so a portion mark at its start governs all of it.

Offsets always point into the original text: nothing is rewritten, only
grouped. Pure functions; the vocabulary of what a banner or a stamp is comes
in through `classify`, the words of the line cues from `vocab/layout.yml`
(`registry.line_cues`). Component: "kartoteka.layout.v4".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from kartoteka.registry import line_cues as cue

# v2: noise lines, specks around a line's words, names and abbreviations at
# line ends, capitals-only cables, field keys, sentence tails (line_cues).
# v3: subject titles run on, date keys take the date below, stacked column
# headings, numbers and cable surnames that end a sentence, a bracket that
# closes a phrase at the end of a full line.
# v4: a line ending in "dated" takes the date below; a cable's distribution
# list wraps over its line ends.
COMPONENT = "kartoteka.layout.v4"

# Paragraphs longer than this are cut: OCR pages without blank lines would
# otherwise become one huge portion, useless as a citation, and a model fed
# a megabyte at once fails (spaCy's E088) or takes gigabytes.
MAX_PORTION = 3000
# A line this long is a paragraph of its own, not a typewriter line wrap.
LONG_LINE = 120

_NUMBERED = re.compile(
    r"^\s*(?:(?:\d{1,3}|[a-zA-Z])\.\s+\S|\((?:\d{1,3}|[a-z])\)\s+\S|[–—]\s*\S"
    # "2, VARELA, a Caucasian": OCR reads a paragraph number's period as a comma.
    r"|\d{1,2},\s+[A-Z])"
)
# A form field or cable header: a short capitalised key and a colon.
_FIELD = re.compile(r"^\s*[A-Z][A-Z0-9 ,./&'()-]{1,30}\s?:(?:\s|$)")
_NUMBER_ALONE = re.compile(r"^\W*(?:\d{1,3}|[a-zA-Z])[.,)]\W*$")
_HYPHENATED = re.compile(r"[^\W\d_]-\s*$")
_STARTS_LOWER = re.compile(r"^\s*[a-zа-яё]")


# Kinds a classifier gives a line. `text` lines are grouped into paragraphs;
# the others are blocks of their own, or markings inside a paragraph that
# runs over the page break they stand at.
TEXT, BANNER, PAGE_MARKER, PAGE_FOOTER, STAMP = "text", "banner", "page_marker", "page_footer", "stamp"
_INTERSTITIAL = {BANNER, PAGE_MARKER, PAGE_FOOTER, STAMP}


@dataclass(frozen=True)
class Line:
    start: int
    end: int  # exclusive, without the line terminator
    text: str  # text[start:end]
    page: int
    kind: str
    gap: int  # blank lines before it since the previous non-blank line
    page_break: bool  # a form feed stands between it and the previous non-blank line


@dataclass
class Block:
    start: int
    end: int
    kind: str  # text | banner | page_marker | page_footer | stamp
    page: int
    lines: list[Line] = field(default_factory=list)
    inner: list[Line] = field(default_factory=list)  # interstitial lines inside a paragraph
    # Not a paragraph start by form (cut for length, or split from the line
    # before with no blank line between): keeps the previous paragraph's mark.
    continued: bool = False


def lines(text: str, classify: Callable[[str], str]) -> list[Line]:
    """The non-blank lines of `text` with offsets, pages (form feeds and page
    footers advance the page) and the blank lines before each."""
    out: list[Line] = []
    page, gap, broke = 1, 0, False
    pos, n = 0, len(text)
    next_page: int | None = None
    while pos <= n:
        m = _TERMINATOR.search(text, pos)
        stop = m.start() if m else n
        raw = text[pos:stop]
        stripped = raw.strip()
        if stripped:
            lead = len(raw) - len(raw.lstrip())
            trail = len(raw.rstrip())
            start, end = pos + lead, pos + trail
            body = text[start:end]
            if next_page is not None:
                page, next_page = max(page, next_page), None
            kind = classify(body)
            out.append(Line(start, end, body, page, kind, gap, broke))
            gap, broke = 0, False
            if kind == PAGE_FOOTER:
                number = _footer_page(body)
                next_page = (number or page) + 1
        else:
            gap += 1
        if m is None:
            break
        if m.group(0) == "\f":
            page += 1
            next_page = None
            broke = True
            gap = 0
        pos = m.end()
    return out


_TERMINATOR = re.compile(r"\r\n|\n|\r|\f")
_FOOTER_NUMBER = re.compile(r"Page\s+(\d{1,4})", re.IGNORECASE)


def _footer_page(line: str) -> int | None:
    m = _FOOTER_NUMBER.search(line)
    return int(m.group(1)) if m else None


@dataclass(frozen=True)
class _Page:
    double_spaced: bool
    measure: int  # the page's typical full line length


def _pages(ls: list[Line]) -> dict[int, _Page]:
    by_page: dict[int, list[Line]] = {}
    for ln in ls:
        if ln.kind == TEXT:
            by_page.setdefault(ln.page, []).append(ln)
    out: dict[int, _Page] = {}
    for page, pls in by_page.items():
        gaps = [ln.gap for ln in pls[1:] if not ln.page_break]
        ones = sum(1 for g in gaps if g == 1)
        double = len(gaps) >= 4 and ones >= 0.6 * len(gaps)
        # Noise lines (stamps, handwriting, the OCR of a smudge along the
        # margin) run to any length: the measure is taken from lines of words.
        worded = [ln for ln in pls if not cue.noise(ln.text)] or pls
        lengths = sorted(len(ln.text) for ln in worded)
        # The measure is a long line, not the longest: one stray line of OCR
        # garbage must not make every real line look short.
        measure = lengths[int(0.8 * (len(lengths) - 1))] if lengths else 0
        out[page] = _Page(double, max(measure, 30))
    return out


def starts_paragraph(line: str, portion_mark: re.Pattern[str]) -> bool:
    """Does this line open a paragraph by its own form?"""
    if portion_mark.match(line):
        return True
    # "“2. For", ". 1. IDEN A": a speck before the number does not hide it.
    bare = cue.bare(line)
    return bool(_NUMBERED.match(bare) or _FIELD.match(bare))


def _continues(a: Line, b: Line, page: _Page, portion_mark: re.Pattern[str], across_page: bool) -> bool:
    return join_reason(a, b, page, portion_mark, across_page) is not None


def join_reason(a: Line, b: Line, page: _Page, portion_mark: re.Pattern[str], across_page: bool) -> str | None:
    """Why `b` continues `a`'s paragraph (the cue, for tests and for reading
    the layout's errors), or None where `b` starts a new one."""
    if starts_paragraph(b.text, portion_mark):
        # A sentence that stops on a connecting word ("... REF A WITH") goes
        # on even into a line that looks like a field ("CONSULATE FOR TWO
        # REASONS:"); a number or a portion mark still opens a paragraph.
        bare = cue.bare(b.text)
        if portion_mark.match(b.text) or _NUMBERED.match(bare) or b.gap > 1:
            return None
        if not (cue.ends_joining_word(cue.tail(a.text)) and not cue.garbled(a.text)):
            return None
    if _NUMBER_ALONE.match(a.text) and not cue.garbled(b.text) and b.gap <= 1:
        # "1." on a line of its own: the paragraph it numbers is the next line.
        return "number"
    if _HYPHENATED.search(a.text) and _STARTS_LOWER.match(b.text):
        return "hyphen"
    a_text = cue.tail(a.text)
    if b.gap <= 1 and cue.ends_in_name(a_text) and cue.starts_capitalised(b.text):
        # "LYNDON B." / "JOHNSON", "under the John" / ". Kennedy": a name
        # runs on over the line end, whatever the line after looks like.
        return "name"
    if b.gap <= 1 and not across_page and cue.field_runs_on(a.text) and not cue.garbled(b.text):
        return "field"
    if b.gap == 0 and cue.heading_words(a.text) and "|" in b.text and not cue.table_row(a.text):
        # "DATE DATE" over "RECEIVED | RETURNED": a form's column headings
        # stacked in two rows are one heading.
        return "headings"
    if b.gap == 0 and not across_page and cue.subject_wraps(a.text) and not cue.noise(b.text):
        # A subject's title goes on straight below it, however short the
        # rest ("... - The PROENZA" / "Case"); after a blank line comes the text.
        return "subject"
    if b.gap <= 1 and not across_page and cue.date_key_alone(a.text) and cue.date_alone(b.text):
        # "Date:" / "6/1/2015": a key that names a date takes the date below
        # it, though a date alone reads as no words. Other keys alone on a
        # line ("Distribution:", "Authorized by:") head a list or a
        # signature block more often than they take a value below them.
        return "field"
    if b.gap <= 1 and not across_page and cue.ends_date_key(a_text) and cue.starts_date(b.text):
        # "... Letter (OLC 78-3011) dated" / "18 August 1978": the date a
        # line ends by announcing is below it; a date is no words, so the
        # connecting-word rule below would not see it.
        return "dated"
    if b.gap <= 1 and a.text.rstrip().endswith(",") and cue.routing_list(a.text) and cue.routing_list(b.text):
        # "INFO: DCI, D/DCI, EX/DIR, DDP, CS/RF," / "VR, FILE, CA/PEG, ...":
        # a cable's distribution list wraps; its codes are no words.
        return "routing"
    joining = cue.ends_joining(a_text) or cue.open_bracket(a_text)
    # Connecting words join only lines made of words: a smudge ending in "a"
    # or "on" is no sentence left open.
    worded = min(cue.word_share(a.text), cue.word_share(b.text)) >= cue.WORDED_SHARE
    if joining and worded and b.gap <= 1 and not cue.garbled(a.text):
        return "joining"
    ends = cue.ends_sentence(a_text)
    long_a = len(a.text) >= 0.7 * page.measure
    if cue.garbled(a.text):
        return None
    if cue.garbled(b.text):
        # A few real words after a full line that stops mid-sentence are the
        # sentence's tail ("... as indicated" / "below:"), not a smudge.
        tail = long_a and not ends and not across_page and b.gap <= 1 and cue.word_share(a.text) >= 0.6
        if tail and cue.upper(a_text):
            # In a cable a short line after a full one is a stamp or a
            # smudge as often as not; only a last word that closes the
            # sentence ("... AND LUIS POSADA" / "CARRILES.") is its tail.
            return "tail" if cue.last_word_of_sentence(b.text) else None
        # So is a date or number that ends the sentence ("... in June," /
        # "1963."): numbers are no words, but no stamp ends in a period.
        tail = tail and (cue.tail_of_sentence(b.text) or cue.number_tail(b.text))
        return "tail" if tail else None
    # A lower-case start goes on from a line in mixed case; after an
    # upper-case heading or cable line it is a change of hand, not a wrap.
    lower = cue.starts_lower(b.text) and not ends and not cue.upper(a_text)
    if across_page:
        if not ends and (lower or joining or long_a):
            return "across-page"
        return None
    if b.gap >= 2:
        return None
    if len(a.text) > LONG_LINE:
        # A line longer than any typewriter line is a paragraph of its own:
        # born-digital text keeps one paragraph per line, and a blank line
        # between such lines is a paragraph break, not double spacing.
        return None
    if lower and worded:
        return "lower"
    # Cables are typed in capitals: no lower-case start tells a wrapped line,
    # so a full line or a connecting word ("ON", "OF") does.
    cable = cue.upper(a_text) and cue.upper(b.text) and not cue.table_row(a.text) and not cue.table_row(b.text)
    if cable and not ends and (long_a or cue.starts_joining(b.text)):
        return "upper"
    if joining and worded:
        return "joining"
    # A line that stops short of the measure ends its paragraph; one that
    # runs to the measure goes on, on a single- or double-spaced page alike.
    if b.gap == 1 and not page.double_spaced:
        # On a single-spaced page a blank line ends a paragraph, unless the
        # line before it runs the full measure and stops mid-sentence: OCR
        # reads a dropped line or a speck as a blank one.
        full = len(a.text) >= 0.85 * page.measure and not cue.upper(a_text)
        # A bracket closed at the end of a full line ("... Agency (CIA)")
        # ends no sentence unless a sentence mark stands inside it.
        stops = ends and not cue.bracket_closes_phrase(a_text)
        return "measure" if full and not stops and worded and not a_text.endswith(":") else None
    if long_a and not a.text.rstrip().endswith(":"):
        return "measure"
    return None


def blocks(text: str, classify: Callable[[str], str], portion_mark: re.Pattern[str]) -> list[Block]:
    """Group the lines of `text` into paragraphs and blocks of structure."""
    ls = lines(text, classify)
    pages = _pages(ls)
    out: list[Block] = []
    cur: Block | None = None
    held: list[Line] = []  # interstitial lines after `cur`, kept back in case it continues

    def flush_held() -> None:
        for h in held:
            out.append(Block(h.start, h.end, h.kind, h.page, [h]))
        held.clear()

    def close() -> None:
        nonlocal cur
        if cur is not None:
            out.append(cur)
            cur = None
        flush_held()

    for ln in ls:
        if ln.kind in _INTERSTITIAL:
            if cur is not None:
                held.append(ln)
            else:
                out.append(Block(ln.start, ln.end, ln.kind, ln.page, [ln]))
            continue
        if cur is not None:
            last = cur.lines[-1]
            across = ln.page != last.page
            if held and not across:
                # A stamp or banner within a page ends the paragraph before it.
                close()
            elif len(text[cur.start : ln.end]) > MAX_PORTION:
                # Cut for length: the next piece still belongs to the paragraph
                # (and to its portion mark) if the line continues it.
                goes_on = _continues(last, ln, pages[last.page], portion_mark, across)
                close()
                cur = Block(ln.start, ln.end, TEXT, ln.page, [ln], continued=goes_on)
                continue
            elif _continues(last, ln, pages[last.page], portion_mark, across):
                cur.inner.extend(held)
                held.clear()
                cur.lines.append(ln)
                cur.end = ln.end
                continue
            else:
                close()
                # A line that follows with no blank line between and does not
                # open a paragraph by its form is, for labels, part of the
                # paragraph before it: it keeps that paragraph's portion mark,
                # so a wrong guess at a paragraph end never unprotects text.
                if ln.gap == 0 and not ln.page_break and not starts_paragraph(ln.text, portion_mark):
                    cur = Block(ln.start, ln.end, TEXT, ln.page, [ln], continued=True)
                    continue
        cur = Block(ln.start, ln.end, TEXT, ln.page, [ln])
    close()
    return [piece for b in out for piece in _cut_long(text, b)]


def _cut_long(text: str, block: Block) -> list[Block]:
    """A single line longer than MAX_PORTION (a text without line breaks) is cut
    at sentence ends or spaces; the pieces continue the paragraph."""
    if block.end - block.start <= MAX_PORTION or block.kind != TEXT:
        return [block]
    pieces: list[Block] = []
    start = block.start
    first = True
    while start < block.end:
        stop = min(start + MAX_PORTION, block.end)
        if stop < block.end:
            window = text[start + MAX_PORTION // 2 : stop]
            cut = max(window.rfind(". "), window.rfind("\n"))
            if cut < 0:
                cut = window.rfind(" ")
            if cut >= 0:
                stop = start + MAX_PORTION // 2 + cut + 1
        # Never start or end a piece on whitespace: offsets stay tight.
        while stop < block.end and text[stop].isspace():
            stop += 1
        end = stop
        while end > start and text[end - 1].isspace():
            end -= 1
        inner = [h for h in block.inner if start <= h.start and h.end <= end]
        pieces.append(Block(start, end, TEXT, block.page, [], inner, continued=block.continued or not first))
        first = False
        start = stop
    return pieces
