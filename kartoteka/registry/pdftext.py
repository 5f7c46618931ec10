"""A PDF page's text layer, and why a page that gave none could not be read.

pypdf reads past damage quietly: a page whose content stream is garbage, or
whose /Contents points at an object the file lacks, extracts as "" with at
most a log line (muted, so batch output stays one line per problem). An
empty page and an unreadable one would look the same, and the reader would
store a hole without a word. Here an empty result is examined: pypdf's own
warnings while reading the page, else a parse of its content stream, give
the reason, which the reader reports as E008.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pypdf import PdfReader


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage().splitlines()[0] if record.getMessage() else record.levelname)


@contextmanager
def _pypdf_warnings() -> Iterator[list[str]]:
    """pypdf's warnings while the block runs, kept here instead of printed."""
    log = logging.getLogger("pypdf")
    handler = _Collect()
    level, propagate = log.level, log.propagate
    log.addHandler(handler)
    log.setLevel(logging.WARNING)
    log.propagate = False
    try:
        yield handler.messages
    finally:
        log.removeHandler(handler)
        log.setLevel(level)
        log.propagate = propagate


def _content_problem(reader: PdfReader, index: int) -> str | None:
    from pypdf.generic import ContentStream

    contents = reader.pages[index].get_contents()
    if contents is None:
        return None  # no content stream at all: a blank page, not a damaged one
    try:
        _ = ContentStream(contents, reader).operations  # parsing happens on first access
    except Exception as exc:  # pypdf raises its own and Python's types on a bad stream
        detail = f"{type(exc).__name__}: {exc}".splitlines()[0][:60]
        return f"its content stream can't be parsed ({detail})"
    return None


def page_text(reader: PdfReader, index: int) -> tuple[str, str | None]:
    """(text, problem): the page's text layer, and the reason it is unreadable when it gave no text."""
    with _pypdf_warnings() as warned:
        text = reader.pages[index].extract_text() or ""
        if text.strip():
            return text, None
        problem = _content_problem(reader, index)
    if problem is None and warned:
        problem = warned[0]
    return text, problem
