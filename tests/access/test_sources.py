"""Protected sources: the true name is reachable by the handler and the
registry chief, and by nothing else: not the name check, a dossier, search,
an export, the audit log, or the archive file itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from kartoteka.archive import Archive
from kartoteka.errors import KartotekaError
from tests.access.test_policy import _doc

TRUE_NAME = "Valentin Semyonovich Korzhakov"
REPORT = "(S//HUM) GRANITE reported that the resident met Duarte Mendes in Lisbon on 4 April 1978.\n"


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    path = tmp_path / "s.db"
    arch = Archive(path)
    arch.add_user("handler1", "S", ["HUM"])
    arch.add_user("handler2", "S", ["HUM"])
    arch.add_user("analyst", "TS", ["HUM", "NOFORN"])
    arch.add_user("chief", "S", ["REGISTRY", "HUM"])
    arch.add_user("clerk", "U", ["REGISTRY"])  # may register documents; not cleared for sources
    list(arch.ingest([_doc("report.txt", REPORT)]))
    arch.source_add("GRANITE", TRUE_NAME, "handler1")
    arch.close()
    return path


def _as(path: Path, user: str | None) -> Archive:
    return Archive(path, user=user)


def test_only_the_handler_and_the_registry_chief_read_the_true_name(archive: Path) -> None:
    for user in ("handler1", "chief", None):
        a = _as(archive, user)
        assert a.source_show("GRANITE")["true_name"] == TRUE_NAME
        a.close()
    _sees_no_source(archive, "analyst")  # cleared higher than the handler, but not the handler


def test_a_registry_chief_reads_only_sources_they_are_cleared_for(archive: Path) -> None:
    """A role says what its holder may do, not what they may read (a hostile
    review read every true name with REGISTRY, a token a U clerk holds to ingest)."""
    _sees_no_source(archive, "clerk")


def _sees_no_source(archive: Path, user: str) -> None:
    """GRANITE is refused to `user` exactly as a source that does not exist, and not listed."""
    a = _as(archive, user)
    try:
        with pytest.raises(KartotekaError) as hidden:
            a.source_show("GRANITE")
        with pytest.raises(KartotekaError) as missing:
            a.source_show("BASALT")
        assert hidden.value.message.replace("GRANITE", "X") == missing.value.message.replace("BASALT", "X")
        assert a.sources() == []
    finally:
        a.close()


def test_the_true_name_is_reachable_through_nothing_else(archive: Path) -> None:
    owner = _as(archive, None)
    try:
        for probe in (TRUE_NAME, "Korzhakov", "V. S. Korzhakov", "Корзаков"):
            assert owner.check(probe)["matches"] == [] or all(
                "Korzhakov" not in m["name"] for m in owner.check(probe)["matches"]
            )
        assert owner.search("Korzhakov")["total"] == 0
        doc = owner.documents()[0]["id"]
        data, _, _ = owner.release(doc, "S:HUM", "txt")
        assert b"Korzhakov" not in data
        with pytest.raises(KartotekaError):
            owner.dossier("Korzhakov")
    finally:
        owner.close()
    # Not in the archive file, nor in the audit anchors, in any form.
    for f in archive.parent.iterdir():
        if f.name.endswith(".sources-key"):
            continue
        blob = f.read_bytes()
        assert b"Korzhakov" not in blob and "Корзаков".encode() not in blob, f.name


def test_handover_moves_the_source_and_is_audited(archive: Path) -> None:
    h1 = _as(archive, "handler1")
    assert h1.source_handover("GRANITE", "handler2") == {"cryptonym": "GRANITE", "from": "handler1", "to": "handler2"}
    with pytest.raises(KartotekaError):
        h1.source_show("GRANITE")  # no longer theirs
    h1.close()
    h2 = _as(archive, "handler2")
    assert h2.source_show("GRANITE")["true_name"] == TRUE_NAME
    h2.close()
    import sqlite3

    trail = archive.with_name(archive.name + ".audit.sqlite")
    actions = [r[0] for r in sqlite3.connect(trail).execute("SELECT action FROM audit")]
    assert "source handover" in actions and "source add" in actions
    owner = _as(archive, None)
    assert owner.audit_verify()["ok"]
    owner.close()


@pytest.mark.parametrize(
    ("user", "cryptonym", "handler", "code"),
    [
        ("analyst", "BASALT", "handler1", "E100"),  # not the registry chief
        (None, "granite", "handler1", "E048"),  # bad cryptonym
        (None, "BASALT", "nobody", "E102"),  # unknown handler
        (None, "BASALT", "clerk", "E102"),  # a handler not cleared for S:HUM
        (None, "GRANITE", "handler1", "E049"),  # exists
    ],
)
def test_registration_errors(archive: Path, user: str | None, cryptonym: str, handler: str, code: str) -> None:
    a = _as(archive, user)
    try:
        with pytest.raises(KartotekaError, match=code):
            a.source_add(cryptonym, "Someone Else", handler)
    finally:
        a.close()


def _message(fn: object) -> str:
    with pytest.raises(KartotekaError) as exc:
        fn()  # type: ignore[operator]
    return exc.value.message


def test_handover_needs_a_new_handler_cleared_for_the_source(archive: Path) -> None:
    owner = _as(archive, None)
    try:
        owner.add_user("clerk", "U", [])  # exists, but holds neither S nor HUM
        uncleared = _message(lambda: owner.source_handover("GRANITE", "clerk"))
        missing = _message(lambda: owner.source_handover("GRANITE", "nobody"))
        # A user without the source's tokens does not get it, and is told apart
        # from a user who does not exist by nothing but the name.
        assert "E102" in uncleared
        assert uncleared.replace("clerk", "X") == missing.replace("nobody", "X")
        assert owner.source_show("GRANITE")["handler"] == "handler1"
    finally:
        owner.close()
    h1 = _as(archive, "handler1")
    try:
        assert "E102" in _message(lambda: h1.source_handover("GRANITE", "clerk"))
    finally:
        h1.close()


def test_a_handler_whose_clearance_is_lowered_loses_the_source(archive: Path) -> None:
    owner = _as(archive, None)
    owner.add_user("handler1", "S", [])  # HUM taken away
    owner.close()
    h1 = _as(archive, "handler1")
    try:
        assert h1.sources() == []
        assert "E047" in _message(lambda: h1.source_show("GRANITE"))
    finally:
        h1.close()


def test_a_source_has_a_label_and_its_handler_is_cleared_for_it(archive: Path) -> None:
    owner = _as(archive, None)
    try:
        assert owner.source_add("BASALT", "Someone Else", "analyst", "TS:HUM&NOFORN")["label"] == "TS:HUM&NOFORN"
        assert "E102" in _message(lambda: owner.source_handover("BASALT", "handler1"))  # S only
        assert "E041" in _message(lambda: owner.source_add("SLATE", "Someone", "handler1", "S:HUM&("))
        assert owner.source_show("GRANITE")["label"] == "S:HUM"
    finally:
        owner.close()
