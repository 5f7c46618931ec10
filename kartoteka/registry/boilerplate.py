"""Boilerplate: stamps, release lines, routing slips and form labels.

A collection stamps the same lines on every page it releases ("Released
under the John F. Kennedy Assassination Records Collection Act of 1992"), and
read as content those lines become the most-mentioned "people" of the card
index. Two sources say what is boilerplate:

- known stamps, as vocabulary data (`vocab/boilerplate.yml`), recognised in
  any document;
- lines learned from the collection as it is ingested: a line (its words
  and numbers, case folded, so OCR's stray punctuation does not matter) that
  recurs in `min_docs` documents.

Learned lines are counted per label partition. Whether a line is
boilerplate is visible to anyone who may read the line, so it must be
decided only from documents that reader may also read: a line counts as
recurring only among portions under the very same pair of labels, the
document's and the one governing the portion (its own, or the document's).
Every viewer sees such a partition whole or not at all, so a (U) line in a
SECRET document counts only with (U) lines of SECRET documents, and a clerk
cleared for U never sees a line flagged because of documents they cannot
see. A line that becomes boilerplate is masked, in the documents read
before, only within its partition.

Boilerplate stays in the stored text and in search; it is masked from entity
extraction, dossiers and statistics (a `boilerplate` marking covers it).
Component: "kartoteka.boilerplate.v2" (v1 counted by the portion's label only).
"""

from __future__ import annotations

import hashlib
import re

from kartoteka.vocab import boilerplate as vocab

COMPONENT = "kartoteka.boilerplate.v2"

_LETTERS = re.compile(r"[^\W\d_]+")
_TOKENS = re.compile(r"[^\W_]+")


def stamp(line: str) -> str | None:
    """The name of the known stamp this line carries, or None."""
    v = vocab()
    if len(line) > v.max_chars * 2:
        return None
    for name, pattern in v.stamps.items():
        if pattern.search(line):
            return name
    return None


def line_key(line: str) -> int | None:
    """A key under which a recurring line is counted, or None if the line is
    not a candidate (too short to be a stamp, too long to be one, or a line
    that is content even when it recurs, like a case file's subject line)."""
    v = vocab()
    stripped = line.strip()
    if not stripped or len(stripped) > v.max_chars:
        return None
    if any(p.search(stripped) for p in v.never_learned):
        return None
    words = [w.upper() for w in _LETTERS.findall(stripped)]
    if sum(1 for w in words if len(w) >= 2) < v.min_words:
        return None
    # Numbers stay in the key: a stamp repeats its numbers, while lines that
    # differ only in their numbers ("Report 12: ...") are usually content.
    tokens = [t.upper() for t in _TOKENS.findall(stripped)]
    digest = hashlib.blake2b(" ".join(tokens).encode("utf-8"), digest_size=8).digest()
    # SQLite integers are signed 64-bit.
    return int.from_bytes(digest, "big", signed=True)


def min_docs() -> int:
    return vocab().min_docs
