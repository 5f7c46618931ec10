"""OCR of page images with Tesseract (English and Russian).

One component, "kartoteka.ocr.tesseract.v1": grey, denoise, deskew, Tesseract
`eng+rus`, and, for a page that reads badly, Tesseract's orientation detection
for pages scanned sideways or upside down. A change to any of these steps is a
new version, because it changes the text an archive holds.

Preprocessing, and why:

- Denoise with a 3x3 median filter: scanner speckle (isolated dark or light
  pixels) is what a median removes without blurring strokes the way a
  Gaussian would; on our synthetic scans it cut the character error rate at
  300 dpi from 1.3% to 0.1%.
- Deskew by projection profiles, the method of Leptonica that OCRmyPDF's
  `--deskew` uses: the angle at which the dark pixels, projected onto the
  vertical, fall into the sharpest rows (text lines). A scan 3° off reads as
  garbage (66% of characters wrong) without it. The PyPI package `deskew`
  (Hough transform) was tried first and found the same angles, but its
  peak search is Python holding the GIL the OCR threads share, 0.3 s a
  page; this is numpy, 0.05 s, within 0.05° on our test scans.
  OCRmyPDF itself would need Ghostscript and a second pass over every page.
- Quarter turns: Tesseract's OSD, run only when a page's first reading is
  poor, so straight pages do not pay for a second Tesseract run.
- After reading: a word mixing Latin and Cyrillic letters is put into its
  majority script where the odd letters have look-alikes there, and a word
  made only of look-alikes into the script of its line (vocab/homoglyphs.yml).
  Reading both languages at once, Tesseract wrote a Cyrillic "а" for the
  English article, or "ТО" in Cyrillic, on a few of our benchmark pages, and
  a mixed "Zоrin" would not match the name "Zorin".

Tesseract is a subprocess (pytesseract wraps it), so pages are OCRed by
threads; `OMP_THREAD_LIMIT=1` stops each Tesseract from starting its own
OpenMP threads on top, which on two cores made parallel pages slower.
"""

from __future__ import annotations

import functools
import math
import os
from collections import deque
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from PIL import Image, ImageFilter, ImageOps

COMPONENT = "kartoteka.ocr.tesseract.v1"
LANGS = "eng+rus"
# A page Tesseract has not finished in this time is treated as a crash.
PAGE_TIMEOUT_S = 300
# Skew detection runs on a copy this many pixels on its longer side: a tenth
# of the work of a 300 dpi page, and still within 0.05° of the true angle.
SKEW_SIZE = 1000
SKEW_MAX_DEG = 10.0
SKEW_COARSE_DEG = 0.5
SKEW_FINE_DEG = 0.05
# Smaller skews are left alone: resampling costs more than it gains.
SKEW_MIN_DEG = 0.5
# Below this mean word confidence a page is tried again turned as OSD says.
RETRY_CONFIDENCE = 0.6
# Pages rendered from a PDF are capped at this many pixels (a 300 dpi A3 page
# is 17 million) so that a page with a huge media box cannot exhaust memory.
MAX_PIXELS = 40_000_000

# pytesseract passes os.environ to Tesseract and has no per-call environment,
# so the limit is set for the process; a value the user set is kept.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")


class OcrFailed(Exception):
    """OCR of one page failed; the message is one line, without the file name."""


@dataclass(frozen=True)
class OcrPage:
    text: str
    confidence: float | None  # mean word confidence, 0..1; None when no words were found
    words: tuple[tuple[int, int, float], ...]  # (start, end, confidence 0..1) within text


@functools.cache
def _checked() -> str:
    import pytesseract

    try:
        version = str(pytesseract.get_tesseract_version())
        langs = set(pytesseract.get_languages(config=""))
    except pytesseract.TesseractNotFoundError:
        raise OcrFailed("tesseract is not installed (bin/setup installs it with apt-get)") from None
    except Exception as exc:  # a broken installation may fail in any way
        raise OcrFailed(_reason(exc)) from None
    missing = [lang for lang in LANGS.split("+") if lang not in langs]
    if missing:
        raise OcrFailed(f"tesseract has no language data for {', '.join(missing)} (bin/setup installs it)")
    return version


def check_tesseract() -> str:
    """Tesseract's version; raises OcrFailed when it or a language is missing.

    Only success is cached (functools.cache does not keep exceptions), so a
    Tesseract installed while a long process runs is found on the next file.
    """
    return _checked()


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    # Tesseract's stderr starts with banner lines; the last line says what broke.
    return f"{type(exc).__name__}: {lines[-1] if lines else text}"


def skew_angle(grey: Image.Image) -> float:
    """Degrees (counter-clockwise, as PIL's rotate takes them) that straighten
    the text lines of a greyscale page; 0.0 for a page with too little ink."""
    import numpy as np

    small = grey.copy()
    small.thumbnail((SKEW_SIZE, SKEW_SIZE), Image.Resampling.BILINEAR)
    pixels = np.asarray(small)
    ys, xs = np.nonzero(pixels < 128)
    if len(ys) < 100:
        return 0.0
    x = xs.astype(np.float64) - pixels.shape[1] / 2
    y = ys.astype(np.float64)

    def sharpness(degrees: float) -> float:
        # Rows of the sheared projection: text lines give tall narrow peaks,
        # so the squared differences between neighbouring rows are largest.
        rows = np.round(y - x * math.tan(math.radians(degrees))).astype(np.int64)
        counts = np.bincount(rows - rows.min()).astype(np.float64)
        return float(np.sum(np.diff(counts) ** 2))

    coarse = np.arange(-SKEW_MAX_DEG, SKEW_MAX_DEG + 1e-9, SKEW_COARSE_DEG)
    best = max((float(a) for a in coarse), key=sharpness)
    fine = np.arange(best - SKEW_COARSE_DEG, best + SKEW_COARSE_DEG + 1e-9, SKEW_FINE_DEG)
    return max((float(a) for a in fine), key=sharpness)


def deskew(grey: Image.Image) -> Image.Image:
    angle = skew_angle(grey)
    if SKEW_MIN_DEG <= abs(angle) <= SKEW_MAX_DEG:
        return grey.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    return grey


def _grey(image: Image.Image) -> Image.Image:
    image = ImageOps.exif_transpose(image)
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        # 16-bit and float scans: convert("L") would clip them to white.
        import numpy as np

        pixels = np.asarray(image, dtype=np.float64)
        low, high = float(pixels.min()), float(pixels.max())
        scaled = (pixels - low) * (255.0 / (high - low)) if high > low else np.full_like(pixels, 255.0)
        return Image.fromarray(scaled.astype(np.uint8), mode="L")
    return image.convert("L")


def preprocess(image: Image.Image) -> Image.Image:
    """Grey, denoised and deskewed copy of a page image."""
    return deskew(_grey(image).filter(ImageFilter.MedianFilter(3)))


@functools.cache
def _homoglyphs() -> tuple[dict[str, str], dict[str, str]]:
    """(Cyrillic to Latin, Latin to Cyrillic) from vocab/homoglyphs.yml."""
    from kartoteka.vocab import VocabError, _load

    pairs = _load("homoglyphs.yml").get("pairs")
    if not isinstance(pairs, list) or not all(
        isinstance(p, list) and len(p) == 2 and all(isinstance(c, str) and len(c) == 1 for c in p) for p in pairs
    ):
        raise VocabError("vocab/homoglyphs.yml: key 'pairs' missing or not a list of [Latin, Cyrillic] letters")
    return {cyr: lat for lat, cyr in pairs}, {lat: cyr for lat, cyr in pairs}


def _script(ch: str) -> str:
    if "a" <= ch.lower() <= "z":
        return "latin"
    if "\u0400" <= ch <= "\u04ff":
        return "cyrillic"
    return ""


def one_script(word: str) -> str:
    """A word with letters of both scripts, mapped to its majority script
    when each minority letter has a look-alike there ("Zоrin" to "Zorin");
    otherwise the word as it is."""
    scripts = [_script(ch) for ch in word]
    latin, cyrillic = scripts.count("latin"), scripts.count("cyrillic")
    if not latin or not cyrillic or latin == cyrillic:
        return word
    to_latin, to_cyrillic = _homoglyphs()
    table, minority = (to_latin, "cyrillic") if latin > cyrillic else (to_cyrillic, "latin")
    if not all(ch in table for ch, sc in zip(word, scripts, strict=True) if sc == minority):
        return word
    return "".join(table[ch] if sc == minority else ch for ch, sc in zip(word, scripts, strict=True))


def _evidence(word: str) -> tuple[int, int]:
    """(Latin, Cyrillic) letters of a word that have no look-alike in the other script."""
    to_latin, to_cyrillic = _homoglyphs()
    latin = sum(1 for ch in word if _script(ch) == "latin" and ch not in to_cyrillic)
    cyrillic = sum(1 for ch in word if _script(ch) == "cyrillic" and ch not in to_latin)
    return latin, cyrillic


def line_script(words: list[str]) -> list[str]:
    """Words of one line; a word made only of look-alike letters ("а", "ТО")
    is put into the script the rest of the line is unmistakably written in
    (at least three letters of it and none of the other)."""
    latin = cyrillic = 0
    for word in words:
        la, cy = _evidence(word)
        latin, cyrillic = latin + la, cyrillic + cy
    if (latin >= 3) == (cyrillic >= 3) or min(latin, cyrillic) > 0:
        return words
    to_latin, to_cyrillic = _homoglyphs()
    table, other = (to_latin, "cyrillic") if latin else (to_cyrillic, "latin")
    out: list[str] = []
    for word in words:
        letters = [ch for ch in word if _script(ch)]
        if letters and all(_script(ch) == other and ch in table for ch in letters):
            word = "".join(table.get(ch, ch) for ch in word)
        out.append(word)
    return out


def page_from_tsv(tsv: str) -> OcrPage:
    """Page text rebuilt from Tesseract's TSV: words joined by spaces, lines
    by a newline, paragraphs and blocks by a blank line (the portions the
    structure recogniser splits on)."""
    rows = tsv.splitlines()
    header = rows[0].split("\t") if rows else []
    col = {name: i for i, name in enumerate(header)}
    needed = ("level", "page_num", "block_num", "par_num", "line_num", "conf", "text")
    if not all(n in col for n in needed):
        return OcrPage("", None, ())
    lines: list[tuple[tuple[int, int, int], list[str], list[float]]] = []
    last_line: tuple[int, int, int, int] | None = None
    for row in rows[1:]:
        cells = row.split("\t")
        if len(cells) <= col["text"] or cells[col["level"]] != "5":
            continue
        word = one_script(cells[col["text"]].strip())
        if not word:
            continue
        try:
            conf = float(cells[col["conf"]])
        except ValueError:
            continue
        if conf < 0:
            continue
        page, block, par, line = (int(cells[col[n]]) for n in ("page_num", "block_num", "par_num", "line_num"))
        if (page, block, par, line) != last_line:
            lines.append(((page, block, par), [], []))
            last_line = (page, block, par, line)
        lines[-1][1].append(word)
        lines[-1][2].append(min(conf, 100.0) / 100.0)
    parts: list[str] = []
    words: list[tuple[int, int, float]] = []
    pos = 0
    last_par: tuple[int, int, int] | None = None
    for par_key, line_words, confs in lines:
        if last_par is not None:
            sep = "\n\n" if par_key != last_par else "\n"
            parts.append(sep)
            pos += len(sep)
        last_par = par_key
        for i, (word, conf) in enumerate(zip(line_script(line_words), confs, strict=True)):
            if i:
                parts.append(" ")
                pos += 1
            parts.append(word)
            words.append((pos, pos + len(word), conf))
            pos += len(word)
    mean = sum(w[2] for w in words) / len(words) if words else None
    return OcrPage("".join(parts), mean, tuple(words))


def _tesseract(image: Image.Image) -> OcrPage:
    import tempfile

    import pytesseract

    try:
        # Handed over as an uncompressed PGM: pytesseract would write a PNG,
        # and compressing a 300 dpi page costs 0.2 s of this thread.
        with tempfile.TemporaryDirectory(prefix="kartoteka-ocr-") as tmp:
            page_file = os.path.join(tmp, "page.pgm")
            image.convert("L").save(page_file, format="PPM")
            tsv = pytesseract.image_to_data(page_file, lang=LANGS, timeout=PAGE_TIMEOUT_S)
    except pytesseract.TesseractNotFoundError:
        raise OcrFailed("tesseract is not installed (bin/setup installs it with apt-get)") from None
    except (pytesseract.TesseractError, RuntimeError, OSError) as exc:  # crash, timeout, killed
        raise OcrFailed(_reason(exc)) from None
    return page_from_tsv(str(tsv))


def _quarter_turn(image: Image.Image) -> int:
    """Degrees (clockwise) OSD says the page must turn, or 0 when unsure."""
    import pytesseract

    try:
        osd = str(pytesseract.image_to_osd(image, timeout=PAGE_TIMEOUT_S))
    except Exception:  # OSD refuses pages with too little text; keep the page as it is
        return 0
    fields = dict(ln.split(":", 1) for ln in osd.splitlines() if ":" in ln)
    try:
        rotate = int(fields.get("Rotate", "0").strip())
        confidence = float(fields.get("Orientation confidence", "0").strip())
    except ValueError:
        return 0
    return rotate if rotate in (90, 180, 270) and confidence >= 1.0 else 0


def ocr_image(image: Image.Image) -> OcrPage:
    """OCR one page image. Raises OcrFailed (one-line reason) on failure."""
    try:
        page_image = preprocess(image)
    except (OSError, ValueError, SyntaxError) as exc:  # PIL's errors for damaged image data
        raise OcrFailed(_reason(exc)) from None
    page = _tesseract(page_image)
    if page.confidence is None or page.confidence < RETRY_CONFIDENCE:
        turn = _quarter_turn(page_image)
        if turn:
            # Lines of a sideways page were not lines to the first deskew: straighten again.
            turned = _tesseract(deskew(page_image.rotate(-turn, expand=True, fillcolor=255)))
            if _score(turned) > _score(page):
                page = turned
    return page


def _score(page: OcrPage) -> float:
    # Confident words, counted: an upside-down page yields few, unsure ones.
    return sum(w[2] for w in page.words)


PageSource = Callable[[], Image.Image]


def ocr_pages(pages: Iterable[PageSource], workers: int = 1) -> Generator[OcrPage | OcrFailed, None, None]:
    """OCR pages in order with `workers` threads, yielding one result per page
    in the same order: an OcrPage, or the OcrFailed of a page that could not be
    rendered or read (the others go on).

    Each source is called (the page rendered) in this thread, only when a slot
    is free, so at most 2 x workers page images exist at once however long the
    document; renderers such as PDFium are not thread-safe, which is another
    reason to call them here.
    """
    workers = max(1, workers)
    in_flight: deque[Future[OcrPage] | OcrFailed] = deque()

    def result(item: Future[OcrPage] | OcrFailed) -> OcrPage | OcrFailed:
        if isinstance(item, OcrFailed):
            return item
        try:
            return item.result()
        except OcrFailed as exc:
            return exc
        except Exception as exc:  # a bug in one page must not lose the document
            return OcrFailed(_reason(exc))

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kartoteka-ocr") as pool:
        for source in pages:
            if len(in_flight) >= 2 * workers:
                yield result(in_flight.popleft())
            try:
                image = source()
            except OcrFailed as exc:
                in_flight.append(exc)
                continue
            except Exception as exc:  # renderers raise their own error types
                in_flight.append(OcrFailed(_reason(exc)))
                continue
            in_flight.append(pool.submit(ocr_image, image))
            del image  # the pool's work item holds the only reference until it runs
        while in_flight:
            yield result(in_flight.popleft())
