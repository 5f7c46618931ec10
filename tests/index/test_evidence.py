"""Evidence before a card (index/evidence.py): a person card is listed only
with evidence that it names a person, read from what the viewer may see."""

from __future__ import annotations

from pathlib import Path

import pytest

from kartoteka.archive import Archive
from kartoteka.index.evidence import form_evidence, looks_cryptonym, person_evidence
from kartoteka.names.lexicon import sex_of
from kartoteka.names.parse import parse_name
from kartoteka.registry.readers import RawDocument


@pytest.mark.parametrize(
    ("form", "why"),
    [
        ("Mr. Foley", "title"),
        ("OLEG ((NECHIPORENKO))", "CIA ((SURNAME))"),
        ("ECCLES, FRANK L", "card form"),
        ("Rogelio TAMAYO", "known given name"),
        ("DAVID WeLHAN", "known given name"),  # all capitals: the parser reads DAVID as the family name
        ("KOSTIKOV", "Slavic family name"),
        ("Lawson", "known family name"),
        ("Grigoriy Ye. Golub", "known given name"),
    ],
)
def test_names_with_evidence(form: str, why: str) -> None:
    reason = form_evidence(form)
    assert reason is not None and reason.startswith(why), reason


@pytest.mark.parametrize(
    "form", ["Ballpoint Pen", "Document Clerk", "KEW YORK", "DETAIL", "SALARY", "SEEDEE", "ACTIN BECUESTED"]
)
def test_form_residue_and_ocr_junk_have_none(form: str) -> None:
    assert form_evidence(form) is None


def test_recurrence_and_sources_are_evidence() -> None:
    assert person_evidence(["Tichborn"], records=1) is None
    assert person_evidence(["Tichborn"], records=3) == "named in 3 records"
    assert person_evidence([], records=0, sourced=True) is not None


@pytest.mark.parametrize(
    ("word", "is_one"),
    [
        *[(w, True) for w in ("AMLASH", "LITAMIL-7", "AMLASH/1", "KUBARK", "LIENVOY")],
        *[(w, False) for w in ("CASTRO", "LISBON", "DIRECTOR", "LINDA", "Amlash")],
    ],
)
def test_cryptonyms_by_digraph(word: str, is_one: bool) -> None:
    assert looks_cryptonym(word) is is_one


def test_sex_from_titles_and_given_names() -> None:
    assert [sex_of(parse_name(n)) for n in ("Mrs. Kennedy", "MRS. PETER KARLOW", "John F. Kennedy", "Kennedy")] == [
        "f",
        "f",
        "m",
        None,
    ]


def test_a_wife_does_not_join_her_husbands_card(tmp_path: Path) -> None:
    arch = Archive(tmp_path / "w.db")
    text = "(U) John Karlow met the consul in Rome.\n\n(U) Later Mrs. Karlow telephoned the consul.\n"
    list(arch.ingest([RawDocument("w.txt", "txt", "test.v1", text)]))
    cards = {c["name"]: c for c in arch.cards("person")["cards"]}
    assert "John Karlow" in cards and cards["John Karlow"]["mentions"] == 1
    arch.close()


UNSURE = "(U) The report was read by Tichborn at the desk.\n"
HIDDEN = "(S//HUM) Mr. Tichborn of the consulate met the source.\n"


def test_unconfirmed_cards_are_listed_apart_and_an_alias_confirms_one(tmp_path: Path) -> None:
    arch = Archive(tmp_path / "u.db")
    list(arch.ingest([RawDocument("u.txt", "txt", "test.v1", UNSURE)]))
    listed = arch.cards("person")
    apart = arch.cards("person", unconfirmed=True)
    assert "Tichborn" not in [c["name"] for c in listed["cards"]]
    assert [c["name"] for c in apart["cards"]] == ["Tichborn"] and listed["unconfirmed"] == 1
    assert apart["cards"][0]["evidence"] is None
    arch.alias(apart["cards"][0]["entity_id"], "Peter Tichborn")
    confirmed = arch.cards("person")["cards"]
    assert [(c["name"], c["evidence"]) for c in confirmed] == [("Tichborn", "named by an import or an analyst")]
    arch.close()


def test_hidden_evidence_does_not_confirm_a_card_for_a_low_viewer(tmp_path: Path) -> None:
    """Whether a card is confirmed is read from visible forms: a title in a
    hidden paragraph confirms it for the owner, not for a U reader, who sees
    the same drawer as in an archive without the hidden paragraph."""
    with_hidden, without = tmp_path / "h.db", tmp_path / "n.db"
    for path, texts in ((with_hidden, [UNSURE, HIDDEN]), (without, [UNSURE])):
        arch = Archive(path)
        for n, t in enumerate(texts):
            list(arch.ingest([RawDocument(f"d{n}.txt", "txt", "test.v1", t)], label="S:HUM" if n else None))
        arch.add_user("uma", "U", [])
        arch.close()
    owner = Archive(with_hidden)
    assert "Tichborn" in [c["name"] for c in owner.cards("person")["cards"]]
    owner.close()
    seen = []
    for path in (with_hidden, without):
        uma = Archive(path, user="uma")
        r = uma.cards("person"), uma.cards("person", unconfirmed=True)
        seen.append([(c["name"], c["evidence"], c["mentions"]) for x in r for c in x["cards"]] + [r[0]["unconfirmed"]])
        uma.close()
    assert seen[0] == seen[1] and seen[0][0][1] is None
