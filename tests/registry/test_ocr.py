"""OCR of scanned pages: accuracy on synthetic scans, mixed PDFs, modes,
failures that stay one line, and bounded memory on a long scanned PDF.

Pages are rendered here from the project's own fictional texts (see
bench/ocr.py) with DejaVu fonts, turned slightly and speckled.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pypdfium2
import pytest
from PIL import Image

from bench.ocr import FONT_SANS, cer, fictional_paragraphs, scan_page
from kartoteka.errors import InvalidInput
from kartoteka.registry import ocr, paged
from kartoteka.registry.readers import RawDocument, ReadError, discover, read_path

pytestmark = pytest.mark.skipif(
    not Path(FONT_SANS).exists(), reason="DejaVu fonts missing (bin/setup installs fonts-dejavu-core)"
)

# Character error rate allowed on a clean 300 dpi synthetic scan; measured
# well below it (BENCHMARKS.md, "OCR").
MAX_CER = 0.02
CYRILLIC = "Генерал Олег Данилович Калугин принял доклад резидента Зорина в понедельник утром."
SMALL = (5.8, 4.0)  # inches: a half page keeps each OCR call near a second


def one(path: Path, **kw: object) -> RawDocument | ReadError:
    [item] = list(read_path(path, **kw))  # type: ignore[arg-type]
    return item


def png(image: Image.Image, path: Path) -> Path:
    image.save(path, dpi=(300, 300))
    return path


def pdf_of(path: Path, pages: list[str | Image.Image], size: tuple[float, float] = SMALL) -> Path:
    """A PDF whose pages are text (a real text layer) or images (no text layer)."""
    from fpdf import FPDF

    pdf = FPDF(unit="in", format=size)
    pdf.add_font("DejaVu", fname=FONT_SANS)
    pdf.set_auto_page_break(False)
    for page in pages:
        pdf.add_page()
        if isinstance(page, str):
            pdf.set_font("DejaVu", size=11)
            pdf.set_xy(0.5, 0.5)
            pdf.multi_cell(size[0] - 1, 0.25, page)
        else:
            buf = io.BytesIO()
            page.save(buf, format="PNG")
            pdf.image(buf, x=0, y=0, w=size[0], h=size[1])
    pdf.output(str(path))
    return path


@pytest.fixture(scope="module")
def scan() -> tuple[Image.Image, str]:
    paras = [p for p in fictional_paragraphs() if "Zorin" in p][:2]
    return scan_page([CYRILLIC, *paras], dpi=300, angle=1.5, noise=0.002, size_inches=(5.8, 5.5), seed=3)


def test_scanned_image_reads_close_to_its_source(tmp_path: Path, scan: tuple[Image.Image, str]) -> None:
    image, source = scan
    doc = one(png(image, tmp_path / "scan.png"))
    assert isinstance(doc, RawDocument), doc
    assert doc.format == "image" and doc.reader == f"kartoteka.reader.image.v1,{ocr.COMPONENT}"
    assert cer(source, doc.text) < MAX_CER, (cer(source, doc.text), doc.text)
    assert "Калугин" in doc.text and "Zorin" in doc.text
    [page] = doc.pages
    assert (page.number, page.start, page.method) == (1, 0, "ocr")
    assert page.ocr_confidence is not None and 0.8 < page.ocr_confidence <= 1.0
    # Word spans cover whole words of the text, with confidences 0..1.
    assert len(doc.word_confidence) >= len(source.split()) * 0.9
    for start, end, conf in doc.word_confidence:
        word = doc.text[start:end]
        assert word and not any(ch.isspace() for ch in word) and 0.0 <= conf <= 1.0
    # Paragraphs come back as blank-line separated portions.
    assert doc.text.count("\n\n") >= 2


def test_sideways_scan_is_turned_upright(tmp_path: Path, scan: tuple[Image.Image, str]) -> None:
    image, source = scan
    doc = one(png(image.rotate(90, expand=True, fillcolor=255), tmp_path / "sideways.png"))
    assert isinstance(doc, RawDocument)
    assert cer(source, doc.text) < MAX_CER and "Калугин" in doc.text


def test_tsv_rebuilds_lines_and_paragraphs() -> None:
    header = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"
    rows = [
        "1\t1\t0\t0\t0\t0\t0\t0\t100\t100\t-1\t",
        "5\t1\t1\t1\t1\t1\t0\t0\t1\t1\t96.5\tSECRET",
        "5\t1\t2\t1\t1\t1\t0\t0\t1\t1\t90\t(S)",
        "5\t1\t2\t1\t1\t2\t0\t0\t1\t1\t80\tZorin",
        "5\t1\t2\t1\t2\t1\t0\t0\t1\t1\t70\tmet",
        "5\t1\t2\t1\t2\t2\t0\t0\t1\t1\t60\t ",
        "5\t1\t2\t2\t1\t1\t0\t0\t1\t1\t50\tMendes.",
    ]
    page = ocr.page_from_tsv("\n".join([header, *rows]))
    assert page.text == "SECRET\n\n(S) Zorin\nmet\n\nMendes."
    assert [page.text[a:b] for a, b, _ in page.words] == ["SECRET", "(S)", "Zorin", "met", "Mendes."]
    assert page.words[0][2] == pytest.approx(0.965)
    assert page.confidence == pytest.approx((0.965 + 0.9 + 0.8 + 0.7 + 0.5) / 5)
    assert ocr.page_from_tsv(header) == ocr.OcrPage("", None, ())


def test_mixed_script_words_are_put_into_their_majority_script() -> None:
    assert ocr.one_script("Zоrin") == "Zorin"  # Cyrillic о in a Latin word
    assert ocr.one_script("Калугиh") == "Калугиh"  # h has no Cyrillic look-alike: left as read
    assert ocr.one_script("Ka" + "лугин") == "Калугин"  # Latin K and a in a Cyrillic word
    assert ocr.one_script("Zorin") == "Zorin" and ocr.one_script("Зорин") == "Зорин"
    assert ocr.one_script("(S)") == "(S)" and ocr.one_script("aб") == "aб"  # a tie is left alone
    # A word of look-alikes only takes the script of its line.
    assert ocr.line_script(["Zorin", "met", "\u0430", "clerk"]) == ["Zorin", "met", "a", "clerk"]
    assert ocr.line_script(["ТО", "было", "OH"]) == ["ТО", "было", "ОН"]
    assert ocr.line_script(["KGB", "и", "CIA"]) == ["KGB", "и", "CIA"]  # too little evidence either way
    header = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"
    page = ocr.page_from_tsv(f"{header}\n5\t1\t1\t1\t1\t1\t0\t0\t1\t1\t90\tVetrоva")
    assert page.text == "Vetrova" and page.words == ((0, 7, 0.9),)


def _line(text: str, seed: int = 0) -> Image.Image:
    image, _ = scan_page([text], dpi=300, angle=0.7, noise=0.001, size_inches=SMALL, font_pt=12, seed=seed)
    return image


def test_mixed_pdf_ocrs_only_the_scanned_page(tmp_path: Path) -> None:
    text_page = "SECRET\n\n(S) Arkady Zorin met Duarte Mendes in Lisbon in March 1977 at the Cafe Brasileira."
    scanned = "Vetrova recruited a clerk of the Ministry of Foreign Affairs in October 1977."
    path = pdf_of(tmp_path / "mixed.pdf", [text_page, _line(scanned)])
    progress: list[tuple[str, int, int]] = []
    doc = one(path, on_page=lambda s, d, t: progress.append((s, d, t)))
    assert isinstance(doc, RawDocument), doc
    assert doc.reader == f"kartoteka.reader.pdf.v2,{ocr.COMPONENT}"
    assert [(p.number, p.method) for p in doc.pages] == [(1, "text"), (2, "ocr")]
    first, second = doc.pages
    assert doc.text.count("\f") == 1 and doc.text[first.end] == "\f" and second.start == first.end + 1
    assert "Arkady Zorin" in doc.text[first.start : first.end] and first.ocr_confidence is None
    assert cer(scanned, doc.text[second.start : second.end]) < MAX_CER
    assert second.ocr_confidence is not None and second.ocr_confidence > 0.8
    assert doc.word_confidence and all(second.start <= a < b <= second.end for a, b, _ in doc.word_confidence)
    assert progress == [(str(path), 1, 2), (str(path), 2, 2)]

    never = one(path, ocr="never")
    assert isinstance(never, RawDocument) and never.reader == "kartoteka.reader.pdf.v2"
    assert [(p.method, p.end - p.start) for p in never.pages][1] == ("text", 0)
    assert "Vetrova" not in never.text and not never.word_confidence

    always = one(path, ocr="always", workers=2)
    assert isinstance(always, RawDocument)
    assert [p.method for p in always.pages] == ["ocr", "ocr"] and "Zorin" in always.text


def test_text_pdf_pages_are_spans_joined_by_form_feeds(tmp_path: Path) -> None:
    texts = [
        "(S) Page one names Arkady Zorin.",
        "(C) Page two names Yelena Vetrova.",
        "(U) Page three names nobody at all.",
    ]
    doc = one(pdf_of(tmp_path / "text.pdf", list(texts)))
    assert isinstance(doc, RawDocument) and doc.reader == "kartoteka.reader.pdf.v2"
    assert doc.text == "\f".join(texts) + "\n"
    assert [(p.number, doc.text[p.start : p.end], p.method) for p in doc.pages] == [
        (i + 1, t, "text") for i, t in enumerate(texts)
    ]


def test_image_only_pdf_with_ocr_never_has_no_text(tmp_path: Path) -> None:
    path = pdf_of(tmp_path / "scan.pdf", [_line("Zorin was recalled to Moscow in January 1978.")])
    err = one(path, ocr="never")
    assert isinstance(err, ReadError) and err.message.startswith("[E005]") and str(path) in err.message


def test_ocr_never_refuses_images(tmp_path: Path) -> None:
    err = one(png(_line("Zorin"), tmp_path / "a.png"), ocr="never")
    assert isinstance(err, ReadError) and err.message.startswith("[E007]") and "a.png" in err.message
    assert "\n" not in err.message
    with pytest.raises(InvalidInput, match=r"\[E060\]"):
        one(tmp_path / "a.png", ocr="sometimes")


def test_corrupt_images_are_one_line_errors_and_the_batch_goes_on(tmp_path: Path) -> None:
    (tmp_path / "a-garbage.png").write_bytes(b"\x89PNG\r\n\x1a\nthis is not a picture")
    good = io.BytesIO()
    _line("Zorin").save(good, format="PNG")
    (tmp_path / "b-truncated.png").write_bytes(good.getvalue()[: len(good.getvalue()) // 2])
    (tmp_path / "c-note.txt").write_text("Zorin met Mendes.\n")
    out = [d for f in discover([str(tmp_path)]) if isinstance(f, Path) for d in read_path(f)]
    assert [type(o).__name__ for o in out] == ["ReadError", "ReadError", "RawDocument"]
    for err, name in zip(out[:2], ("a-garbage.png", "b-truncated.png"), strict=False):
        assert isinstance(err, ReadError) and err.message.startswith("[E006] Can't OCR") and name in err.message
        assert "\n" not in err.message


def test_multi_page_tiff(tmp_path: Path) -> None:
    frames = [_line("Zorin met Mendes in Lisbon.", 1), _line("Vetrova called Bortnik from Vienna.", 2)]
    path = tmp_path / "two.tif"
    frames[0].save(path, save_all=True, append_images=frames[1:], dpi=(300, 300))
    doc = one(path)
    assert isinstance(doc, RawDocument) and [p.number for p in doc.pages] == [1, 2]
    one_text, two_text = doc.text.rstrip("\n").split("\f")
    assert "Mendes" in one_text and "Bortnik" in two_text


@pytest.fixture
def broken_tesseract(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Tesseract replaced by a program that answers --version, then crashes."""
    import pytesseract

    fake = tmp_path / "tesseract"
    fake.write_text(
        "#!/bin/sh\n"
        'case "$1" in --version) echo "tesseract 5.3.0"; exit 0;; --list-langs) printf "x\\neng\\nrus\\n"; exit 0;; esac\n'
        'echo "Error in pixReadStream: Segmentation fault" >&2\nexit 139\n'
    )
    fake.chmod(0o755)
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", str(fake))
    ocr._checked.cache_clear()
    yield fake
    ocr._checked.cache_clear()


def test_tesseract_crash_fails_the_scan_and_warns_in_a_mixed_pdf(tmp_path: Path, broken_tesseract: Path) -> None:
    err = one(png(_line("Zorin"), tmp_path / "a.png"))
    assert isinstance(err, ReadError) and err.message.startswith("[E006] Can't OCR") and "a.png" in err.message
    assert "Segmentation fault" in err.message and "\n" not in err.message

    path = pdf_of(tmp_path / "mixed.pdf", ["(S) Arkady Zorin met Duarte Mendes in Lisbon.", _line("Vetrova")])
    doc = one(path)
    assert isinstance(doc, RawDocument) and "Arkady Zorin" in doc.text
    assert [(p.method, p.end - p.start > 0) for p in doc.pages] == [("text", True), ("ocr", False)]
    [warning] = doc.warnings
    assert warning.startswith("[E009]") and "page 2" in warning and str(path) in warning


def test_missing_tesseract_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pytesseract

    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", str(tmp_path / "no-such-tesseract"))
    ocr._checked.cache_clear()
    try:
        err = one(png(_line("Zorin"), tmp_path / "a.png"))
    finally:
        ocr._checked.cache_clear()
    assert isinstance(err, ReadError) and err.message.startswith("[E006]") and "not installed" in err.message


def test_unreadable_text_layer_page_is_a_warning_and_is_ocred(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pypdf import PageObject

    path = pdf_of(tmp_path / "two.pdf", ["(S) Arkady Zorin met Duarte Mendes in Lisbon.", "(C) Kalmykov arrived."])
    original = PageObject.extract_text
    calls = {"n": 0}

    def flaky(self: PageObject, *args: object, **kwargs: object) -> str:
        calls["n"] += 1
        if calls["n"] == 2:
            raise ValueError("bad content stream")
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(PageObject, "extract_text", flaky)
    doc = one(path)
    assert isinstance(doc, RawDocument)
    assert doc.warnings and doc.warnings[0].startswith("[E008]") and "page 2" in doc.warnings[0]
    assert [p.method for p in doc.pages] == ["text", "ocr"] and "Kalmykov" in doc.text


def test_long_scanned_pdf_reads_with_bounded_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    n = 200
    size = (4.0, 1.5)  # at 300 dpi a page renders to 0.5 MP: 108 MB if all were held at once
    lines = [f"Record {i} names Arkady Zorin." for i in range(n)]
    images = [scan_page([ln], dpi=100, noise=0, size_inches=size, font_pt=14, margin_inches=0.3)[0] for ln in lines]
    path = pdf_of(tmp_path / "long.pdf", list(images), size=size)
    del images

    rendered = {"n": 0}
    render = paged._render_pdf_page

    def counting(pdf: pypdfium2.PdfDocument, index: int) -> Image.Image:
        rendered["n"] += 1
        return render(pdf, index)

    monkeypatch.setattr(paged, "_render_pdf_page", counting)
    in_flight: list[int] = []
    proc = psutil.Process()
    one(pdf_of(tmp_path / "warm.pdf", [_line("Zorin")]))  # libraries loaded before the baseline
    baseline = proc.memory_info().rss
    peak = {"rss": baseline}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak["rss"] = max(peak["rss"], proc.memory_info().rss)
            time.sleep(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    try:
        doc = one(path, workers=2, on_page=lambda s, done, total: in_flight.append(rendered["n"] - done))
    finally:
        stop.set()
        sampler.join()
    elapsed = time.perf_counter() - started
    assert isinstance(doc, RawDocument), doc
    assert len(doc.pages) == n and doc.text.count("\f") == n - 1
    assert sum("Zorin" in doc.text[p.start : p.end] for p in doc.pages) >= n * 0.95
    # Rendering runs ahead of OCR by at most 2 x workers pages (plus the one being handed over).
    assert max(in_flight) <= 2 * 2 + 1
    growth_mb = (peak["rss"] - baseline) / 2**20
    print(f"200 scanned pages: peak RSS +{growth_mb:.1f} MB, {elapsed:.1f} s")
    assert growth_mb < 60, f"peak RSS grew by {growth_mb:.0f} MB"
