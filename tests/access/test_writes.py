"""Writes are no oracles: a write's answer, and everything read after it, is
computed only from what its author may see.

Each test builds two worlds with the differential harness: the same visible
documents, and in the second hidden material besides. A clerk holding the
write roles but only U makes the same write in both, and must get the same
bytes back, and read the same bytes afterwards.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kartoteka.archive import Archive
from kartoteka.registry.readers import RawDocument
from tests.access.differential import Doc, World, build, first_difference, make_base, read_everything

CLERK = "clerk"  # U, with the REGISTRY and ANALYST roles

OPEN = Doc(
    "open.txt",
    "(U) Colonel Boris Kovalenko met the journalist Duarte Mendes in Lisbon in March 1977.\n\n"
    "(U) Arkady Zorin later wrote about the Lisbon station.\n",
)
CABLE_TEXT = "General Pyotr Kovalenko met Oleg Sokolov in Prague on 3 May 1979.\n"
CABLE = Doc("cable.txt", CABLE_TEXT, "S")  # hidden from the clerk: a document of its own


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_base(tmp_path_factory.mktemp("writes") / "base")


def _worlds(base: Path, tmp: Path, plain: list[Doc], hidden: list[Doc]) -> tuple[Path, Path]:
    """World A holds `plain`; world B the same and `hidden` besides. Both get the clerk."""
    a = build(base, tmp / "a", World(plain))
    b = build(base, tmp / "b", World([*plain, *hidden]))
    for path in (a, b):
        owner = Archive(path)
        owner.add_user(CLERK, "U", ["REGISTRY", "ANALYST"])
        owner.close()
    return a, b


def _ingest(path: Path, text: str, source: str = "mine.txt", **options: Any) -> list[dict[str, object]]:
    clerk = Archive(path, user=CLERK)
    try:
        raw = RawDocument(source=source, format="txt", reader="test.v1", text=text)
        return [r.as_json() for r in clerk.ingest([raw], **options)]
    finally:
        clerk.close()


def _same_reads(a: Path, b: Path, names: list[str], words: list[str]) -> None:
    ra, rb = (read_everything(p, names, words, user=CLERK) for p in (a, b))
    assert ra == rb, first_difference(ra, rb)


def test_ingesting_the_text_of_a_hidden_document_stores_the_authors_own_copy(base: Path, tmp_path: Path) -> None:
    a, b = _worlds(base, tmp_path, [OPEN], [CABLE])
    first_a, first_b = _ingest(a, CABLE_TEXT), _ingest(b, CABLE_TEXT)
    assert first_a == first_b
    assert first_a[0]["status"] == "added"
    # Again: now it is the clerk's own document, whole to them, in both worlds.
    assert _ingest(a, CABLE_TEXT) == _ingest(b, CABLE_TEXT) == [{**first_a[0], "status": "unchanged"}]
    _same_reads(a, b, ["Pyotr Kovalenko", "Oleg Sokolov", "Kovalenko"], ["Prague", "Sokolov"])
    # The owner holds both: the hidden original and the clerk's copy of it.
    owner = Archive(b)
    try:
        assert sorted(d["source"] for d in owner.documents()) == ["cable.txt", "mine.txt", "open.txt"]
    finally:
        owner.close()


def test_reingesting_a_guess_of_a_hidden_paragraph_confirms_nothing(base: Path, tmp_path: Path) -> None:
    visible = "(U) Colonel Boris Kovalenko met Duarte Mendes in Lisbon in March 1977.\n"
    guess = visible + "\n(S) Kovalenko was recruited in Vienna.\n"
    a = build(base, tmp_path / "a", World([Doc("report.txt", visible)]))
    b = build(base, tmp_path / "b", World([Doc("report.txt", guess)]))
    for path in (a, b):
        owner = Archive(path)
        owner.add_user(CLERK, "U", ["REGISTRY", "ANALYST"])
        owner.close()
    # With its marks as labels the guess holds an S portion: refused alike.
    refused_a, refused_b = _ingest(a, guess), _ingest(b, guess)
    assert refused_a == refused_b and refused_a[0]["status"] == "error" and "E101" in str(refused_a[0]["error"])
    # With marks as history only it is U, and added in both: "unchanged" would
    # confirm the withheld sentence.
    added_a, added_b = _ingest(a, guess, markings="record"), _ingest(b, guess, markings="record")
    assert added_a == added_b and added_a[0]["status"] == "added"


def test_a_new_mention_never_joins_a_card_its_author_cannot_see(base: Path, tmp_path: Path) -> None:
    # "Kovalenko" alone fits Boris (visible) only in A; in B Pyotr (hidden)
    # fits as well, and a resolver that saw him would join neither.
    a, b = _worlds(base, tmp_path, [OPEN], [CABLE])
    text = "(U) Kovalenko was seen in Prague in 1980.\n"
    assert _ingest(a, text) == _ingest(b, text)
    _same_reads(a, b, ["Kovalenko", "Boris Kovalenko", "Pyotr Kovalenko"], ["Prague", "Kovalenko"])
    clerk = Archive(b, user=CLERK)
    try:
        boris = clerk.dossier("Boris Kovalenko")
        assert sorted(d["source"] for d in boris["documents"]) == ["mine.txt", "open.txt"]
    finally:
        clerk.close()


def _hidden_cards(path: Path) -> list[str]:
    owner = Archive(path)
    try:
        return [m["entity_id"] for n in ("Pyotr Kovalenko", "Oleg Sokolov") for m in owner.check(n)["matches"][:1]]
    finally:
        owner.close()


def _import(path: Path, rows: list[tuple[str, str]], tmp: Path) -> list[dict[str, Any]]:
    csv = tmp / f"{path.parent.name}-list.csv"
    csv.write_text("id,name\n" + "".join(f"{i},{n}\n" for i, n in rows), encoding="utf-8")
    clerk = Archive(path, user=CLERK)
    try:
        return list(clerk.import_persons(csv))
    finally:
        clerk.close()


def test_an_import_of_candidate_ids_does_not_tell_which_exist_hidden(base: Path, tmp_path: Path) -> None:
    a, b = _worlds(base, tmp_path, [OPEN], [CABLE])
    hidden = _hidden_cards(b)
    assert len(hidden) == 2
    rows = [(eid, "Ivan Petrov") for eid in hidden] + [
        ("per-0123456789abcdef", "Ivan Petrov"),
        ("wl-1", "Anna Ivanova"),
    ]
    first_a, first_b = _import(a, rows, tmp_path), _import(b, rows, tmp_path)
    assert first_a == first_b, (first_a, first_b)
    assert [r["status"] for r in first_a] == ["added"] * 4
    assert [r["record_id"] for r in first_a] == [r[0] for r in rows]
    assert not {r["entity_id"] for r in first_a} & set(hidden)  # never the hidden card
    again_a, again_b = _import(a, rows, tmp_path), _import(b, rows, tmp_path)
    assert again_a == again_b and [r["status"] for r in again_a] == ["unchanged"] * 4
    # The card is found under its file's id, in both worlds alike.
    _same_reads(a, b, ["Ivan Petrov", "Anna Ivanova", "Pyotr Kovalenko"], ["Prague"])
    for path in (a, b):
        clerk = Archive(path, user=CLERK)
        try:
            assert clerk.dossier("wl-1")["entity_id"] == first_a[3]["entity_id"]
            assert clerk.dossier(hidden[0])["entity_id"] == first_a[0]["entity_id"]
        finally:
            clerk.close()


def _answer(path: Path, action: str, *args: Any) -> str:
    clerk = Archive(path, user=CLERK)
    try:
        return json.dumps(getattr(clerk, action)(*args), sort_keys=True)
    except Exception as exc:  # the error is the answer
        return f"{type(exc).__name__}: {exc}"
    finally:
        clerk.close()


def test_corrections_naming_hidden_cards_or_mentions_answer_as_for_missing_ones(base: Path, tmp_path: Path) -> None:
    a, b = _worlds(base, tmp_path, [OPEN], [CABLE])
    hidden = _hidden_cards(b)
    owner = Archive(b)
    try:
        boris = owner.check("Boris Kovalenko")["matches"][0]["entity_id"]
        pyotr_mentions = [s["mention_id"] for d in owner.dossier(hidden[0])["documents"] for s in d["snippets"]]
    finally:
        owner.close()
    probes: list[tuple[str, tuple[Any, ...]]] = [
        ("merge", (boris, hidden[0])),
        ("merge", (hidden[0], boris)),
        ("alias", (hidden[1], "Oleg Sokolov")),
        ("split", (hidden[0], pyotr_mentions)),
        ("split", (boris, pyotr_mentions)),
    ]
    for action, args in probes:
        answer_a, answer_b = _answer(a, action, *args), _answer(b, action, *args)
        assert answer_a == answer_b, (action, answer_a, answer_b)
        assert "E020" in answer_a or "E022" in answer_a
    _same_reads(a, b, ["Boris Kovalenko", "Pyotr Kovalenko", "Oleg Sokolov"], ["Prague"])


def test_a_split_naming_a_hidden_mention_of_a_visible_card_moves_nothing(base: Path, tmp_path: Path) -> None:
    seen = "(U) Colonel Arkady Zorin met the journalist Duarte Mendes in Lisbon in March 1977.\n"
    a = build(base, tmp_path / "a", World([Doc("open.txt", seen)]))
    b = build(base, tmp_path / "b", World([Doc("open.txt", seen + "\n(S) Arkadiy Zorin was recalled to Moscow.\n")]))
    owner = Archive(b)
    try:
        zorin_b = owner.check("Arkady Zorin")["matches"][0]["entity_id"]
        ids = [s["mention_id"] for d in owner.dossier(zorin_b)["documents"] for s in d["snippets"]]
        hidden_doc = owner.documents()[0]["id"]
    finally:
        owner.close()
    assert len(ids) == 2  # the owner sees the hidden mention; its id is the guess
    answers = []
    for path in (a, b):
        owner = Archive(path)
        owner.add_user(CLERK, "U", ["ANALYST"])
        doc = owner.documents()[0]["id"]
        owner.close()
        clerk = Archive(path, user=CLERK)
        try:
            zorin = clerk.check("Arkady Zorin")["matches"][0]["entity_id"]
            guess = ids[1].replace(hidden_doc, doc)
            answer = _answer(path, "split", zorin, [guess])
            answers.append(answer.replace(doc, "DOC").replace(zorin, "ZORIN"))
        finally:
            clerk.close()
    assert answers[0] == answers[1] and "E022" in answers[0], answers


def test_an_alias_is_not_swallowed_by_a_hidden_mention_of_the_same_name(base: Path, tmp_path: Path) -> None:
    seen = "(U) Colonel Arkady Zorin met the journalist Duarte Mendes in Lisbon in March 1977.\n"
    a = build(base, tmp_path / "a", World([Doc("open.txt", seen)]))
    b = build(base, tmp_path / "b", World([Doc("open.txt", seen + "\n(S) Arkadiy Zorin was recalled to Moscow.\n")]))
    answers: list[tuple[str, list[str]]] = []
    for path in (a, b):
        owner = Archive(path)
        owner.add_user(CLERK, "U", ["ANALYST"])
        owner.close()
        clerk = Archive(path, user=CLERK)
        try:
            zorin = clerk.check("Arkady Zorin")["matches"][0]["entity_id"]
            clerk.alias(zorin, "Arkadiy Zorin")
            # The card's id is keyed by its first mention's document, whose text differs.
            found = json.dumps(clerk.check("Arkadiy Zorin")).replace(zorin, "ZORIN")
            answers.append((found, clerk.dossier(zorin)["aliases"]))
        finally:
            clerk.close()
    assert answers[0] == answers[1]
    assert "Arkadiy Zorin" in answers[0][1]
