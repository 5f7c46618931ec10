import gzip
import io
import json
from pathlib import Path

import pytest

from kartoteka.registry.readers import RawDocument, ReadError, discover, read_path, read_stdin


def read_one(path: Path) -> RawDocument | ReadError:
    return next(iter(read_path(path)))


def test_txt_md(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Oleg Kalugin met Putin.\n")
    (tmp_path / "b.md").write_text("# Title\n\nText.\n")
    a, b = read_one(tmp_path / "a.txt"), read_one(tmp_path / "b.md")
    assert isinstance(a, RawDocument) and "Kalugin" in a.text and a.format == "text"
    assert isinstance(b, RawDocument) and b.format == "markdown"


def test_cp1252_fallback(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes("Caf\xe9 Brasileira".encode("cp1252"))
    doc = read_one(tmp_path / "a.txt")
    assert isinstance(doc, RawDocument) and "Café" in doc.text


def test_html_keeps_paragraphs_drops_scripts(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text(
        "<html><head><title>T</title><script>var x='Evil';</script></head>"
        "<body><p>First para.</p><p>Second para.</p></body></html>"
    )
    doc = read_one(tmp_path / "a.html")
    assert isinstance(doc, RawDocument)
    assert doc.title == "T" and "Evil" not in doc.text
    assert "First para.\n\nSecond para." in doc.text


def test_pdf_text_layer(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.multi_cell(0, 10, "SECRET\n\n(S) Arkady Zorin met Duarte Mendes in Lisbon.")
    pdf.output(str(tmp_path / "r.pdf"))
    doc = read_one(tmp_path / "r.pdf")
    assert isinstance(doc, RawDocument) and "Arkady Zorin" in doc.text and doc.format == "pdf"


def test_docx(tmp_path: Path) -> None:
    import docx

    d = docx.Document()
    d.add_paragraph("Interview with Grigory Bortnik.")
    d.add_paragraph("Bortnik: Zorin was demanding.")
    d.save(str(tmp_path / "i.docx"))
    doc = read_one(tmp_path / "i.docx")
    assert isinstance(doc, RawDocument) and "Grigory Bortnik" in doc.text and "\n\n" in doc.text


def test_eml(tmp_path: Path) -> None:
    (tmp_path / "m.eml").write_text(
        "From: station@example.org\nTo: hq@example.org\nSubject: Traces on Mendes\n"
        "Content-Type: text/plain; charset=utf-8\n\nRequest traces on Duarte Mendes.\n"
    )
    doc = read_one(tmp_path / "m.eml")
    assert isinstance(doc, RawDocument)
    assert doc.title == "Traces on Mendes" and "Subject: Traces on Mendes" in doc.text and "Duarte Mendes" in doc.text


def test_jsonl_and_gz_with_bad_lines(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "r1", "text": "one"}),
        "not json",
        json.dumps({"id": "r2"}),
        json.dumps({"id": 3, "text": "three"}),
    ]
    (tmp_path / "c.jsonl").write_text("\n".join(lines) + "\n")
    with gzip.open(tmp_path / "c.jsonl.gz", "wt") as fh:
        fh.write("\n".join(lines) + "\n")
    for name in ("c.jsonl", "c.jsonl.gz"):
        out = list(read_path(tmp_path / name))
        docs = [o for o in out if isinstance(o, RawDocument)]
        errors = [o for o in out if isinstance(o, ReadError)]
        assert [d.source for d in docs] == ["r1", "3"]
        assert len(errors) == 2
        assert all(name in e.message and "line" in e.message for e in errors)


def test_bad_files_give_one_line_errors(tmp_path: Path) -> None:
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 this is not a pdf")
    (tmp_path / "broken.docx").write_bytes(b"PK not a zip")
    (tmp_path / "empty.txt").write_text("   \n")
    (tmp_path / "x.xyz").write_text("?")
    for name in ("broken.pdf", "broken.docx", "empty.txt", "x.xyz"):
        out = read_one(tmp_path / name)
        assert isinstance(out, ReadError), name
        assert name in out.message and "\n" not in out.message and out.message.startswith("[E00")


def test_discover_recursive_and_missing(tmp_path: Path) -> None:
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / "sub" / "deeper" / "a.txt").write_text("x")
    (tmp_path / "sub" / "b.md").write_text("y")
    (tmp_path / "sub" / "ignored.bin").write_bytes(b"\0")
    found = list(discover([str(tmp_path), str(tmp_path / "nope")]))
    assert [p.name for p in found if isinstance(p, Path)] == ["b.md", "a.txt"] or sorted(
        p.name for p in found if isinstance(p, Path)
    ) == ["a.txt", "b.md"]
    assert any(isinstance(p, ReadError) and "nope" in p.message for p in found)


@pytest.mark.parametrize(
    "data,kind", [(b"Plain text from a pipe.\n", "text"), (b'{"id": "x1", "text": "t"}\n', "jsonl")]
)
def test_stdin(data: bytes, kind: str) -> None:
    out = list(read_stdin(io.BytesIO(data)))
    assert isinstance(out[0], RawDocument) and out[0].format == kind
