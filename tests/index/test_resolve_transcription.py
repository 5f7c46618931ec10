"""Resolution and the Western transcriptions (issue 13): a shared Russian transcription
joins a Latin name to its Cyrillic spelling, never two different Latin names.

German, French, Spanish and Italian rules write many Latin names alike in
Cyrillic: Perret and Pérez are both Пере by French rules, Martin and Martins
both Мартен, Maier and Maire both Мер. The name check never let those keys
meet between two Latin names (`match_tokens`); resolution's `same_token` did,
so "Mr. Perret" of one cable joined Antonio Perez's card.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kartoteka.index.resolve import cluster_people, same_token
from kartoteka.names.parse import NameToken, parse_name
from tests.index.cables import person_cards


def _token(name: str) -> NameToken:
    p = parse_name(name)
    token = p.surname or p.given[0]
    assert token is not None
    return token


# Different people's names that share only a Western transcription.
APART = [
    ("Perret", "Perez"),
    ("Maire", "Maier"),
    ("Martins", "Martin"),
    ("Laurent", "Lorenz"),
    ("Rousseau", "Russo"),
    ("Faure", "Fort"),
    ("Agnes", "Hans"),
    ("Huber", "Xavier"),
]
# A Latin name and its Cyrillic spelling; and Latin pairs that met before the Western tables.
SAME = [
    ("Schmidt", "Шмидт"),
    ("Jacques", "Жак"),
    ("Togliatti", "Тольятти"),
    ("Giuseppe", "Джузеппе"),
    ("Peña", "Пенья"),
    ("Guillaume", "Гийом"),
    ("Hans", "Gans"),
    ("Weber", "Veber"),
]


@pytest.mark.parametrize(("a", "b"), APART)
def test_a_western_transcription_does_not_join_two_latin_names(a: str, b: str) -> None:
    assert not same_token(_token(a), _token(b))
    assert not same_token(_token(b), _token(a))


@pytest.mark.parametrize(("a", "b"), SAME)
def test_a_transcription_still_joins_the_cyrillic_spelling(a: str, b: str) -> None:
    assert same_token(_token(a), _token(b))
    assert same_token(_token(b), _token(a))


def test_in_one_document_a_shared_transcription_is_two_people() -> None:
    clusters = cluster_people(list(enumerate(["Juan Perez", "Mr. Perret", "Kurt Maier", "Maire", "Шмидт", "Schmidt"])))
    assert [c.mentions for c in clusters] == [[0], [1], [2], [3], [4, 5]]


def test_a_surname_of_another_cable_does_not_join_a_different_name(tmp_path: Path) -> None:
    cards = person_cards(
        tmp_path,
        [
            "(U) Antonio Perez met the consul in Madrid in 1961.\n",
            "(U) The consul said that Mr. Perret left Geneva in 1962.\n",
            "(U) Kurt Maier met the consul in Munich in 1961.\n",
            "(U) The consul said that Mr. Maire left Lyon in 1962.\n",
            "(U) Paul Martin met the consul in Paris in 1961.\n",
            "(U) The consul said that Mr. Martins left Lisbon in 1962.\n",
        ],
    )
    assert cards == [
        ("Antonio Perez", 1),
        ("Kurt Maier", 1),
        ("Maire", 1),
        ("Martins", 1),
        ("Paul Martin", 1),
        ("Perret", 1),
    ]
