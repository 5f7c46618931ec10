"""Resolution never joins people whose given names or initials conflict, and a family
name alone does not pick the nearest of two people (issue 12, "one card per person").

"Colonel Ivan Petrov" is not the "A. Petrov" of a card (an initial against a given
name), within a document or across two; a Cyrillic "И. Петров" still is Ivan Petrov.
"Mr. Castro" after "Fidel Castro" and "Raul Castro" is neither; "President
Kennedy" in a record whose only Kennedy named in full is Robert is not Robert
(vocab/offices.yml)."""

from __future__ import annotations

from pathlib import Path

from kartoteka.index.resolve import _match_score, cluster_people
from kartoteka.names.parse import parse_name
from kartoteka.vocab import name_tables, offices
from tests.index.cables import person_cards


def _clusters(names: list[str]) -> list[list[int]]:
    return [c.mentions for c in cluster_people(list(enumerate(names)))]


def test_an_initial_that_conflicts_keeps_two_people_apart_in_one_document() -> None:
    # "Petrov" and "A. Petrov" are one cluster whose fullest name has no given
    # name: the initial must still keep Ivan out.
    assert _clusters(["Petrov", "A. Petrov", "Colonel Ivan Petrov"]) == [[0, 1], [2]]
    assert _clusters(["Ivan Petrov", "I. Petrov", "Petrov"]) == [[0, 1, 2]]


def test_a_card_with_a_conflicting_initial_is_no_candidate() -> None:
    assert _match_score(parse_name("Colonel Ivan Petrov"), [parse_name("A. Petrov"), parse_name("Petrov")]) == 0
    assert _match_score(parse_name("A. Petrov"), [parse_name("Ivan Petrov")]) == 0
    # The Cyrillic initial of Ivan is his.
    assert _match_score(parse_name("Ivan Petrov"), [parse_name("И. Петров")]) > 0
    assert _match_score(parse_name("И. Петров"), [parse_name("Ivan Petrov")]) > 0


def test_a_family_name_alone_does_not_pick_the_nearest_of_two_people() -> None:
    assert _clusters(["Fidel Castro", "Raul Castro", "Mr. Castro", "Castro"]) == [[0], [1], [2, 3]]
    # One person named in full: the family name is theirs, as before.
    assert _clusters(["Oleg Kalugin", "General Kalugin", "Kalugin"]) == [[0, 1, 2]]


def test_an_office_joins_only_the_person_named_with_it() -> None:
    assert _clusters(["Robert Kennedy", "President Kennedy"]) == [[0], [1]]
    assert _clusters(["President John F. Kennedy", "Robert Kennedy", "President Kennedy"]) == [[0, 2], [1]]
    assert _match_score(parse_name("President Kennedy"), [parse_name("Robert Kennedy")]) == 0
    assert _match_score(parse_name("President Kennedy"), [parse_name("President John F. Kennedy")]) > 0


def test_every_office_is_a_title_the_parser_strips() -> None:
    prefixes = {" ".join(p) for p in name_tables().title_prefixes}
    assert set(offices()) <= prefixes


def test_across_cables_an_initial_keeps_a_full_name_off_a_card(tmp_path: Path) -> None:
    cards = person_cards(
        tmp_path,
        [
            "(U) The consul said that Colonel A. Petrov left Vienna in 1961.\n",
            "(U) The consul said that Colonel Ivan Petrov left Prague in 1962.\n",
        ],
    )
    assert cards == [("A. Petrov", 1), ("Ivan Petrov", 1)]
