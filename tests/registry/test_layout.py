"""Paragraphs rebuilt from OCR lines; portion marks after numbers; pages."""

from __future__ import annotations

from kartoteka.registry.layout import starts_paragraph
from kartoteka.registry.line_cues import bracket_closes_phrase, cues, routing_list, word_share
from kartoteka.registry.structure import analyse, masked_text
from kartoteka.vocab import markings

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


# Cues of layout v2, each from a kind of error read in the development files
# of bench/layout (the examples here are fictional).


def _joined(text: str, *pieces: str) -> bool:
    """Do all these pieces of text stand in one portion?"""
    return any(all(piece in p.text for piece in pieces) for p in analyse(text).portions)


def test_word_share_tells_prose_from_ocr_noise() -> None:
    assert word_share("The officer met the source at the harbour in May 1977.") > 0.9
    assert word_share("pee MAILROOM({_] ‘TELETYPE uniT (- 4 ize wey") < 0.3  # the OCR of a smudge
    assert word_share("ees natelinea oa _ ie fe sa wu the") < 0.5
    assert cues().joining_words >= {"on", "of", "with"}  # YAML must not read `on` as true


def test_a_noise_line_stands_alone() -> None:
    text = "The station reported that the pictures were\npee MAILROOM({_] ‘TELETYPE uniT (- 4 ize wey\n"
    assert not _joined(text, "pictures were", "MAILROOM")


def test_a_lower_case_line_after_a_capitals_heading_is_not_its_wrap() -> None:
    text = "NO FOREIGN DISSEM\ncountry Cuba report of the station\n"
    assert not _joined(text, "DISSEM", "country Cuba")


def test_specks_before_a_paragraph_number_and_a_comma_for_its_period() -> None:
    pm = markings().portion_mark
    assert starts_paragraph("“2. For the station: note the paragraph", pm)
    assert starts_paragraph(". 1. IDEN A telephoned IDEN B", pm)
    assert starts_paragraph("2, VARELA, a Caucasian, was born about 1930", pm)
    assert not starts_paragraph("1963, the year of the visit", pm)


def test_a_given_name_at_a_line_end_is_not_cut_from_the_surname() -> None:
    text = "The report was signed for the station by Ivan\n\n. Petrov\n\n2. Next paragraph.\n"
    assert _joined(text, "by Ivan", "Petrov")


def test_an_abbreviation_in_a_cable_ends_no_sentence() -> None:
    text = "SOURCE KNOWN TO THE FBI AS ONE NAMED FR.\n\nFRANCISCO RODRIGUEZ OF MIAMI.\n"
    assert _joined(text, "NAMED FR.", "FRANCISCO")


def test_cable_lines_in_capitals_join_on_a_connecting_word() -> None:
    text = (
        "2. BOTH SUBJECTS ARRESTED UPON ARRIVAL FROM MIAMI\n\n"
        "ON 15 MAY AND PRESENTLY DETAINED BY THE POLICE.\n\n"
        "3. REQUEST TRACES.\n"
    )
    assert _joined(text, "FROM MIAMI", "ON 15 MAY")
    assert not _joined(text, "POLICE", "REQUEST")


def test_a_field_key_alone_takes_the_next_line_as_its_value() -> None:
    text = "TITLE:\nDATE: 06/09/1967\nSUBJECTS :\nLCN, MAFIA, MEMBERS\nDOCUMENT TYPE: PAPER\n"
    assert _joined(text, "SUBJECTS", "LCN, MAFIA")
    assert not _joined(text, "TITLE", "DATE")  # a key followed by another field
    assert not _joined(text, "MEMBERS", "DOCUMENT TYPE")


def test_a_subject_line_ending_in_a_colon_goes_on() -> None:
    text = "SUBJECT: Garrison and the Kennedy Assassination:\nInterview of Garrison on Dutch TV\n\n1. Text.\n"
    assert _joined(text, "SUBJECT", "Interview of Garrison")


def test_the_tail_of_a_sentence_after_a_full_line() -> None:
    text = (
        "This is to advise you of security action in the subject case as indicated\n"
        "below:\n\n"
        "Security approval is granted the subject person for access to classified\n"
        "information.\n"
    )
    assert _joined(text, "as indicated", "below:")
    assert _joined(text, "classified", "information.")


def test_a_paragraph_number_on_a_line_of_its_own() -> None:
    text = "1.\n\nTransmitted herewith are the following reports.\n\n2. Next.\n"
    assert _joined(text, "1.", "Transmitted")


def test_an_open_bracket_goes_on_into_the_next_line() -> None:
    text = "of the Direccion General de Inteligencia (DGI =\n\nGeneral Directorate of Intelligence).\n"
    assert _joined(text, "(DGI", "General Directorate")


def test_a_connecting_word_goes_on_into_a_line_shaped_like_a_field() -> None:
    text = "4. WE DID NOT DISCUSS INFO CONTAINED REF A WITH\nCONSULATE FOR TWO REASONS: INFO CAME LATE.\n"
    assert _joined(text, "WITH", "CONSULATE")


def test_a_connecting_word_in_noise_joins_nothing() -> None:
    prose = "The station will advise headquarters of the outcome of the meeting with the source.\n"
    text = prose * 3 + "\nees natelinea oa _ ie fe sa wu the\nStation officer replied to the cable.\n"
    assert not _joined(text, "natelinea", "Station officer")


def test_a_dropped_line_on_a_single_spaced_page() -> None:
    full = "The majority opinion among the Embassy staff at The Hague is that he was credible"
    text = (
        "1. Reference B says that the press was generally favourable and that many\n"
        "comments noted he seemed logical and in control of his facts overall.\n"
        f"{full}\n\n"
        "Dutch viewers in large numbers, said the attache.\n\n"
        "2. The Station has no further comment on the programme or on Garrison.\n"
        "It will report any follow-up of the interview by the Dutch television.\n"
    )
    assert _joined(text, "he was credible", "Dutch viewers")
    assert not _joined(text, "attache", "2. The Station")


# Cues of layout v3, from the development files 00-49 (examples fictional).


def test_a_subject_title_goes_on_straight_below_it() -> None:
    text = "SUBJECT: Political Action in Odessa - The\nVARGA Case\n\n1. The station reports.\n"
    assert _joined(text, "The", "VARGA Case")
    assert not _joined(text, "VARGA Case", "station reports")  # after a blank line comes the text


def test_a_date_key_alone_takes_the_date_below_it() -> None:
    text = "Date:\n6/1/1964\nDistribution:\nOrig & 1 - Addressee\n"
    assert _joined(text, "Date:", "6/1/1964")
    assert not _joined(text, "Distribution:", "Orig & 1")  # other keys alone head a list


def test_column_headings_stacked_in_two_rows_are_one_heading() -> None:
    text = "DATE DATE\nRECEIVED | RETURNED\n"
    assert _joined(text, "DATE DATE", "RECEIVED")


def test_a_number_that_ends_a_sentence_is_its_tail() -> None:
    full = "The officer reported that the source had first been seen in the port in June,"
    text = f"{full}\n\n1963.\n\n2. Next paragraph of the report on the source.\n"
    assert _joined(text, "in June,", "1963.")
    assert not _joined(text, "1963.", "2. Next")


def test_a_cable_surname_ending_its_sentence_is_its_tail() -> None:
    full = "2. SOURCE STATED THAT THE GROUP WAS LED BY ANTON MIKHAILOVICH AND PAVEL"
    text = f"{full}\n\nGRISHENKO.\n\n3. REQUEST TRACES.\n"
    assert _joined(text, "AND PAVEL", "GRISHENKO.")
    assert not _joined(text, "GRISHENKO.", "REQUEST")


def test_a_bracket_closing_a_full_line_ends_no_sentence() -> None:
    assert bracket_closes_phrase("liaison with the Central Intelligence Agency (CIA)")
    assert not bracket_closes_phrase("as the station reported (see below.)")


# Cues of layout v4, from the development files 50-69 (examples fictional).


def test_a_line_ending_dated_takes_the_date_below_it() -> None:
    text = "References:\n\nA. Letter from the Committee (OLC 64-1021) dated\n18 August 1964\n\nB. Memorandum\n"
    assert _joined(text, "dated", "18 August 1964")
    assert not _joined(text, "18 August 1964", "B. Memorandum")


def test_a_cables_distribution_list_is_told_from_a_list_of_names() -> None:
    assert routing_list("INFO: DCI, D/DCI, EX/DIR, DDP, CS/RF,")
    assert routing_list("VR, FILE, CA/PEG, CA/PROP, CI/OPS, CI/IC 2, FI/D")
    assert not routing_list("Present were Petrov, Smith, Jones and Brown,")
    assert not routing_list("MOSCOW, LENINGRAD, KIEV,")  # capitals, but no office code
