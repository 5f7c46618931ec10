"""Release copies: every format, every withheld string, nothing else leaking."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kartoteka.archive import Archive
from kartoteka.errors import KartotekaError
from kartoteka.release import FORMATS, MARKER, extract_text
from tests.access.test_policy import OPEN_REPORT, _doc

REPORT = (
    OPEN_REPORT
    + """
(S) The station chief Pavel Grigoryevich Orlov kept a second apartment on Rua Augusta, a fact known to three officers.

(C) Orlov's driver was a Portuguese national.
"""
)
WITHHELD_FOR_U = [
    "The agent Boris Kovalenko reported that Zorin was recalled to Moscow.",
    "The station chief Pavel Grigoryevich Orlov kept a second apartment on Rua Augusta, a fact known to three officers.",
    "Orlov's driver was a Portuguese national.",
]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("release") / "r.db"
    arch = Archive(path)
    [result] = list(arch.ingest([_doc("report.txt", REPORT)]))
    arch.add_user("clerk", "C", [])
    arch.close()
    assert result.document_id
    return path, result.document_id


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("audience", ["U", "clerk", "S:HUM"])
def test_every_withheld_string_is_absent_from_every_format(
    archive: tuple[Path, str], tmp_path: Path, fmt: str, audience: str
) -> None:
    path, doc = archive
    arch = Archive(path)
    try:
        data, name, copy = arch.release(doc, audience, fmt)
        target = tmp_path / name
        target.write_bytes(data)
        text = extract_text(data, fmt)
        expected_withheld = {"U": 3, "clerk": 2, "S:HUM": 0}[audience]
        assert copy.withheld == expected_withheld
        withheld = WITHHELD_FOR_U if audience == "U" else WITHHELD_FOR_U[:2] if audience == "clerk" else []
        for passage in withheld:
            for word in ("Kovalenko", "Augusta", "Grigoryevich", "driver"):
                if word in passage:
                    assert word not in text, (fmt, audience, word)
            assert passage[:30] not in text
        assert text.count(MARKER) >= expected_withheld
        # The verifier agrees, and catches a copy meant for someone cleared higher.
        assert arch.verify_release(target, doc)["leaks"] == []
        if audience != "U":
            assert arch.verify_release(target, doc, audience="U")["leaks"]
        # The file name says nothing about the content.
        assert re.fullmatch(r"release-doc-[0-9a-f]+-[A-Za-z0-9-]+\." + fmt, name)
    finally:
        arch.close()


def test_markers_have_one_width_and_carry_exemption_codes(archive: tuple[Path, str]) -> None:
    path, doc = archive
    arch = Archive(path)
    try:
        data, _, _ = arch.release(doc, "U", "txt")
        lines = [ln for ln in data.decode().splitlines() if ln.startswith("[")]
        assert lines == ["[ ]  50X1-HUM", "[ ]  25X1", "[ ]  25X1"]
        data, _, _ = arch.release(doc, "U", "txt", exempt="25X6")
        assert [ln for ln in data.decode().splitlines() if ln.startswith("[")] == ["[ ]  25X6"] * 3
        assert data.decode().splitlines()[0] == "UNCLASSIFIED"
    finally:
        arch.close()


def test_pdf_carries_no_revealing_metadata(archive: tuple[Path, str]) -> None:
    from io import BytesIO

    from pypdf import PdfReader

    path, doc = archive
    arch = Archive(path)
    try:
        data, _, _ = arch.release(doc, "U", "pdf")
    finally:
        arch.close()
    reader = PdfReader(BytesIO(data))
    meta = {k: str(v) for k, v in (reader.metadata or {}).items()}
    assert "Kovalenko" not in str(meta) and "report.txt" not in str(meta)
    assert not reader.outline
    assert b"Kovalenko" not in data


def test_release_needs_sight_of_the_document_and_is_audited(archive: tuple[Path, str]) -> None:
    path, doc = archive
    clerk = Archive(path, user="clerk")
    try:
        # The clerk sees the document (it is U) but not its S portions: they are not
        # the clerk's to release, so they are left out, not even marked.
        _, _, copy = clerk.release(doc, "U", "txt")
        assert copy.withheld == 1  # only the C portion, withheld from U
        with pytest.raises(KartotekaError, match="E020"):
            clerk.release("doc-0000000000000000", "U", "txt")
        with pytest.raises(KartotekaError, match="E045"):
            clerk.release(doc, "U", "docx")
    finally:
        clerk.close()
    owner = Archive(path)
    try:
        assert owner.audit_verify()["ok"]
    finally:
        owner.close()
