"""OCR benchmark: character error rate and speed on synthetic scans.

    python3 -m uv run python bench/ocr.py [--pages 10] [--workers 2] [--dpi 200,300]

Pages are made from the project's own fictional texts (the demo corpus and the
hand-written relation sentences, plus Russian sentences written here), set in
DejaVu Serif 11 pt on A4 at the given resolution, turned by a random angle of
up to 3 degrees and sprinkled with speckle noise (isolated black and white
pixels, as a dusty scanner glass gives). Each resolution is read twice through
the registry's own readers: as a multi-page TIFF (OCR at the scan's own
resolution) and as an image-only PDF (rendered at 300 dpi, as every scanned
PDF is). The character error rate of a page is the Levenshtein distance
between the source and the OCR text, both with whitespace collapsed, over the
source's length.

Prints a Markdown table of medians (and means) for BENCHMARKS.md, with the
CPU seconds per page (this process and its Tesseract children) and the
one-minute load average at the end of each run: pages per minute depend on
what else the machine is doing, CPU per page much less.

The page generator is also used by tests/registry/test_ocr.py.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import random
import resource
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"
FONT_SANS = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
A4_INCHES = (8.27, 11.69)

# Written for this benchmark: fictional, in the style of the demo corpus.
RUSSIAN = [
    "Генерал Олег Данилович Калугин принял доклад резидента в понедельник утром.",
    "В делах управления он значился как Зорин Аркадий Павлович, советник посольства.",
    "Елена Сергеевна Ветрова вела политическую линию и встречалась с источником в кафе.",
    "Майор Бортник доложил, что журналист Мендес дважды приезжал в Москву весной.",
    "Пётр Калмыков сменил Зорина в январе и сразу запросил новые указания из Центра.",
    "Ирина Зорина снимала отдельную квартиру в Кашкайше и редко бывала в посольстве.",
]


def normalise(text: str) -> str:
    return " ".join(text.split())


def cer(source: str, ocr: str) -> float:
    from rapidfuzz.distance import Levenshtein

    src = normalise(source)
    return Levenshtein.distance(src, normalise(ocr)) / max(1, len(src))


def scan_page(
    paragraphs: list[str],
    *,
    dpi: int = 300,
    angle: float = 0.0,
    noise: float = 0.002,
    seed: int = 0,
    size_inches: tuple[float, float] = A4_INCHES,
    font_pt: float = 11.0,
    margin_inches: float = 0.8,
    font: str = FONT,
) -> tuple[Image.Image, str]:
    """A greyscale page image of the paragraphs, turned by `angle` degrees and
    speckled; and the text actually set (lines that did not fit are dropped).
    """
    width, height = round(size_inches[0] * dpi), round(size_inches[1] * dpi)
    face = ImageFont.truetype(font, round(font_pt * dpi / 72))
    line_height = round(font_pt * 1.35 * dpi / 72)
    margin = round(margin_inches * dpi)
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    y = margin
    set_paragraphs: list[str] = []
    for para in paragraphs:
        lines = _wrap(para, face, width - 2 * margin)
        if y + line_height * len(lines) > height - margin:
            break
        for line in lines:
            draw.text((margin, y), line, font=face, fill=0)
            y += line_height
        y += line_height // 2
        set_paragraphs.append("\n".join(lines))
    if angle:
        image = image.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=255)
    if noise:
        image = _speckle(image, noise, seed)
    return image, "\n\n".join(set_paragraphs)


def _wrap(text: str, face: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if current and face.getlength(candidate) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def _speckle(image: Image.Image, density: float, seed: int) -> Image.Image:
    import numpy as np

    pixels = np.array(image)
    rng = np.random.default_rng(seed)
    pixels[rng.random(pixels.shape) < density] = 0
    pixels[rng.random(pixels.shape) < density] = 255
    return Image.fromarray(pixels)


def fictional_paragraphs() -> list[str]:
    """Paragraphs of the demo corpus and the relation sentences, and RUSSIAN."""
    import yaml

    from kartoteka.registry.readers import RawDocument, discover, read_path

    paras: list[str] = []
    for path in discover([str(ROOT / "kartoteka" / "demo" / "corpus")]):
        if isinstance(path, Path):
            for doc in read_path(path):
                if isinstance(doc, RawDocument):
                    paras.extend(" ".join(p.replace("*", "").split()) for p in doc.text.split("\n\n") if p.strip())
    data = yaml.safe_load((ROOT / "bench" / "relations" / "sentences.yml").read_text(encoding="utf-8"))
    sentences = [str(item[0]) for item in data["sentences"]]
    for i in range(0, len(sentences), 4):
        paras.append(" ".join(sentences[i : i + 4]))
    paras.extend(" ".join(RUSSIAN[i : i + 2]) for i in range(0, len(RUSSIAN), 2))
    return [p.lstrip("# ") for p in paras if len(p) > 3]


def pages(n: int, dpi: int, seed: int = 7) -> Iterator[tuple[Image.Image, str]]:
    rng = random.Random(seed)
    paras = fictional_paragraphs()
    for i in range(n):
        chosen = rng.sample(paras, k=min(len(paras), 14))
        # Every page carries Russian, so both languages are always measured.
        chosen.insert(rng.randrange(3), " ".join(rng.sample(RUSSIAN, 2)))
        yield scan_page(chosen, dpi=dpi, angle=rng.uniform(-3.0, 3.0), seed=seed * 1000 + i)


def _cpu_seconds() -> float:
    # This process and its finished children (every Tesseract run).
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _run(path: Path, workers: int, sources: list[str]) -> tuple[list[float], float, float]:
    from kartoteka.registry.readers import RawDocument, read_path

    started, cpu = time.perf_counter(), _cpu_seconds()
    [doc] = list(read_path(path, workers=workers))
    elapsed, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    if not isinstance(doc, RawDocument):
        raise SystemExit(doc.message)
    texts = doc.text.rstrip("\n").split("\f")
    assert len(texts) == len(sources), (len(texts), len(sources))
    return [cer(s, t) for s, t in zip(sources, texts, strict=True)], elapsed, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=10)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--dpi", default="200,300")
    args = ap.parse_args()
    from fpdf import FPDF

    from kartoteka.registry.ocr import check_tesseract

    print(
        f"tesseract {check_tesseract()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{args.pages} A4 pages per run, workers={args.workers}\n"
    )
    print("| input | scan dpi | pages | CER median | CER mean | CER worst | pages/min | CPU s/page | load |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        for dpi in (int(d) for d in args.dpi.split(",")):
            images, sources = zip(*pages(args.pages, dpi), strict=True)
            tiff = Path(tmp) / f"scan-{dpi}.tif"
            images[0].save(tiff, save_all=True, append_images=list(images[1:]), compression="tiff_lzw", dpi=(dpi, dpi))
            pdf = FPDF(unit="in", format=A4_INCHES)
            for image in images:
                pdf.add_page()
                buf = io.BytesIO()
                image.save(buf, format="PNG")
                pdf.image(buf, x=0, y=0, w=A4_INCHES[0], h=A4_INCHES[1])
            pdf_path = Path(tmp) / f"scan-{dpi}.pdf"
            pdf.output(str(pdf_path))
            for label, path in (("TIFF", tiff), ("PDF (rendered at 300 dpi)", pdf_path)):
                rates, elapsed, cpu = _run(path, args.workers, list(sources))
                print(
                    f"| {label} | {dpi} | {len(rates)} | {statistics.median(rates):.2%} | "
                    f"{statistics.fmean(rates):.2%} | {max(rates):.2%} | {len(rates) / elapsed * 60:.1f} | "
                    f"{cpu / len(rates):.2f} | {os.getloadavg()[0]:.1f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
