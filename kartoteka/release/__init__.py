"""Release copies: what an audience may receive of a document.

Each withheld portion becomes one fixed-width marker `[ ]` with its exemption
code beside it, like a released CIA report, so that the marker's size says
nothing about what it hides. Nothing of a withheld portion reaches the file:
not its text, not its length, not its mark. PDF copies carry no metadata
beyond what fpdf2 cannot omit (set to blanks here), no outline, and the
file name is built from the document id and the audience level, never from
the title.

`verify` extracts all text from a produced file (the PDF text layer,
metadata and outline; the HTML source, attributes and comments included) and
looks for every withheld portion in it, five words at a time.
"""

from __future__ import annotations

import html
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

MARKER = "[ ]"
FORMATS = ("txt", "html", "pdf")
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
SHINGLE = 5  # words: long enough to be the withheld text, short enough to catch a sentence


@dataclass(frozen=True)
class Part:
    text: str | None  # None: withheld
    exemption: str = ""


@dataclass(frozen=True)
class ReleaseCopy:
    document_id: str
    audience: str
    banner: str
    parts: tuple[Part, ...]

    @property
    def withheld(self) -> int:
        return sum(1 for p in self.parts if p.text is None)

    def lines(self) -> list[str]:
        out = [self.banner, "", f"Release copy of {self.document_id} for {self.audience}", ""]
        for p in self.parts:
            out.append(f"{MARKER}  {p.exemption}" if p.text is None else p.text)
            out.append("")
        out.append(self.banner)
        return out


def render_txt(copy: ReleaseCopy) -> bytes:
    return ("\n".join(copy.lines()) + "\n").encode("utf-8")


def render_html(copy: ReleaseCopy) -> bytes:
    body = []
    for p in copy.parts:
        if p.text is None:
            body.append(
                f'<p class="withheld"><span class="marker">{MARKER}</span> <b>{html.escape(p.exemption)}</b></p>'
            )
        else:
            body.append(f"<p>{html.escape(p.text)}</p>")
    doc = (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>Release copy {html.escape(copy.document_id)}</title>"
        "<style>.banner{text-align:center;font-weight:bold}.withheld{font-family:monospace}</style></head><body>"
        f'<p class="banner">{html.escape(copy.banner)}</p>'
        f"<p>Release copy of {html.escape(copy.document_id)} for {html.escape(copy.audience)}</p>"
        + "".join(body)
        + f'<p class="banner">{html.escape(copy.banner)}</p></body></html>\n'
    )
    return doc.encode("utf-8")


def render_pdf(copy: ReleaseCopy) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    # Blank metadata: a producer string or a timestamp would be the only
    # non-content bytes in the file; keep them fixed and empty.
    pdf.set_producer("")
    pdf.set_creator("")
    pdf.set_creation_date(datetime(2000, 1, 1, tzinfo=UTC))
    pdf.set_title(f"Release copy {copy.document_id}")
    pdf.add_font("DejaVu", "", str(FONT))
    pdf.set_font("DejaVu", size=10)
    pdf.add_page()
    for line in copy.lines():
        pdf.multi_cell(0, 5, line or " ", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def render(copy: ReleaseCopy, fmt: str) -> bytes:
    return {"txt": render_txt, "html": render_html, "pdf": render_pdf}[fmt](copy)


def file_name(copy: ReleaseCopy, fmt: str) -> str:
    level = re.sub(r"[^A-Za-z0-9]+", "-", copy.audience).strip("-") or "audience"
    return f"release-{copy.document_id}-{level}.{fmt}"


# Verification ------------------------------------------------------------------------


def extract_text(data: bytes, fmt: str) -> str:
    """Every piece of text a reader of the file could get at."""
    if fmt == "pdf":
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data))
        parts = [page.extract_text() or "" for page in reader.pages]
        if reader.metadata:
            parts.extend(str(v) for v in reader.metadata.values())
        parts.extend(str(o) for o in _outline_titles(reader.outline))
        return "\n".join(parts)
    text = data.decode("utf-8", errors="replace")
    if fmt == "html":
        # The source itself (attributes, comments, scripts) and the rendered text.
        return text + "\n" + html.unescape(re.sub(r"<[^>]+>", " ", text))
    return text


def _outline_titles(outline: object) -> list[str]:
    out: list[str] = []
    if isinstance(outline, list):
        for item in outline:
            out.extend(_outline_titles(item))
    elif outline is not None:
        out.append(str(getattr(outline, "title", "")))
    return out


def _words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.findall(r"\w+", text)


def leaks(extracted: str, withheld: list[str]) -> list[str]:
    """Withheld passages found in the extracted text, by five-word shingles
    (or whole, when a passage is shorter)."""
    hay = " " + " ".join(_words(extracted)) + " "
    found: list[str] = []
    for passage in withheld:
        words = _words(passage)
        if not words:
            continue
        spans = [words] if len(words) <= SHINGLE else [words[i : i + SHINGLE] for i in range(len(words) - SHINGLE + 1)]
        for span in spans:
            if " " + " ".join(span) + " " in hay:
                found.append(" ".join(span))
                break
    return found
