"""What a folder walk or a PDF could not read is said, one line each, and the batch goes on (issue 11, item 9)."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from kartoteka.cli import app
from kartoteka.registry.readers import RawDocument, ReadError, discover, read_path
from tests.cli.conftest import runner

NOBODY = 65534


@pytest.fixture
def tree() -> Iterator[Path]:
    """A folder with good files, broken links, a link back up, and a linked folder.

    Made under /tmp with mode 755 (not pytest's 700 tmp_path) so that an
    unprivileged child process can walk it too.
    """
    root = Path(tempfile.mkdtemp(prefix="kartoteka-tree-"))
    root.chmod(0o755)
    (root / "sub").mkdir()
    (root / "elsewhere").mkdir()
    (root / "a.txt").write_text("Colonel Arkady Zorin arrived in Lisbon in March 1977.\n")
    (root / "sub" / "b.txt").write_text("General Oleg Kalugin met the resident in Vienna.\n")
    (root / "elsewhere" / "c.txt").write_text("Jelena Wetrowa kept the station's files.\n")
    (root / "dangling.txt").symlink_to("nowhere.txt")
    (root / "loop1.txt").symlink_to("loop2.txt")
    (root / "loop2.txt").symlink_to("loop1.txt")
    (root / "sub" / "up").symlink_to("..")
    (root / "linked").symlink_to("elsewhere")
    yield root
    if (root / "locked").exists():
        (root / "locked").chmod(0o755)
    shutil.rmtree(root)


def test_broken_links_are_reported_and_the_batch_goes_on(tree: Path, tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    r = runner.invoke(app, ["--archive", str(db), "ingest", str(tree), "--json"])
    assert r.exit_code == 1, r.output  # errors were met
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    stored = sorted(Path(x["source"]).relative_to(tree).as_posix() for x in rows if x["status"] == "added")
    # The linked folder is read (once: it is also reachable as elsewhere/).
    assert stored == ["a.txt", "elsewhere/c.txt", "sub/b.txt"]
    errors = {Path(x["source"]).relative_to(tree).as_posix(): x["error"] for x in rows if x["status"] == "error"}
    assert set(errors) == {"dangling.txt", "loop1.txt", "loop2.txt", "sub/up"}
    assert "points to nowhere.txt, which does not exist" in errors["dangling.txt"]
    assert "loops" in errors["loop1.txt"] and "leads back to" in errors["sub/up"]
    assert all(e.startswith("[E115]") for e in errors.values())
    # One JSON object on stderr each (under --json), the same code and text as the document's.
    err_lines = [json.loads(line) for line in r.stderr.strip().splitlines()]
    assert sorted(f"[{e['error']}] {e['message']}" for e in err_lines) == sorted(errors.values())


def _discover_as_nobody(paths: list[str]) -> list[str]:
    """discover() in a child process without root's power to read any folder."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        status = 1
        try:
            os.close(read)
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            found = [x.message if isinstance(x, ReadError) else str(x) for x in discover(paths)]
            os.write(write, json.dumps(found).encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write)
    with os.fdopen(read, "rb") as fh:
        data = fh.read()
    _, status = os.waitpid(pid, 0)
    assert status == 0
    return list(json.loads(data))


def test_an_unreadable_folder_is_reported(tree: Path) -> None:
    locked = tree / "locked"
    locked.mkdir()
    (locked / "secret.txt").write_text("Nobody reads this.\n")
    locked.chmod(0)
    found = (
        _discover_as_nobody([str(tree)])
        if os.geteuid() == 0
        else [x.message if isinstance(x, ReadError) else str(x) for x in discover([str(tree)])]
    )
    problems = [x for x in found if x.startswith("[E114]")]
    assert len(problems) == 1 and str(locked) in problems[0] and "Permission denied" in problems[0]
    assert str(tree / "a.txt") in found  # the walk went on


def _pdf(pages: list[str]) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_compression(False)  # plain content streams, so a test can damage one
    for text in pages:
        pdf.add_page()
        pdf.set_font("helvetica", size=12)
        if text:
            pdf.cell(text=text)
    return bytes(pdf.output())


PAGES = [
    "Page one: Colonel Arkady Zorin arrived in Lisbon in March 1977 and met the resident.",
    "Page two: General Oleg Kalugin met him at the embassy and heard his report in full.",
    "Page three: Jelena Wetrowa filed the report with the registry the following week.",
]


def _garbage_page_two(data: bytes) -> bytes:
    streams = [m for m in re.finditer(rb"stream\n(.*?)\nendstream", data, re.S) if b"BT" in m.group(1)]
    m = streams[1]
    return data[: m.start(1)] + b"\xff" * len(m.group(1)) + data[m.end(1) :]


def _missing_page_two(data: bytes) -> bytes:
    refs = list(re.finditer(rb"/Contents (\d+) 0 R", data))
    m = refs[1]
    return data[: m.start()] + b"/Contents 999 0 R".ljust(len(m.group(0))) + data[m.end() :]


@pytest.mark.parametrize(("damage", "reason"), [(_garbage_page_two, "can't be parsed"), (_missing_page_two, "999")])
def test_a_pdf_page_that_cannot_be_read_is_reported(tmp_path: Path, damage: object, reason: str) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(damage(_pdf(PAGES)))  # type: ignore[operator]
    [doc] = list(read_path(path, ocr="never"))
    assert isinstance(doc, RawDocument)
    assert "Zorin" in doc.text and "Wetrowa" in doc.text and "Kalugin" not in doc.text
    [warning] = doc.warnings
    assert warning.startswith(f"[E008] {path} page 2: the text layer can't be read") and reason in warning
    r = runner.invoke(app, ["--archive", str(tmp_path / "k.db"), "ingest", str(path), "--ocr", "never"])
    assert r.exit_code == 0, r.output
    assert r.stderr.strip().splitlines() == [warning]


def test_a_sound_pdf_and_a_blank_page_give_no_warning(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(_pdf([PAGES[0], "", PAGES[2]]))
    [doc] = list(read_path(path, ocr="never"))
    assert isinstance(doc, RawDocument) and doc.warnings == ()
