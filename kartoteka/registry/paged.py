"""Paged documents: PDFs (text layer, and OCR of scanned pages) and images (TIFF, PNG, JPEG).

Pages are rendered one at a time (pypdfium2), so memory stays bounded however
many pages a scan has; pages without a text layer, and images, are read by
OCR (registry/ocr.py) under the `--ocr` mode. The pages are joined by form
feeds and kept with their spans, how each was read and its OCR confidence.
"""

from __future__ import annotations

import functools
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kartoteka.errors import E, KartotekaError
from kartoteka.registry.readers import PAGE_BREAK, PageProgress, PageText, RawDocument, ReadError, _reason

if TYPE_CHECKING:
    import pypdfium2
    from PIL import Image

    from kartoteka.registry.ocr import OcrFailed, OcrPage

# In "auto" mode a PDF page whose text layer has fewer non-space characters
# than this is read by OCR: a scan often carries only a stamped page number
# or a few stray glyphs as "text".
MIN_TEXT_CHARS = 20
# PDF pages are rendered for OCR at this resolution (Tesseract reads best at
# about 300 dpi; see BENCHMARKS.md).
RENDER_DPI = 300
PDF_READER = "kartoteka.reader.pdf.v2"
IMAGE_READER = "kartoteka.reader.image.v1"


@dataclass(frozen=True)
class _Page:
    text: str
    method: str
    confidence: float | None = None
    words: tuple[tuple[int, int, float], ...] = ()


def _clean_page(text: str) -> str:
    # A form feed inside a page would read as a page break.
    return text.replace(PAGE_BREAK, "\n").strip()


def _nonspace(text: str) -> int:
    return sum(1 for ch in text if not ch.isspace())


def _paged_document(
    source: str,
    fmt: str,
    reader: str,
    pages: list[_Page],
    title: str | None,
    warnings: list[str],
) -> RawDocument:
    parts: list[str] = []
    spans: list[PageText] = []
    words: list[tuple[int, int, float]] = []
    pos = 0
    for number, page in enumerate(pages, start=1):
        if number > 1:
            parts.append(PAGE_BREAK)
            pos += len(PAGE_BREAK)
        spans.append(PageText(number, pos, pos + len(page.text), page.method, page.confidence))
        words.extend((pos + a, pos + b, c) for a, b, c in page.words)
        parts.append(page.text)
        pos += len(page.text)
    if any(p.method == "ocr" for p in pages):
        from kartoteka.registry.ocr import COMPONENT

        reader = f"{reader},{COMPONENT}"
    return RawDocument(
        source,
        fmt,
        reader,
        "".join(parts) + "\n",
        title,
        pages=tuple(spans),
        word_confidence=tuple(words),
        warnings=tuple(warnings),
    )


def _ocr_outcome(
    path: Path, number: int, result: OcrPage | OcrFailed, layer: str | None, warnings: list[str]
) -> tuple[_Page, str | None]:
    """The page to keep, and the failure reason when OCR failed."""
    from kartoteka.registry.ocr import OcrFailed

    if isinstance(result, OcrFailed):
        # Kept only if the document survives; otherwise the error says it.
        warnings.append(KartotekaError(E.E009, path=path, page=number, reason=result).message)
        return (_Page(layer, "text") if layer else _Page("", "ocr")), str(result)
    if not result.text and layer:
        return _Page(layer, "text"), None  # OCR saw nothing; the thin text layer is all there is
    return _Page(result.text, "ocr", result.confidence, result.words), None


def _no_text(path: Path, total: int, failures: list[tuple[int, str]]) -> ReadError:
    if failures:
        number, reason = failures[0]
        where = f"page {number}: " if total > 1 else ""
        return ReadError(str(path), KartotekaError(E.E006, path=path, reason=f"{where}{reason}").message)
    return ReadError(str(path), KartotekaError(E.E005, path=path).message)


def _render_pdf_page(pdf: pypdfium2.PdfDocument, index: int) -> Image.Image:
    from kartoteka.registry.ocr import MAX_PIXELS, OcrFailed

    page = pdf[index]
    try:
        width, height = page.get_size()
        if width <= 0 or height <= 0:
            raise OcrFailed("the page has no area")
        scale = RENDER_DPI / 72  # PDF units are 1/72 inch
        if width * height * scale * scale > MAX_PIXELS:
            scale = math.sqrt(MAX_PIXELS / (width * height))
        bitmap = page.render(scale=scale, grayscale=True)
        try:
            # to_pil shares PDFium's buffer, which closing the bitmap frees: copy first.
            image: Image.Image = bitmap.to_pil().copy()
        finally:
            bitmap.close()
    finally:
        page.close()
    return image


def read_pdf(
    path: Path, data: bytes, ocr: str = "auto", workers: int = 1, on_page: PageProgress | None = None
) -> RawDocument | ReadError:
    """A PDF, page by page: the text layer where it has text, OCR where it has
    none (mode "auto"), on every page ("always") or on none ("never")."""
    import logging
    from contextlib import closing

    from pypdf import PdfReader

    from kartoteka.registry.pdftext import page_text

    # pypdf logs its own warnings for damaged files; the reader reports one
    # clean line per problem instead, so the batch output stays readable.
    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
    try:
        reader = PdfReader(io.BytesIO(data))
        total = len(reader.pages)
    except Exception as exc:  # pypdf raises many types on a damaged file
        return ReadError(str(path), KartotekaError(E.E001, path=path, reason=_reason(exc)).message)
    try:
        meta = reader.metadata
        title = str(meta.title) if meta is not None and meta.title else None
    except Exception:  # a damaged info dictionary costs the title, not the document
        title = None
    warnings: list[str] = []
    layers: list[str | None] = []
    for i in range(total):
        try:
            text, problem = page_text(reader, i)  # an unreadable page says why (pdftext.py)
        except Exception as exc:  # one damaged page must not lose the others
            text, problem = "", _reason(exc)
        if problem is not None:
            warnings.append(KartotekaError(E.E008, path=path, page=i + 1, reason=problem).message)
        layers.append(None if problem is not None else _clean_page(text))
    del reader
    needs = [
        i
        for i, layer in enumerate(layers)
        if ocr == "always" or (ocr == "auto" and (layer is None or _nonspace(layer) < MIN_TEXT_CHARS))
    ]
    needed = set(needs)
    pages = [_Page(layer or "", "text") for layer in layers]
    done = 0
    for i in range(total):
        if i not in needed:
            done += 1
            if on_page is not None:
                on_page(str(path), done, total)
    failures: list[tuple[int, str]] = []
    if needs:
        from kartoteka.registry.ocr import OcrFailed, check_tesseract, ocr_pages

        try:
            check_tesseract()
        except OcrFailed as exc:
            return ReadError(str(path), KartotekaError(E.E006, path=path, reason=exc).message)
        import pypdfium2

        try:
            pdf = pypdfium2.PdfDocument(data)
        except Exception as exc:  # PDFium's own errors for files pypdf could parse
            reason = f"its pages can't be rendered ({_reason(exc)})"
            return ReadError(str(path), KartotekaError(E.E006, path=path, reason=reason).message)
        try:
            sources = (functools.partial(_render_pdf_page, pdf, i) for i in needs)
            with closing(ocr_pages(sources, workers)) as results:
                for i, result in zip(needs, results, strict=True):
                    page, failed = _ocr_outcome(path, i + 1, result, layers[i], warnings)
                    pages[i] = page
                    if failed is not None:
                        failures.append((i + 1, failed))
                    done += 1
                    if on_page is not None:
                        on_page(str(path), done, total)
        finally:
            pdf.close()
    if not any(p.text for p in pages):
        return _no_text(path, total, failures)
    return _paged_document(str(path), "pdf", PDF_READER, pages, title, warnings)


def read_image(
    path: Path, data: bytes, ocr: str = "auto", workers: int = 1, on_page: PageProgress | None = None
) -> RawDocument | ReadError:
    """A scanned image (TIFF, possibly of many pages, PNG, JPEG), by OCR."""
    if ocr == "never":
        return ReadError(str(path), KartotekaError(E.E007, path=path).message)
    from contextlib import closing

    from PIL import Image

    from kartoteka.registry.ocr import OcrFailed, check_tesseract, ocr_pages

    try:
        check_tesseract()
        image = Image.open(io.BytesIO(data))
        total = int(getattr(image, "n_frames", 1))
    except OcrFailed as exc:
        return ReadError(str(path), KartotekaError(E.E006, path=path, reason=exc).message)
    except Exception as exc:  # PIL raises its own types (and Python's) on a damaged image
        return ReadError(str(path), KartotekaError(E.E006, path=path, reason=_reason(exc)).message)

    def frame(i: int) -> Image.Image:
        # Frames are read one at a time: a 200-page TIFF is never all in memory.
        image.seek(i)
        return image.copy()

    warnings: list[str] = []
    pages: list[_Page] = []
    failures: list[tuple[int, str]] = []
    with image, closing(ocr_pages((functools.partial(frame, i) for i in range(total)), workers)) as results:
        for i, result in enumerate(results):
            page, failed = _ocr_outcome(path, i + 1, result, None, warnings)
            pages.append(page)
            if failed is not None:
                failures.append((i + 1, failed))
            if on_page is not None:
                on_page(str(path), i + 1, total)
    if not any(p.text for p in pages):
        return _no_text(path, total, failures)
    return _paged_document(str(path), "image", IMAGE_READER, pages, None, warnings)
