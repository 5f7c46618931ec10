"""Compartments, differentially: a visible card is not crowded out of resolution by hidden namesakes.

Resolution asks the name index for the 50 best candidates of a mention. That
cut was once taken over every card of the ingesting user (the owner: every
card), and only then narrowed to the cards the mention's readers see; 60
hidden "... Petrov" cards, each named more often than the visible "Andrei
Petrov", took all 50 places, and a visible "Mr. Petrov" got a card of its
own where, without them, it joins Andrei Petrov's. The cut is now taken
over the cards the readers see (`NameIndex.search(accept=...)`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kartoteka.archive import Archive
from kartoteka.store.location import Location
from tests.access.differential import LOW, Doc, World, build, first_difference, make_base, read_everything
from tests.backends import Where

# Sixty given names, no two of which fit each other (so sixty cards).
# fmt: off
GIVEN = [
    "Ivan", "Pyotr", "Sergei", "Nikolai", "Mikhail", "Dmitri", "Aleksei", "Boris", "Vladimir", "Yuri", "Oleg",
    "Igor", "Viktor", "Gennady", "Leonid", "Konstantin", "Vasily", "Fyodor", "Grigory", "Pavel", "Roman",
    "Stanislav", "Timofei", "Yaroslav", "Zakhar", "Anton", "Arkady", "Bogdan", "Denis", "Yegor", "Gleb", "Yevgeny",
    "Kirill", "Lev", "Makar", "Nikita", "Platon", "Rostislav", "Semyon", "Taras", "Vadim", "Valentin", "Veniamin",
    "Vsevolod", "Yakov", "Artyom", "Eduard", "Filipp", "Gavriil", "Innokenty", "Kuzma", "Matvei", "Mstislav",
    "Nazar", "Ostap", "Maksim", "Ruslan", "Savva", "Trofim", "Yefim",
]
# fmt: on

SEEN = Doc("seen.txt", "(U) Colonel Andrei Petrov met the journalist Duarte Mendes in Lisbon in 1977.\n")
LATER = Doc("later.txt", "(U) The station reported that Mr. Petrov left Lisbon in 1979.\n")
# Each hidden namesake named twice (the model misses one of Trofim's): more mentions than the visible card, so
# each outranks it among equal scores.
HIDDEN = [
    Doc(
        f"ts{i:02}.txt",
        f"(TS) Colonel {given} Petrov arrived in Vienna in 1975.\n\n(TS) Colonel {given} Petrov left Vienna in 1976.\n",
        "TS",
    )
    for i, given in enumerate(GIVEN)
]
NAMES = ["Petrov", "Andrei Petrov", "Mr. Petrov", "Ivan Petrov", "Duarte Mendes"]
WORDS = ["Petrov", "Lisbon", "Vienna", "Mendes"]


@pytest.fixture(scope="module")
def base(where: Where, tmp_path_factory: pytest.TempPathFactory) -> Location:
    return make_base(tmp_path_factory.mktemp("base"), where)


def _people(arch: Archive) -> list[dict[str, object]]:
    """Every person card the user may see, confirmed or not."""
    return [c for flag in (False, True) for c in arch.cards(kind="person", limit=500, unconfirmed=flag)["cards"]]


def test_hidden_namesakes_do_not_crowd_a_visible_card_out(base: Location, tmp_path: Path) -> None:
    assert len(set(GIVEN)) == 60 and "Andrei" not in GIVEN
    plain = build(base, tmp_path / "a", World([SEEN, LATER]))
    crowded = build(base, tmp_path / "b", World([*HIDDEN, SEEN, LATER]))
    owner = Archive(crowded)
    try:
        # The world is what the test means: a hidden card for each of the sixty.
        people = {str(c["name"]) for c in _people(owner)}
        assert {f"{given} Petrov" for given in GIVEN} <= people, sorted(people)
    finally:
        owner.close()
    for path in (plain, crowded):
        low = Archive(path, user=LOW)
        try:
            petrovs = [c for c in _people(low) if "Petrov" in str(c["name"])]
            # "Mr. Petrov" joined Andrei Petrov's card: one card, both mentions.
            assert [c["name"] for c in petrovs] == ["Andrei Petrov"], petrovs
            assert petrovs[0]["mentions"] == 2, petrovs
        finally:
            low.close()
    a = read_everything(plain, NAMES, WORDS)
    b = read_everything(crowded, NAMES, WORDS)
    assert a == b, first_difference(a, b)


# Sixty visible "Colonel X Petrov" cards, each named three times, and a
# visible "Mr. Petrov" card; in one world the owner gives each of the sixty a
# TS alias "Andrei Petrov" before a U cable names Andrei Petrov. Judged by
# card, the sixty were ranked by the hidden alias, took every place of the
# 50 for "Andrei Petrov" and of the ties for "Petrov", and the cable's
# mention, which joins "Mr. Petrov" without the aliases, got a card of its own.
VISIBLE = [
    Doc(
        f"u{i:02}.txt",
        f"(U) Colonel {g} Petrov arrived in Vienna in 1975.\n\n(U) Colonel {g} Petrov left Vienna in 1976.\n\n"
        f"(U) Colonel {g} Petrov returned to Moscow in 1977.\n",
    )
    for i, g in enumerate(GIVEN)
]
PROBE = Doc("probe.txt", "(U) Andrei Petrov met the journalist Duarte Mendes in Lisbon in 1977.\n")


def _world(base: Location, folder: Path, aliases: bool) -> Location:
    path = build(base, folder, World([*VISIBLE, LATER]))
    arch = Archive(path)
    try:
        if aliases:
            for c in _people(arch):
                if str(c["name"]).endswith(" Petrov"):
                    arch.alias(str(c["entity_id"]), "Andrei Petrov", label="TS")
        list(arch.ingest([PROBE.raw()], label="U"))
    finally:
        arch.close()
    return path


def test_hidden_aliases_of_visible_cards_do_not_crowd_a_visible_card_out(base: Location, tmp_path: Path) -> None:
    plain = _world(base, tmp_path / "a", aliases=False)
    aliased = _world(base, tmp_path / "b", aliases=True)
    low = Archive(plain, user=LOW)
    try:
        # The world is what the test means: the cable's Andrei Petrov joined "Mr. Petrov".
        assert [c["mentions"] for c in _people(low) if c["name"] == "Andrei Petrov"] == [2]
    finally:
        low.close()
    a = read_everything(plain, NAMES, WORDS)
    b = read_everything(aliased, NAMES, WORDS)
    assert a == b, first_difference(a, b)
