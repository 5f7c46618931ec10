"""A hostile registrar and odd input against the source registry (issue 10, "Compartments hardening").

What users exist, and what they are cleared for, is the owner's to know
(archive/sources.py, `_cleared_handler`). A registry chief cleared for S who
registers a source under a label above them is refused for their own
clearance (E170), and must be refused alike whoever they named as its
handler: refused for the handler first, E170 answered only for a handler
cleared for that label, and E102 for any other, an oracle on who holds TS.
Differential worlds: the same users, one of them cleared for TS in one world
and for S in the other.

And a cryptonym or handler holding a NUL: PostgreSQL text cannot hold one,
and asking for it failed with a raw DataError (an HTTP 500 on the owner's
forms); on both backends it is now what a missing source or user is.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kartoteka.access.roles import HANDLER, REGISTRY
from kartoteka.archive import Archive
from kartoteka.errors import KartotekaError
from kartoteka.store.location import Location
from tests.access.differential import World, build, canonical, first_difference, make_base
from tests.backends import Where

NAME = "Oleg Nikolayevich Sedov"


def _answer(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except KartotekaError as exc:
        return {"error": exc.code, "message": exc.message}


def _world(base: Location, folder: Path, deep_clearance: str) -> Location:
    path = build(base, folder, World([]))
    owner = Archive(path)
    try:
        owner.add_user("chief", "S", ["HUM", REGISTRY])
        owner.add_user("handler1", "S", ["HUM", HANDLER])
        owner.add_user("deep", deep_clearance, ["HUM", HANDLER])
    finally:
        owner.close()
    return path


def _chief_answers(path: Location) -> list[tuple[str, Any]]:
    chief = Archive(path, user="chief")
    try:
        return [
            (
                f"add {label} for {handler}",
                _answer(lambda h=handler, lb=label: chief.source_add("ORCHARD", NAME, h, lb)),
            )
            for label in ("TS:HUM", "TS")
            for handler in ("deep", "handler1", "nobody")
        ]
    finally:
        chief.close()


def test_a_label_above_the_registrar_says_nothing_of_the_handler_they_name(where: Where, tmp_path: Path) -> None:
    base = make_base(tmp_path / "base", where)
    paths = (_world(base, tmp_path / "ts", "TS"), _world(base, tmp_path / "s", "S"))
    answers = [canonical(_chief_answers(p), p) for p in paths]
    assert answers[0] == answers[1], first_difference(answers[0], answers[1])
    assert all(a["error"] == "E170" for _, a in _chief_answers(paths[0]))


@pytest.mark.parametrize(
    "ask",
    [
        lambda a: a.source_show("ORCH\x00ARD"),
        lambda a: a.source_show("ORCHARD\x00", "ORCHARD"),
        lambda a: a.source_handover("ORCH\x00ARD", "handler1"),
        lambda a: a.source_handover("ORCHARD", "handler\x001"),
        lambda a: a.source_add("GRANITE", NAME, "handler\x001"),
    ],
    ids=["show", "show by id", "handover", "handover to", "add for"],
)
def test_a_nul_is_a_missing_source_or_handler(where: Where, tmp_path: Path, ask: Callable[[Archive], Any]) -> None:
    owner = Archive(where(tmp_path, "nul.db"))  # type: ignore[arg-type]
    try:
        owner.add_user("handler1", "S", ["HUM", HANDLER])
        owner.source_add("ORCHARD", NAME, "handler1")
        with pytest.raises(KartotekaError, match=r"\[E047\]|\[E102\]") as refused:
            ask(owner)
        assert "\x00" not in refused.value.message
        assert owner.source_show("ORCHARD")["handler"] == "handler1"  # the archive still answers
    finally:
        owner.close()
