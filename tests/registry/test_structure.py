from kartoteka.registry.structure import analyse, banner_level, masked_text

CREST = """SECRET

CIA-RDP81-00412R000300120007-4

(U) Summary paragraph.

(S//HUM) 2. [ ] Zorin met Mendes in 1977. 25X1

-2-

(TS//SI/TK) 3. Highly sensitive.

SEGRET
"""


def test_banners_including_ocr_damage() -> None:
    assert banner_level("SECRET").name == "SECRET"  # type: ignore[union-attr]
    assert banner_level("SEGRET").name == "SECRET"  # type: ignore[union-attr]
    assert banner_level("TOP SECRET").name == "TOP SECRET"  # type: ignore[union-attr]
    assert banner_level("CONFIDENTLAL").name == "CONFIDENTIAL"  # type: ignore[union-attr]
    assert banner_level("SECRET//NOFORN").name == "SECRET"  # type: ignore[union-attr]
    assert banner_level("S E C R E T").name == "SECRET"  # type: ignore[union-attr]
    assert banner_level("UNCLASSIFIED").name == "UNCLASSIFIED"  # type: ignore[union-attr]
    for text in ["Secret", "SECRETARY", "SECRET MEETING IN VIENNA", "The secret police"]:
        assert banner_level(text) is None, text


def test_portion_marks_exemptions_placeholders_pages_records() -> None:
    st = analyse(CREST)
    assert st.classification == "SECRET"
    kinds = [p.kind for p in st.portions]
    assert kinds.count("banner") == 2 and "page_marker" in kinds
    marked = [p for p in st.portions if p.mark]
    assert [(p.mark, p.level, p.tokens) for p in marked] == [
        ("(U)", "U", ()),
        ("(S//HUM)", "S", ("HUM",)),
        ("(TS//SI/TK)", "TS", ("SI", "TK")),
    ]
    all_marks = [(m.kind, m.value) for p in st.portions for m in p.markings]
    assert ("exemption", "25X1") in all_marks
    assert ("withheld", "[ ]") in all_marks
    assert ("page_marker", "-2-") in all_marks
    assert ("record_number", "crest:CIA-RDP81-00412R000300120007-4") in all_marks


def test_offsets_point_into_the_text() -> None:
    st = analyse(CREST)
    for p in st.portions:
        assert CREST[p.start : p.end] == p.text
        for m in p.markings:
            assert p.start <= m.start < m.end <= p.end


def test_markings_are_masked_from_extraction() -> None:
    st = analyse(CREST)
    p = next(p for p in st.portions if p.mark == "(S//HUM)")
    masked = masked_text(p)
    assert "25X1" not in masked and "[ ]" not in masked and "(S//HUM)" not in masked
    assert len(masked) == len(p.text) and "Zorin met Mendes" in masked


def test_long_lines_are_separate_paragraphs_and_wrapped_lines_are_not() -> None:
    long_para = ("word " * 40).strip() + "."
    text = f"{long_para}\n{long_para}\nshort wrapped\nline continues\n"
    st = analyse(text)
    assert len([p for p in st.portions if p.kind == "text"]) == 3


def test_seed_report_structure() -> None:
    from tests.conftest import SEEDS

    path = SEEDS / "003_19a9a6e3b8e7b20d.txt"
    if not path.exists():
        import pytest

        pytest.skip("../shared/seeds not present")
    st = analyse(path.read_text())
    marks = [m.kind for p in st.portions for m in p.markings]
    assert st.classification == "SECRET"
    assert marks.count("exemption") >= 10 and marks.count("withheld") >= 10
    assert "page_marker" in marks
