"""Real-world name forms (issue 13): a leading initial with the middle name
used, compound and particle family names, CIA conventions, Western names in
Cyrillic, common misspellings, and real names that are not damage of others."""

from __future__ import annotations

import pytest

from kartoteka.names.compare import LIKELY
from kartoteka.names.index import NameIndex
from kartoteka.names.parse import parse_name, readings
from kartoteka.names.script import skeleton_of_cyrillic, transcribe

PEOPLE = {
    "rankin": "J. Lee Rankin",
    "slawson": "W. David Slawson",
    "hoover": "J. Edgar Hoover",
    "hunt": "E. Howard Hunt",
    "duran": "Silvia Tirado de Duran",
    "castro": "Fidel Castro Ruz",
    "gaulle": "Charles de Gaulle",
    "braun": "Wernher von Braun",
    "oswald": "Lee Harvey Oswald",
    "angleton": "James Angleton",
    "kennedy": "John F. Kennedy",
    "nechiporenko": "Oleg Maksimovich Nechiporenko",
    "khrushchev": "Никита Хрущёв",
    "putin": "Vladimir Putin",
    "sylwia": "Sylwia Kuran",
}


@pytest.fixture(scope="module")
def index() -> NameIndex:
    ix = NameIndex()
    for eid, name in PEOPLE.items():
        ix.add(eid, name)
    return ix


@pytest.mark.parametrize(
    ("query", "expected", "rule"),
    [
        ("Lee Rankin", "rankin", "middle name used as given name"),
        ("David Slawson", "slawson", "middle name used as given name"),
        ("Edgar Hoover", "hoover", "middle name used as given name"),
        ("Howard Hunt", "hunt", "middle name used as given name"),
        ("Silvia Duran", "duran", "particle de absent"),
        ("Сильвия Дуран", "duran", "particle de absent"),
        ("Silvia Tirado", "duran", "maternal surname absent"),
        ("Fidel Castro", "castro", "maternal surname absent"),
        ("von Braun", "braun", ""),
        ("Gaulle", "gaulle", "particle de absent"),
        ("OLEG ((NECHIPORENKO))", "nechiporenko", ""),
        ("NECHIPORENKO, Oleg M.", "nechiporenko", ""),
        ("Ли Харви Освальд", "oswald", "Cyrillic transcription of an English name"),
        ("Джеймс Энглтон", "angleton", "Cyrillic transcription of an English name"),
        ("Джон Кеннеди", "kennedy", "Cyrillic transcription of an English name"),
        ("Эдгар Гувер", "hoover", "Cyrillic transcription of an English name"),
        ("Kruschev", "khrushchev", "common misspelling"),
    ],
)
def test_real_world_forms_found_with_their_rule(index: NameIndex, query: str, expected: str, rule: str) -> None:
    hits = index.search(query)
    assert hits, query
    assert hits[0].entity_id == expected
    assert hits[0].score >= LIKELY
    assert rule in hits[0].explanation


def test_the_record_side_reading_works_from_the_query_side() -> None:
    # "J. Lee Rankin" asked for, "Lee Rankin" on file.
    ix = NameIndex()
    ix.add("rankin", "Lee Rankin")
    ix.add("other", "John Rankin")
    hits = ix.search("J. Lee Rankin")
    assert hits[0].entity_id == "rankin"
    assert "middle name used as given name in query" in hits[0].explanation


@pytest.mark.parametrize(
    "query",
    [
        "Vladimir Putilin",  # Путилин, a surname in its own right
        "Edgar Rankin",  # another given name than J. or Lee
        "Maria Duran",
        "Harvey Oswald",  # Harvey is Oswald's middle name, his initial is L.
        "Ivan ((NECHIPORENKO))",
    ],
)
def test_other_people_do_not_alert(index: NameIndex, query: str) -> None:
    assert all(h.score < LIKELY for h in index.search(query)), index.search(query)


@pytest.mark.parametrize(
    ("raw", "given", "surname"),
    [
        ("OLEG ((NECHIPORENKO))", ["OLEG"], "NECHIPORENKO"),
        ("Valeriy Vladimirovich ((KOSTIKOV))", ["Valeriy"], "KOSTIKOV"),
        ("((KOSTIKOV))", [], "KOSTIKOV"),
        ("von Braun", [], "von Braun"),
        ("António de Oliveira Salazar", ["António", "Oliveira"], "Salazar"),
    ],
)
def test_parse(raw: str, given: list[str], surname: str) -> None:
    p = parse_name(raw)
    assert [g.text for g in p.given] == given
    assert p.surname is not None and p.surname.text == surname


def test_readings() -> None:
    rules = {r.rule.split(":")[0]: r.name.display for r in readings(parse_name("Silvia Tirado de Duran"))}
    assert rules == {
        "particle de absent": "Silvia Tirado Duran",
        "maternal surname absent (or a married name)": "Silvia Tirado",
    }
    # A middle name the tables know as a given name is not a family name.
    assert readings(parse_name("Lee Harvey Oswald")) == ()


@pytest.mark.parametrize(
    ("latin", "attested"),
    # Spellings attested in Russian print (Russian Wikipedia article titles).
    [
        ("Oswald", "Освальд"),
        ("Angleton", "Энглтон"),
        ("Kennedy", "Кеннеди"),
        ("Hoover", "Гувер"),
        ("Trump", "Трамп"),
        ("Dulles", "Даллес"),
        ("Harvey", "Харви"),
        ("Lee", "Ли"),
        ("James", "Джеймс"),
        ("Nixon", "Никсон"),
        ("Helms", "Хелмс"),
    ],
)
def test_english_transcription_reaches_the_attested_spelling(latin: str, attested: str) -> None:
    assert skeleton_of_cyrillic(attested) in {skeleton_of_cyrillic(c) for c in transcribe(latin)}
