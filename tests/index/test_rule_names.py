"""The person rules after the NER (`kartoteka.extract.person_rules.v1`): a
titled name or a known given name before a family name, where the model
found nothing; fictional texts."""

from kartoteka.index.extract import Found, rule_names


def texts(text: str, found: list[Found] | None = None) -> list[str]:
    return [f.text for f in rule_names(text, found or [])]


def test_title_before_a_family_name() -> None:
    assert texts("Mr. Wallach. I will ask Mr. Rhea to begin.") == ["Mr. Wallach", "Mr. Rhea"]


def test_known_given_name_before_a_known_family_name() -> None:
    assert texts("a call from Polly Payne, in the office of") == ["Polly Payne"]


def test_ocr_junk_and_words_after_a_title_are_no_names() -> None:
    assert texts("Lt. Gol said that General Nenager and Agent Service Record") == []


def test_a_span_the_model_labelled_is_left_alone() -> None:
    text = "a call from Polly Payne, in the office of"
    start = text.index("Polly")
    assert texts(text, [Found(start, start + 11, "Polly Payne", "ORG")]) == []
