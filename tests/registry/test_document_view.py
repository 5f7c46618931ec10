"""The `show --json` contract, and banners that fail closed."""

from __future__ import annotations

from pathlib import Path

import pytest

from kartoteka.archive import Archive
from kartoteka.errors import NotFound
from kartoteka.registry.readers import RawDocument

REPORT = """SECRET

1. (U) The station reported that Arkady Zorin arrived in Lisbon.

2. The unmarked paragraph names Yelena Vetrova.

3. (S//HUM) Source ORCHARD met Zorin at the harbour.

SECRET
"""


def _archive(tmp_path: Path, markings: str = "enforce") -> tuple[Archive, str]:
    arch = Archive(tmp_path / f"{markings}.db")
    (result,) = list(
        arch.ingest(iter([RawDocument("report.txt", "text", "kartoteka.reader.text.v1", REPORT)]), markings=markings)
    )
    arch.add_user("clerk", "U", [])
    arch.add_user("analyst", "S", [])
    assert result.document_id
    return arch, result.document_id


def test_contract_fields_and_numbering(tmp_path: Path) -> None:
    arch, doc_id = _archive(tmp_path)
    d = arch.document(doc_id)
    assert {"document_id", "source", "label", "pages", "portions", "markings", "mentions"} <= set(d)
    assert [p["n"] for p in d["portions"]] == list(range(1, len(d["portions"]) + 1))
    for p in d["portions"]:
        assert {"n", "page", "mark", "label", "boilerplate", "text"} <= set(p)
    for m in d["markings"]:
        text = d["portions"][m["portion"] - 1]["text"]
        assert 0 <= m["start"] < m["end"] <= len(text)
    for m in d["mentions"]:
        text = d["portions"][m["portion"] - 1]["text"]
        assert text[m["start"] : m["end"]] == m["text"]
    assert d["markings_mode"] == "enforce"
    arch.close()


def test_a_viewer_sees_no_gaps_and_no_hidden_lengths(tmp_path: Path) -> None:
    arch, doc_id = _archive(tmp_path)
    # A SECRET-bannered report is SECRET as a whole: a clerk cleared for U is
    # told exactly what a missing document gives (declassification is a release).
    clerk = Archive(tmp_path / "enforce.db", user="clerk")
    with pytest.raises(NotFound) as hidden:
        clerk.document(doc_id)
    with pytest.raises(NotFound) as missing:
        clerk.document("doc-0000000000000000")
    assert hidden.value.message.replace(doc_id, "X") == missing.value.message.replace("doc-0000000000000000", "X")
    clerk.close()
    analyst = Archive(tmp_path / "enforce.db", user="analyst")
    d = analyst.document(doc_id)
    texts = [p["text"] for p in d["portions"] if p["kind"] == "text"]
    assert any("Arkady Zorin" in t for t in texts)
    # Unmarked, in a report that marks its portions: the report's overall
    # classification, the join of its marks (S//HUM), never UNCLASSIFIED; so
    # hidden from an analyst without HUM like the (S//HUM) paragraph itself.
    assert not any("Vetrova" in t for t in texts)
    assert not any("ORCHARD" in t for t in texts)  # (S//HUM): the analyst holds no HUM
    assert [p["n"] for p in d["portions"]] == list(range(1, len(d["portions"]) + 1))
    # Rolled up from what the analyst sees: the (U) paragraph alone.
    assert d["label"] == "UNCLASSIFIED" and "classification" not in d and "encoding" not in d
    assert "ORCHARD" not in str(d) and "HUM" not in str(d)
    analyst.close()
    arch.add_user("handler", "S", ["HUM"])
    handler = Archive(tmp_path / "enforce.db", user="handler")
    unmarked = next(p for p in handler.document(doc_id)["portions"] if "Vetrova" in p["text"])
    assert unmarked["label"] == "S:HUM" and unmarked["mark"] is None
    handler.close()
    arch.close()


def test_record_mode_keeps_markings_as_history(tmp_path: Path) -> None:
    arch, doc_id = _archive(tmp_path, markings="record")
    clerk = Archive(tmp_path / "record.db", user="clerk")
    d = clerk.document(doc_id)
    assert d["markings_mode"] == "record"
    assert any("ORCHARD" in p["text"] for p in d["portions"])  # a released collection: all readable
    assert any(p["mark"] == "(S//HUM)" for p in d["portions"])  # the mark is kept as history
    clerk.close()
    arch.close()


def test_a_missing_document_error_speaks_of_a_document(tmp_path: Path) -> None:
    arch, _ = _archive(tmp_path)
    with pytest.raises(NotFound) as err:
        arch.document("doc-0000000000000000")
    assert "document" in str(err.value.message).lower() and "entity" not in str(err.value.message).lower()
    arch.close()
