"""Sources that share a cryptonym (issue 10, "Compartments hardening").

A registrar who chooses a cryptonym held by a source they may not see must
not learn that it exists: not from `source add`, not from what they read
after, not from a drop collection. Differential worlds: one archive with a
hidden namesake, one without; the registrar's answers are the same bytes
(ids renamed in order of appearance, timestamps blanked: tests/access/differential.py).
A namesake the registrar may see still refuses the name (E049), and a viewer
who sees two names one by its id (E171). On both backends.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from kartoteka.access.roles import HANDLER, REGISTRY
from kartoteka.access.sources import SourceSeal
from kartoteka.archive import Archive
from kartoteka.channels.collect import Collector, cryptonym_for, desk
from kartoteka.channels.drop_store import NEWSROOM_KEY, Drop, read_private_key
from kartoteka.errors import KartotekaError
from kartoteka.store.location import Location, parse, side_path
from kartoteka.store.postgres import migrations as pg_migrations
from kartoteka.store.sqlite import APPLICATION_ID, _migrations, _split_sql
from tests.access.differential import World, build, canonical, first_difference, make_base
from tests.backends import Where, pg_location
from tests.channels.world import make_drop

HIDDEN_NAME = "Pyotr Alekseyevich Vorontsov"
NAME = "Oleg Nikolayevich Sedov"
MESSAGE = "(U) Colonel Arkady Zorin met the deputy minister in Lisbon on 3 March 1977."


def _answer(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except KartotekaError as exc:
        return {"error": exc.code, "message": exc.message}


def _users(path: Location) -> None:
    owner = Archive(path)
    try:
        owner.add_user("chief", "S", ["HUM", REGISTRY])  # the registrar: cleared for S only
        owner.add_user("handler1", "S", ["HUM", HANDLER])
        owner.add_user("handler2", "S", ["HUM", HANDLER])
        owner.add_user("deep", "TS", ["HUM"])
    finally:
        owner.close()


def _worlds(where: Where, tmp: Path, hide: Callable[[Archive], None]) -> tuple[Location, Location]:
    """Two archives with the same users; `hide` registers the hidden namesake in the first only."""
    base = make_base(tmp / "base", where)
    worlds: list[Location] = []
    for name, hidden in (("with", True), ("without", False)):
        path = build(base, tmp / name, World([]))
        _users(path)
        if hidden:
            owner = Archive(path)
            try:
                hide(owner)
            finally:
                owner.close()
        worlds.append(path)
    return worlds[0], worlds[1]


def _same(answers: tuple[list[tuple[str, Any]], list[tuple[str, Any]]], paths: tuple[Location, Location]) -> None:
    a, b = canonical(answers[0], paths[0]), canonical(answers[1], paths[1])
    assert a == b, first_difference(a, b)


def _registrar_answers(path: Location, label: str = "S:HUM", handler: str = "handler1") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    chief = Archive(path, user="chief")
    try:
        out.append(("add", _answer(lambda: chief.source_add("ORCHARD", NAME, handler, label))))
        out.append(("add again", _answer(lambda: chief.source_add("ORCHARD", NAME, handler, label))))
        out.append(("list", chief.sources()))
        out.append(("show", _answer(lambda: chief.source_show("ORCHARD"))))
        out.append(("handover", _answer(lambda: chief.source_handover("ORCHARD", "handler2"))))
        out.append(("show after", _answer(lambda: chief.source_show("ORCHARD"))))
        out.append(("audit", _answer(chief.audit_verify)))  # the trail is the owner's: refused alike
    finally:
        chief.close()
    for user in ("handler1", "handler2"):  # what the registrar's handlers read (not "deep": above them)
        a = Archive(path, user=user)
        try:
            out.append((f"{user} list", a.sources()))
            out.append((f"{user} show", _answer(lambda a=a: a.source_show("ORCHARD"))))
        finally:
            a.close()
    return out


def _hidden_orchard(owner: Archive) -> None:
    owner.source_add("ORCHARD", HIDDEN_NAME, "deep", "TS:HUM")


@pytest.mark.parametrize(("label", "handler"), [("S:HUM", "handler1"), ("TS:HUM", "deep")])
def test_a_registrar_cannot_tell_a_namesake_above_them_from_none(
    where: Where, tmp_path: Path, label: str, handler: str
) -> None:
    paths = _worlds(where, tmp_path, _hidden_orchard)
    answers = (_registrar_answers(paths[0], label, handler), _registrar_answers(paths[1], label, handler))
    _same(answers, paths)
    first = dict(answers[0])
    if label == "S:HUM":
        # Registered, then refused as a real duplicate, read, handed over.
        added = first["add"]
        assert {k: added[k] for k in ("cryptonym", "handler", "label")} == {
            "cryptonym": "ORCHARD",
            "handler": "handler1",
            "label": "S:HUM",
        }
        assert added["id"].startswith("src-") and [s["id"] for s in first["list"]] == [added["id"]]
        assert first["add again"]["error"] == "E049"
        assert first["show"]["true_name"] == NAME
        assert first["handover"] == {"cryptonym": "ORCHARD", "from": "handler1", "to": "handler2"}
    else:
        # Above the registrar: refused for what it is, the same with a namesake or without.
        assert first["add"]["error"] == "E170" and first["list"] == []


def test_a_namesake_the_registrar_may_see_still_refuses_the_name(where: Where, tmp_path: Path) -> None:
    path = build(make_base(tmp_path / "base", where), tmp_path / "w", World([]))
    _users(path)
    chief = Archive(path, user="chief")
    try:
        chief.source_add("ORCHARD", NAME, "handler2")
        for handler in ("handler1", "handler2"):  # another handler's, which the chief may see, too
            with pytest.raises(KartotekaError, match="E049"):
                chief.source_add("ORCHARD", "Someone Else", handler)
        assert [s["handler"] for s in chief.sources()] == ["handler2"]
    finally:
        chief.close()


def test_namesakes_are_told_apart_by_their_viewers(where: Where, tmp_path: Path) -> None:
    paths = _worlds(where, tmp_path, _hidden_orchard)
    path = paths[0]
    chief = Archive(path, user="chief")
    try:
        chief.source_add("ORCHARD", NAME, "handler1")
    finally:
        chief.close()
    owner, deep = Archive(path), Archive(path, user="deep")
    try:
        # Each handler reads their own, by the cryptonym alone.
        assert deep.source_show("ORCHARD")["true_name"] == HIDDEN_NAME
        assert [s["label"] for s in deep.sources()] == ["TS:HUM"]
        # The owner sees both, and is asked to name one.
        assert [(s["label"], s["handler"]) for s in owner.sources()] == [("S:HUM", "handler1"), ("TS:HUM", "deep")]
        with pytest.raises(KartotekaError, match="E171") as both:
            owner.source_show("ORCHARD")
        ids = [w.split(" ", 1)[0] for w in both.value.message.split(": ", 1)[1].split("; ")]
        assert len(ids) == 2 and "handler1" in both.value.message and "deep" in both.value.message
        by_label = {owner.source_show("ORCHARD", i)["label"]: i for i in ids}
        assert owner.source_show("ORCHARD", by_label["S:HUM"])["true_name"] == NAME
        assert owner.source_show("ORCHARD", by_label["TS:HUM"])["true_name"] == HIDDEN_NAME
        with pytest.raises(KartotekaError, match="E047"):
            deep.source_show("ORCHARD", by_label["S:HUM"])  # an id names only what its viewer may see
        owner.source_handover("ORCHARD", "handler2", by_label["S:HUM"])
        assert [(s["label"], s["handler"]) for s in owner.sources()] == [("S:HUM", "handler2"), ("TS:HUM", "deep")]
        assert deep.source_show("ORCHARD")["true_name"] == HIDDEN_NAME  # untouched
    finally:
        owner.close()
        deep.close()


def test_a_sealed_name_does_not_open_under_a_namesake(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    Archive(path).close()
    _users(path)
    owner, chief = Archive(path), Archive(path, user="chief")
    try:
        owner.source_add("ORCHARD", HIDDEN_NAME, "deep", "TS:HUM")
        chief.source_add("ORCHARD", NAME, "handler1", "S:HUM")
    finally:
        owner.close()
        chief.close()
    db = sqlite3.connect(path)
    # The TS seal copied into the S row: bound to the TS source's id, it is refused.
    db.execute("UPDATE sources SET sealed=(SELECT sealed FROM sources WHERE label='TS:HUM') WHERE label='S:HUM'")
    db.commit()
    db.close()
    h1 = Archive(path, user="handler1")
    try:
        with pytest.raises(ValueError, match="another source"):
            h1.source_show("ORCHARD")
    finally:
        h1.close()


def _collect_answers(path: Location, drop_path: Path, key: Path) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    arch = Archive(path, user="handler1")
    try:
        c = Collector(arch, drop_path, key, "handler1")
        out.append(("collect", list(c.run())))
        out.append(("summary", c.summary.as_json()))
        out.append(("problems", c.problems))
        again = Collector(arch, drop_path, key, "handler1")
        out.append(("collect again", list(again.run())))
        out.append(("summary again", again.summary.as_json()))
        out.append(("list", arch.sources()))
        out.append(("show", _answer(lambda: arch.source_show(c.summary.sources[0]))))
        out.append(("desk", desk(arch)))
        out.append(("documents", arch.documents()))
    finally:
        arch.close()
    return out


@pytest.mark.parametrize(("label", "handler"), [("TS:HUM", "deep"), ("S:HUM", "handler2")])
def test_a_drop_collection_cannot_tell_a_namesake_it_may_not_see_from_none(
    where: Where, tmp_path: Path, label: str, handler: str
) -> None:
    """Above the collecting handler, or another handler's at its own level (which a handler does not see)."""
    drop_path, key = make_drop(tmp_path)
    drop = Drop(drop_path)
    codename = drop.new_source()
    drop.submit(codename, MESSAGE, [])
    cryptonym = cryptonym_for(read_private_key(key, NEWSROOM_KEY), drop.source_ids()[0])
    paths = _worlds(where, tmp_path, lambda owner: owner.source_add(cryptonym, HIDDEN_NAME, handler, label))
    answers = (_collect_answers(paths[0], drop_path, key), _collect_answers(paths[1], drop_path, key))
    _same(answers, paths)
    first = dict(answers[0])
    assert first["problems"] == [] and first["summary"]["new_sources"] == [cryptonym]
    assert [r["status"] for r in first["collect"]] == ["added"]
    assert first["summary again"]["new_sources"] == [] and [r["status"] for r in first["collect again"]] == [
        "unchanged"
    ]


def test_a_drop_source_the_collector_may_see_is_another_handlers(tmp_path: Path) -> None:
    """The owner collecting for handler1 sees handler2's source: not collected (E153), as before."""
    drop_path, key = make_drop(tmp_path)
    drop = Drop(drop_path)
    drop.submit(drop.new_source(), MESSAGE, [])
    cryptonym = cryptonym_for(read_private_key(key, NEWSROOM_KEY), drop.source_ids()[0])
    path = tmp_path / "a.db"
    Archive(path).close()
    _users(path)
    owner = Archive(path)
    try:
        owner.source_add(cryptonym, HIDDEN_NAME, "handler2")
        c = Collector(owner, drop_path, key, "handler1")
        assert list(c.run()) == [] and len(c.problems) == 1 and "[E153]" in c.problems[0]
    finally:
        owner.close()


def _schema_15_with_a_source(path: Path) -> None:
    db = sqlite3.connect(path)
    for v, sql in _migrations():
        if v > 15:
            break
        for statement in _split_sql(sql):
            db.execute(statement)
    db.execute(f"PRAGMA application_id={APPLICATION_ID}")
    db.execute("PRAGMA user_version=15")
    db.execute("INSERT INTO users(name, clearance, tokens, created_at) VALUES ('handler1', 'S', 'HUM', 't')")
    # Sealed as schema 15 sealed it: bound to the cryptonym.
    sealed = SourceSeal(path).seal("GRANITE", NAME)
    db.execute(
        "INSERT INTO sources(cryptonym, sealed, handler, created_at, label) VALUES ('GRANITE', ?, 'handler1', 't', ?)",
        (sealed, "S:HUM"),
    )
    db.commit()
    db.close()


def test_a_source_from_schema_15_keeps_its_seal_and_its_name(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _schema_15_with_a_source(path)
    owner = Archive(path)
    try:
        assert owner.source_show("GRANITE") == {
            "cryptonym": "GRANITE",
            "handler": "handler1",
            "label": "S:HUM",
            "true_name": NAME,
            "id": "GRANITE",  # a source kept from before schema 16 has its cryptonym for an id
        }
        with pytest.raises(KartotekaError, match="E049"):
            owner.source_add("GRANITE", "Someone Else", "handler1")
    finally:
        owner.close()
    rows = sqlite3.connect(path).execute("SELECT id, cryptonym FROM sources").fetchall()
    assert rows == [("GRANITE", "GRANITE")]


def test_a_source_from_schema_15_keeps_its_seal_and_its_name_on_postgresql(pg_database: str, tmp_path: Path) -> None:
    url = pg_location(pg_database, tmp_path, "old.db")
    schema = parse(url)[1]
    with psycopg.connect(pg_database, autocommit=True) as db:
        db.execute(f"CREATE SCHEMA {schema}")
        db.execute(f"SET search_path TO {schema}, public")  # as the pool sets it (unaccent is in public)
        for v, sql in pg_migrations():
            if v > 15:
                break
            db.execute(sql.encode())
        db.execute("INSERT INTO kartoteka_schema(application, version) VALUES ('kartoteka', 15)")
        db.execute("INSERT INTO archive_secret(secret) VALUES (%s)", (b"s" * 32,))
        db.execute("INSERT INTO users(name, clearance, tokens, created_at) VALUES ('handler1', 'S', 'HUM', 't')")
        sealed = SourceSeal(side_path(url)).seal("GRANITE", NAME)  # bound to the cryptonym, as schema 15 did
        db.execute(
            "INSERT INTO sources(cryptonym, sealed, handler, created_at, label) VALUES ('GRANITE', %s, 'handler1', 't',"
            " 'S:HUM')",
            (sealed,),
        )
    owner = Archive(url)
    try:
        assert owner.source_show("GRANITE")["true_name"] == NAME
        assert [s["cryptonym"] for s in owner.sources()] == ["GRANITE"]
    finally:
        owner.close()
    with psycopg.connect(pg_database, autocommit=True) as db:
        assert db.execute(f"SELECT id, cryptonym FROM {schema}.sources").fetchall() == [("GRANITE", "GRANITE")]
