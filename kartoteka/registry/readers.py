"""Readers turn a file (or a line of a JSON Lines corpus) into plain text.

Each reader is a named, versioned component ("kartoteka.reader.pdf.v1"). A
released version never changes behaviour; a change gets a new version so that
archives record exactly how their text was obtained.
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
from typing import BinaryIO

from kartoteka.errors import E, KartotekaError


@dataclass(frozen=True)
class RawDocument:
    source: str
    format: str
    reader: str  # versioned component name
    text: str
    title: str | None = None


@dataclass(frozen=True)
class ReadError:
    source: str
    message: str


def _decode(data: bytes) -> str:
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def read_text(data: bytes) -> tuple[str, str | None]:
    return _decode(data), None


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


def read_pdf(data: bytes) -> tuple[str, str | None]:
    import logging

    from pypdf import PdfReader

    # pypdf logs its own warnings for damaged files; the reader reports one
    # clean error line instead, so the batch output stays readable.
    logging.getLogger("pypdf").setLevel(logging.CRITICAL)

    reader = PdfReader(io.BytesIO(data))
    pages = [(page.extract_text() or "").strip() for page in reader.pages]
    meta = reader.metadata
    title = str(meta.title) if meta is not None and meta.title else None
    return "\n\n".join(p for p in pages if p) + "\n", title


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


READERS: dict[str, tuple[str, str, Callable[[bytes], tuple[str, str | None]]]] = {
    ".txt": ("text", "kartoteka.reader.text.v1", read_text),
    ".text": ("text", "kartoteka.reader.text.v1", read_text),
    ".md": ("markdown", "kartoteka.reader.text.v1", read_text),
    ".markdown": ("markdown", "kartoteka.reader.text.v1", read_text),
    ".html": ("html", "kartoteka.reader.html.v1", read_html),
    ".htm": ("html", "kartoteka.reader.html.v1", read_html),
    ".pdf": ("pdf", "kartoteka.reader.pdf.v1", read_pdf),
    ".docx": ("docx", "kartoteka.reader.docx.v1", read_docx),
    ".eml": ("email", "kartoteka.reader.eml.v1", read_eml),
}
JSONL = (".jsonl", ".jsonl.gz", ".ndjson")
SUPPORTED = sorted([*READERS, *JSONL])


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for s in JSONL:
        if name.endswith(s):
            return s
    return path.suffix.lower()


def discover(paths: list[str]) -> Iterator[Path | ReadError]:
    """Files to read, in a stable order; folders are walked recursively."""
    for p in paths:
        path = Path(p)
        if not path.exists():
            yield ReadError(p, KartotekaError(E.E004, path=p).message)
        elif path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and not child.name.startswith(".") and _suffix(child) in SUPPORTED:
                    yield child
        else:
            yield path


def _jsonl_records(path: Path, stream: BinaryIO) -> Iterator[RawDocument | ReadError]:
    for lineno, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ValueError("not an object")
            rid, text = obj.get("id"), obj.get("text")
            if not isinstance(rid, str | int) or not isinstance(text, str):
                raise ValueError("missing 'id' or 'text'")
        except ValueError as exc:
            yield ReadError(f"{path}:{lineno}", KartotekaError(E.E003, path=path, line=lineno, reason=exc).message)
            continue
        yield RawDocument(str(rid), "jsonl", "kartoteka.reader.jsonl.v1", text, obj.get("title"))


def read_path(path: Path) -> Iterator[RawDocument | ReadError]:
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
    entry = READERS.get(suffix)
    if entry is None:
        yield ReadError(
            str(path),
            KartotekaError(E.E002, suffix=suffix or "(none)", path=path, available=", ".join(SUPPORTED)).message,
        )
        return
    fmt, reader, fn = entry
    try:
        text, title = fn(path.read_bytes())
    except Exception as exc:  # a reader library may raise anything on a damaged file
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
        yield ReadError(str(path), KartotekaError(E.E001, path=path, reason=reason).message)
        return
    if not text.strip():
        yield ReadError(str(path), KartotekaError(E.E005, path=path).message)
        return
    yield RawDocument(str(path), fmt, reader, text, title)


def read_stdin(stream: BinaryIO) -> Iterator[RawDocument | ReadError]:
    data = stream.read()
    text = _decode(data)
    # A stream of JSON objects is a corpus; anything else is one document.
    first = text.lstrip()[:1]
    if first == "{":
        yield from _jsonl_records(Path("-"), io.BytesIO(data))
    elif text.strip():
        yield RawDocument("-", "text", "kartoteka.reader.text.v1", text)
    else:
        yield ReadError("-", KartotekaError(E.E005, path="-").message)
