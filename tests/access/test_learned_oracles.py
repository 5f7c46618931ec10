"""What the archive learns or keeps from many rows is no oracle of hidden ones.

Two findings of a hostile review, each as a differential test: two worlds
with the same visible material, the second with hidden material besides, and
a U user who must get the same bytes from both.

- Boilerplate was learned per portion label only, so a (U) line inside a
  SECRET document counted towards U boilerplate: four visible copies and one
  hidden made the line boilerplate for a U reader, who then saw it flagged
  and its names gone from the statistics.
- A card's name was one row, so an alias given under U was swallowed by the
  same name already given under a label the giver cannot see.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kartoteka.archive import Archive
from tests.access.differential import LOW, Doc, World, build, first_difference, make_base, read_everything

CLERK = "clerk"  # U, with the ANALYST role
ROUTING = "(U) Routing copy for Arkady Zorin desk\n\n"
VISIBLE = [
    Doc(f"routed-{i}.txt", ROUTING + f"(U) {who} met Duarte Mendes in Lisbon in {1970 + i}.\n")
    for i, who in enumerate(["Grigory Bortnik", "Elena Vetrova", "Pyotr Kalmykov", "Oleg Mironov"])
]
NEUTRAL = Doc("neutral.txt", "(U) Irina Lebedeva wrote to the editor about the Lisbon station.\n")
HIDDEN_ROUTED = Doc("hidden.txt", ROUTING + "(S//HUM) The source named a courier in Vienna.\n", "S:HUM")


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_base(tmp_path_factory.mktemp("learned") / "base")


def _boilerplate_lines(path: Path) -> int:
    arch = Archive(path, user=LOW)
    try:
        return sum(
            1
            for d in arch.documents(limit=100)
            for m in arch.document(d["id"])["markings"]
            if m["kind"] == "boilerplate"
        )
    finally:
        arch.close()


def test_a_line_in_a_hidden_document_does_not_make_visible_lines_boilerplate(base: Path, tmp_path: Path) -> None:
    a = build(base, tmp_path / "a", World([*VISIBLE, NEUTRAL]))
    b = build(base, tmp_path / "b", World([*VISIBLE, NEUTRAL, HIDDEN_ROUTED]))
    names = ["Arkady Zorin", "Duarte Mendes", "Grigory Bortnik"]
    ra, rb = (read_everything(p, names, ["Routing", "Zorin"]) for p in (a, b))
    assert ra == rb, first_difference(ra, rb)
    assert _boilerplate_lines(a) == _boilerplate_lines(b) == 0
    # The hidden document read before the visible ones: the same.
    c = build(base, tmp_path / "c", World([HIDDEN_ROUTED, *VISIBLE, NEUTRAL]))
    assert read_everything(c, names, ["Routing", "Zorin"]) == ra


def test_a_line_is_still_learned_within_its_partition(base: Path, tmp_path: Path) -> None:
    # Five U documents carry the line: it is boilerplate, in all five, also
    # in those read before it was learned.
    fifth = Doc("routed-4.txt", ROUTING + "(U) Boris Kovalenko met Duarte Mendes in Porto in 1975.\n")
    a = build(base, tmp_path / "a", World([*VISIBLE, fifth, NEUTRAL]))
    assert _boilerplate_lines(a) == 5
    # Five S:HUM copies are learned for S:HUM readers, never for U ones.
    hidden = [Doc(f"h{i}.txt", ROUTING + f"(S//HUM) Courier {i} waited in Vienna.\n", "S:HUM") for i in range(5)]
    b = build(base, tmp_path / "b", World([*VISIBLE, *hidden, NEUTRAL]))
    assert _boilerplate_lines(b) == 0
    owner = Archive(b)
    try:
        flagged = {
            d["source"]
            for d in owner.documents(limit=100)
            if any(m["kind"] == "boilerplate" for m in owner.document(d["id"])["markings"])
        }
    finally:
        owner.close()
    assert flagged == {f"h{i}.txt" for i in range(5)}


SEEN = Doc("open.txt", "(U) Colonel Arkady Zorin met the journalist Duarte Mendes in Lisbon in March 1977.\n")


def _with_clerk(path: Path) -> None:
    owner = Archive(path)
    owner.add_user(CLERK, "U", ["ANALYST"])
    owner.close()


def _hidden_alias(path: Path, ref: str, name: str) -> None:
    """The owner gives the card a name under S:HUM: a fact the clerk cannot see."""
    owner = Archive(path)
    try:
        eid = owner.check(ref)["matches"][0]["entity_id"]
        owner.alias(eid, name, label="S:HUM")
    finally:
        owner.close()


def test_an_alias_is_not_swallowed_by_the_same_name_under_a_hidden_label(base: Path, tmp_path: Path) -> None:
    a = build(base, tmp_path / "a", World([SEEN]))
    b = build(base, tmp_path / "b", World([SEEN]))
    _hidden_alias(b, "Arkady Zorin", "Sasha Zorin")
    answers = []
    for path in (a, b):
        _with_clerk(path)
        clerk = Archive(path, user=CLERK)
        try:
            zorin = clerk.check("Arkady Zorin")["matches"][0]["entity_id"]
            given = clerk.alias(zorin, "Sasha Zorin")
            found = clerk.check("Sasha Zorin")
            answers.append(json.dumps([given, found, clerk.dossier(zorin)["aliases"]]).replace(zorin, "ZORIN"))
        finally:
            clerk.close()
    assert answers[0] == answers[1], (answers[0], answers[1])
    assert '"label": "U"' in answers[0] and "ZORIN" in json.dumps(json.loads(answers[0])[1])
    ra, rb = (read_everything(p, ["Sasha Zorin", "Arkady Zorin"], ["Zorin"], user=CLERK) for p in (a, b))
    assert ra == rb, first_difference(ra, rb)
    # The owner sees the name once, though it is given twice.
    owner = Archive(b)
    try:
        zorin = owner.check("Arkady Zorin")["matches"][0]["entity_id"]
        assert owner.dossier(zorin)["aliases"].count("Sasha Zorin") == 1
    finally:
        owner.close()


def test_a_merge_keeps_the_labels_of_the_names_it_moves(base: Path, tmp_path: Path) -> None:
    # The hidden alias is on the card merged away: it must not come out as U.
    a = build(base, tmp_path / "a", World([SEEN]))
    b = build(base, tmp_path / "b", World([SEEN]))
    _hidden_alias(b, "Duarte Mendes", "Agent Fado")
    for path in (a, b):
        _with_clerk(path)
        clerk = Archive(path, user=CLERK)
        try:
            keep = clerk.check("Arkady Zorin")["matches"][0]["entity_id"]
            gone = clerk.check("Duarte Mendes")["matches"][0]["entity_id"]
            clerk.merge(keep, gone)
        finally:
            clerk.close()
    names = ["Agent Fado", "Arkady Zorin", "Duarte Mendes"]
    ra, rb = (read_everything(p, names, ["Zorin"], user=CLERK) for p in (a, b))
    assert ra == rb, first_difference(ra, rb)
