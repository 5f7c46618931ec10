"""Paragraphs rebuilt from OCR lines; portion marks after numbers; pages."""

from __future__ import annotations

from kartoteka.registry.structure import analyse, masked_text

# A double-spaced OCR page: every line followed by a blank line, as in the
# JFK OCR text. Fictional.
DOUBLE_SPACED = """MEMORANDUM FOR THE RECORD

SUBJECT: Contact with ZORIN

1. On 12 March 1977 the officer met Pavel Sergeyevich ZORIN at the

residence of the Portuguese attaché in Lisbon. ZORIN said that he had

been told by Colonel LYNDON B.

JOHNSON of the visiting delegation that the meeting was known in Moscow.

2. ZORIN asked for another meeting in April.

"""

MARKED = """SECRET

1. (S) First paragraph about the station's contact in Lisbon, which
runs over two lines.

2. (S//HUM) Source ORCHARD, true name withheld, reported the meeting.

a. (C//NF) A lettered sub-paragraph.

(2) (U) A parenthesised number.

3. An unmarked paragraph.

SECRET
"""


def _texts(text: str) -> list[str]:
    return [" ".join(p.text.split()) for p in analyse(text).portions if p.kind == "text"]


def test_double_spaced_lines_join_into_paragraphs() -> None:
    texts = _texts(DOUBLE_SPACED)
    assert texts[0] == "MEMORANDUM FOR THE RECORD"
    assert texts[1] == "SUBJECT: Contact with ZORIN"
    assert texts[2].startswith("1. On 12 March 1977") and texts[2].endswith("known in Moscow.")
    assert "LYNDON B. JOHNSON" in texts[2]  # the name is not cut at the line end
    assert texts[3] == "2. ZORIN asked for another meeting in April."
    assert len(texts) == 4


def test_portion_marks_after_paragraph_numbers_and_letters() -> None:
    st = analyse(MARKED)
    marked = [(p.mark, p.level, p.tokens) for p in st.portions if p.kind == "text"]
    assert marked == [
        ("(S)", "S", ()),
        ("(S//HUM)", "S", ("HUM",)),
        ("(C//NF)", "C", ("NF",)),
        ("(U)", "U", ()),
        (None, None, ()),
    ]
    p = next(p for p in st.portions if p.mark == "(S//HUM)")
    mark = next(m for m in p.markings if m.kind == "portion_mark")
    assert MARKED[mark.start : mark.end] == "(S//HUM)"
    assert "ORCHARD" in masked_text(p) and "(S//HUM)" not in masked_text(p)


def test_a_marked_paragraph_over_a_page_break_is_one_portion() -> None:
    text = (
        "SECRET\n\n(S//HUM) The source reported that the meeting with the officer from the\n"
        "embassy took place at the harbour and that the\n\nSECRET\n-2-\f"
        "SECRET\n\nofficer carried documents from the consulate.\n\n(U) Next paragraph.\n"
    )
    st = analyse(text)
    texts = [p for p in st.portions if p.kind == "text"]
    assert len(texts) == 2
    first = texts[0]
    assert first.mark == "(S//HUM)" and first.page == 1
    assert "consulate" in first.text
    masked = masked_text(first)
    assert "-2-" not in masked and "SECRET" not in masked  # footer and banner inside are structure
    assert texts[1].page == 2
    for p in st.portions:
        assert text[p.start : p.end] == p.text


def test_form_feed_pages_and_footers_number_pages() -> None:
    text = "First page text.\fSecond page text.\n\nNW 88608 DocId:32312675 Page 2\n\nThird page text.\n"
    pages = [(p.text.strip(), p.page) for p in analyse(text).portions]
    assert pages[0] == ("First page text.", 1)
    assert pages[1] == ("Second page text.", 2)
    assert pages[2][1] == 2  # the footer stands on the page it numbers
    assert pages[3] == ("Third page text.", 3)


def test_one_huge_line_is_cut_and_keeps_its_mark() -> None:
    sentence = "The officer met the source at the harbour again. "
    text = "(S//HUM) " + sentence * 40000 + "\n"  # about 2 MB on one line
    st = analyse(text)
    texts = [p for p in st.portions if p.kind == "text"]
    assert len(texts) > 100
    assert all(len(p.text) <= 3000 for p in texts)
    assert all(p.mark == "(S//HUM)" and p.level == "S" for p in texts)
    for p in texts[:5]:
        assert text[p.start : p.end] == p.text


def test_known_stamps_are_boilerplate_kept_as_text() -> None:
    text = (
        "Released under the John F. Kennedy\n"
        "Assassination Records Collection Act of 1992 (44 USC 2107 Note).\n\n"
        "The officer met ZORIN in Lisbon.\n"
    )
    st = analyse(text)
    stamp = [p for p in st.portions if p.boilerplate]
    assert stamp and all(p.kind == "text" for p in stamp)  # kept for search
    assert all(not masked_text(p).strip() for p in stamp)  # masked from extraction
    assert any("ZORIN" in masked_text(p) for p in st.portions if not p.boilerplate)


def test_a_line_split_from_a_marked_paragraph_keeps_its_mark() -> None:
    # The layout may end a paragraph after a short first line; the line after
    # it, with no blank line between, must not fall back to the document's label.
    text = "UNCLASSIFIED\n\n(U) Note.\n\n(S) Secret header.\nThe agent Kovalenko was recalled to Moscow in May.\n"
    st = analyse(text)
    kovalenko = next(p for p in st.portions if "Kovalenko" in p.text)
    assert kovalenko.mark == "(S)" and kovalenko.level == "S"
