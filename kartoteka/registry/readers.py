"""Readers turn a file (or a line of a JSON Lines corpus) into plain text.

Each reader is a named, versioned component ("kartoteka.reader.pdf.v2"). A
released version never changes behaviour; a change gets a new version so that
archives record exactly how their text was obtained. When OCR read any page,
the OCR component follows the reader's name after a comma
("kartoteka.reader.pdf.v2,kartoteka.ocr.tesseract.v1"), as in the pipeline
string the archive stores.

Versions: text.v2 (byte order marks, UTF-8 with stray bytes, guessed legacy
encodings; text.v1 tried UTF-8 then cp1252), pdf.v2 (pages joined by a form
feed, scanned pages OCRed; pdf.v1 joined text pages by a blank line and had
no OCR), image.v1 (TIFF, PNG, JPEG by OCR).
"""

from __future__ import annotations

import email
import email.policy
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from kartoteka.errors import E, InvalidInput, KartotekaError
from kartoteka.registry.encoding import Decoded, decode
from kartoteka.store.records import Page

if TYPE_CHECKING:
    pass

OCR_MODES = ("auto", "always", "never")
PAGE_BREAK = "\f"
# Called as (source, pages_done, pages_total) after each page of a paged document.
PageProgress = Callable[[str, int, int], None]


# A page of a paged document (PDF, TIFF): its span in the text, how its text
# was obtained ("text" layer or "ocr") and the OCR's mean word confidence.
# The registry's record is the store's, so ingest passes pages on as read.
PageText = Page


@dataclass(frozen=True)
class RawDocument:
    source: str
    format: str
    reader: str  # versioned component name(s), comma-separated
    text: str
    title: str | None = None
    # Paged documents (PDF, TIFF): each page's span; pages are joined by "\f".
    pages: tuple[PageText, ...] = ()
    # OCR words as (start, end, confidence 0..1), offsets into text.
    word_confidence: tuple[tuple[int, int, float], ...] = ()
    encoding: str | None = None  # of decoded bytes (text files, stdin, JSON Lines)
    replaced: int = 0  # undecodable bytes replaced by U+FFFD
    warnings: tuple[str, ...] = ()  # one line each, with a numbered code


@dataclass(frozen=True)
class ReadError:
    source: str
    message: str


def read_text(data: bytes) -> tuple[str, str | None]:
    return decode(data).text, None


def _encoding_warnings(path: object, d: Decoded) -> tuple[str, ...]:
    out: list[str] = []
    if d.replaced:
        out.append(KartotekaError(E.E061, path=path, count=d.replaced, encoding=d.encoding).message)
    if d.guessed and d.encoding not in ("utf-8", "ascii"):
        out.append(KartotekaError(E.E062, path=path, encoding=d.encoding).message)
    return tuple(out)


def _text_document(source: str, fmt: str, d: Decoded) -> RawDocument:
    return RawDocument(
        source,
        fmt,
        TEXT_READER,
        d.text,
        encoding=d.encoding,
        replaced=d.replaced,
        warnings=_encoding_warnings(source, d),
    )


def read_html(data: bytes) -> tuple[str, str | None]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(data, "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    title = soup.title.get_text(strip=True) if soup.title else None
    # Block elements end paragraphs; keep them apart with blank lines so the
    # structure recogniser sees the same portions a reader does.
    for tag in soup.find_all(["p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "tr", "br", "pre", "blockquote"]):
        tag.insert_after("\n\n")
    text = soup.get_text()
    lines = [ln.strip() for ln in text.splitlines()]
    out: list[str] = []
    for ln in lines:
        if ln or (out and out[-1]):
            out.append(ln)
    return "\n".join(out).strip() + "\n", title or None


def read_docx(data: bytes) -> tuple[str, str | None]:
    import docx

    d = docx.Document(io.BytesIO(data))
    paras = [p.text for p in d.paragraphs]
    for table in d.tables:
        for row in table.rows:
            paras.append(" | ".join(cell.text for cell in row.cells))
    title = d.core_properties.title or None
    return "\n\n".join(p for p in paras if p.strip()) + "\n", title


def read_eml(data: bytes) -> tuple[str, str | None]:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    header = "\n".join(f"{h}: {msg[h]}" for h in ("From", "To", "Cc", "Date", "Subject") if msg[h])
    body_part = msg.get_body(preferencelist=("plain", "html"))
    body = ""
    if body_part is not None:
        content = body_part.get_content()
        body = read_html(content.encode())[0] if body_part.get_content_type() == "text/html" else str(content)
    return f"{header}\n\n{body}", str(msg["Subject"]) if msg["Subject"] else None


TEXT_READER = "kartoteka.reader.text.v2"
READERS: dict[str, tuple[str, str, Callable[[bytes], tuple[str, str | None]]]] = {
    ".txt": ("text", TEXT_READER, read_text),
    ".text": ("text", TEXT_READER, read_text),
    ".md": ("markdown", TEXT_READER, read_text),
    ".markdown": ("markdown", TEXT_READER, read_text),
    ".html": ("html", "kartoteka.reader.html.v1", read_html),
    ".htm": ("html", "kartoteka.reader.html.v1", read_html),
    ".docx": ("docx", "kartoteka.reader.docx.v1", read_docx),
    ".eml": ("email", "kartoteka.reader.eml.v1", read_eml),
}
TEXT_SUFFIXES = (".txt", ".text", ".md", ".markdown")
PDF_SUFFIXES = (".pdf",)
IMAGE_SUFFIXES = (".tif", ".tiff", ".png", ".jpg", ".jpeg")
JSONL = (".jsonl", ".jsonl.gz", ".ndjson")
SUPPORTED = sorted([*READERS, *PDF_SUFFIXES, *IMAGE_SUFFIXES, *JSONL])


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for s in JSONL:
        if name.endswith(s):
            return s
    return path.suffix.lower()


def _wanted(path: Path) -> bool:
    return not path.name.startswith(".") and _suffix(path) in SUPPORTED


def discover(paths: list[str]) -> Iterator[Path | ReadError]:
    """Files to read, in a stable order; folders are walked recursively, and a
    folder or link that can't be read is an error in its place (see folders.py)."""
    from kartoteka.registry.folders import Unreadable, walk

    for p in paths:
        path = Path(p)
        if not path.exists():
            yield ReadError(p, KartotekaError(E.E004, path=p).message)
        elif path.is_dir():
            for item in walk(path, _wanted):
                yield ReadError(str(item.path), item.message) if isinstance(item, Unreadable) else item
        else:
            yield path


def _jsonl_records(path: Path, stream: BinaryIO) -> Iterator[RawDocument | ReadError]:
    for lineno, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            # JSON Lines is UTF-8 by its specification: no guessing per line, a
            # line that is not UTF-8 is reported (a mark is allowed on line 1).
            try:
                decoded = line.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise ValueError(f"not UTF-8: byte 0x{line[exc.start]:02x} at column {exc.start + 1}") from None
            obj = json.loads(decoded)
            if not isinstance(obj, dict):
                raise ValueError("not an object")
            rid, text = obj.get("id"), obj.get("text")
            if not isinstance(rid, str | int) or not isinstance(text, str):
                raise ValueError("missing 'id' or 'text'")
        except ValueError as exc:
            yield ReadError(f"{path}:{lineno}", KartotekaError(E.E003, path=path, line=lineno, reason=exc).message)
            continue
        yield RawDocument(str(rid), "jsonl", "kartoteka.reader.jsonl.v1", text, obj.get("title"), encoding="utf-8")


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


def read_path(
    path: Path, ocr: str = "auto", workers: int = 1, on_page: PageProgress | None = None
) -> Iterator[RawDocument | ReadError]:
    """Documents read from one file: one, or many for a JSON Lines corpus.

    `ocr` is "auto" (OCR the PDF pages with no text layer, and images),
    "always" (OCR every PDF page, ignoring its text layer) or "never" (no OCR:
    an image-only PDF gives E005, an image E007). `workers` threads OCR the
    pages of one document. `on_page(source, pages_done, pages_total)` is
    called after each page of a PDF or image, OCRed or not, in this thread,
    for a per-page progress bar; pages_done counts up to pages_total.
    """
    if ocr not in OCR_MODES:
        raise InvalidInput(E.E060, mode=ocr)
    suffix = _suffix(path)
    if suffix in JSONL:
        try:
            if suffix == ".jsonl.gz":
                import gzip

                with gzip.open(path, "rb") as fh:
                    yield from _jsonl_records(path, fh)  # type: ignore[arg-type]
            else:
                with path.open("rb") as fh:
                    yield from _jsonl_records(path, fh)
        except OSError as exc:
            yield ReadError(str(path), KartotekaError(E.E001, path=path, reason=exc).message)
        return
    if suffix in PDF_SUFFIXES or suffix in IMAGE_SUFFIXES:
        try:
            data = path.read_bytes()
        except OSError as exc:
            yield ReadError(str(path), KartotekaError(E.E001, path=path, reason=exc).message)
            return
        from kartoteka.registry.paged import read_image, read_pdf  # page renderers and OCR only when needed

        read = read_pdf if suffix in PDF_SUFFIXES else read_image
        try:
            yield read(path, data, ocr, workers, on_page)
        except Exception as exc:  # a reader library may raise anything on a damaged file
            yield ReadError(str(path), KartotekaError(E.E001, path=path, reason=_reason(exc)).message)
        return
    entry = READERS.get(suffix)
    if entry is None:
        yield ReadError(
            str(path),
            KartotekaError(E.E002, suffix=suffix or "(none)", path=path, available=", ".join(SUPPORTED)).message,
        )
        return
    fmt, reader, fn = entry
    try:
        data = path.read_bytes()
        if suffix in TEXT_SUFFIXES:
            doc = _text_document(str(path), fmt, decode(data))
        else:
            text, title = fn(data)
            doc = RawDocument(str(path), fmt, reader, text, title)
    except Exception as exc:  # a reader library may raise anything on a damaged file
        yield ReadError(str(path), KartotekaError(E.E001, path=path, reason=_reason(exc)).message)
        return
    if not doc.text.strip():
        yield ReadError(str(path), KartotekaError(E.E005, path=path).message)
        return
    yield doc


def read_stdin(stream: BinaryIO) -> Iterator[RawDocument | ReadError]:
    data = stream.read()
    d = decode(data)
    # A stream of JSON objects is a corpus; anything else is one document.
    first = d.text.lstrip()[:1]
    if first == "{":
        # JSON Lines must be UTF-8; a UTF-16 pipe (as some shells write) is
        # re-encoded rather than refused, while bad UTF-8 stays an error per line.
        marked = not d.guessed and d.encoding.startswith(("utf-16", "utf-32"))
        yield from _jsonl_records(Path("-"), io.BytesIO(d.text.encode("utf-8") if marked else data))
    elif d.text.strip():
        yield _text_document("-", "text", d)
    else:
        yield ReadError("-", KartotekaError(E.E005, path="-").message)
