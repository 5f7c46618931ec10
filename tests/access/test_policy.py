"""The policy layer, probed as an adversary would: a user below an item must
get exactly what they would get if it did not exist."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kartoteka.archive import Archive
from kartoteka.errors import KartotekaError
from kartoteka.registry.readers import RawDocument, read_path

OPEN_REPORT = """\
UNCLASSIFIED

(U) Colonel Arkady Zorin met the journalist Duarte Mendes in Lisbon in March 1977.

(S//HUM) The agent Boris Kovalenko reported that Zorin was recalled to Moscow.

(U) Zorin later wrote about the Lisbon station.
"""

SECRET_CABLE = """\
(S//HUM) General Oleg Sokolov met Boris Kovalenko in Vienna on 3 May 1979.

(S//HUM) Sokolov asked Kovalenko about Zorin.
"""

LOW, MID, HIGH = "ivan", "petr", "sveta"  # U; S without HUM; S with HUM


def _doc(source: str, text: str) -> RawDocument:
    return RawDocument(source=source, format="txt", reader="test.v1", text=text)


@pytest.fixture(scope="module")
def archive_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("compartments") / "c.db"
    owner = Archive(path)
    results = list(owner.ingest([_doc("open-report.txt", OPEN_REPORT)]))
    results += list(owner.ingest([_doc("secret-cable.txt", SECRET_CABLE)], label="S:HUM"))
    assert [r.status for r in results] == ["added", "added"]
    owner.add_user(LOW, "U", [])
    owner.add_user(MID, "S", [])
    owner.add_user(HIGH, "S", ["HUM"])
    owner.close()
    return path


@pytest.fixture
def as_user(archive_path: Path) -> Iterator[dict[str | None, Archive]]:
    views = {u: Archive(archive_path, user=u) for u in (None, LOW, MID, HIGH)}
    yield views
    for a in views.values():
        a.close()


def _ids(arch: Archive) -> dict[str, str]:
    return {d["source"]: d["id"] for d in arch.documents()}


def _error(fn: object) -> str:
    with pytest.raises(KartotekaError) as exc:
        fn()  # type: ignore[operator]
    return exc.value.message


def test_a_person_named_only_above_you_is_not_in_your_name_check(as_user: dict[str | None, Archive]) -> None:
    for user in (LOW, MID):
        assert as_user[user].check("Boris Kovalenko")["matches"] == []
        assert as_user[user].check("Oleg Sokolov")["matches"] == []
        # Exactly what a name nobody ever wrote gives.
        hidden, never = as_user[user].check("Boris Kovalenko"), as_user[user].check("Quentin Nobodyson")
        assert {**hidden, "query": ""} == {**never, "query": ""}
    assert as_user[HIGH].check("Boris Kovalenko")["matches"]
    assert as_user[None].check("Oleg Sokolov")["matches"]


def test_hidden_and_missing_documents_give_the_same_error(as_user: dict[str | None, Archive]) -> None:
    secret = _ids(as_user[None])["secret-cable.txt"]
    missing = "doc-" + "0" * len(secret.removeprefix("doc-"))
    for user in (LOW, MID):
        hidden_msg = _error(lambda u=user: as_user[u].document(secret))
        missing_msg = _error(lambda u=user: as_user[u].document(missing))
        assert hidden_msg.replace(secret, "X") == missing_msg.replace(missing, "X")
    assert as_user[HIGH].document(secret)["banner"] == "SECRET//HUM"


def test_lists_and_counts_leave_out_what_you_cannot_see(as_user: dict[str | None, Archive]) -> None:
    assert set(_ids(as_user[LOW])) == {"open-report.txt"}
    assert set(_ids(as_user[HIGH])) == {"open-report.txt", "secret-cable.txt"}
    low, high = as_user[LOW].stats(), as_user[HIGH].stats()
    assert low["documents"] == 1 and high["documents"] == 2
    assert low["portions"] < high["portions"]
    assert low["people"] < high["people"]
    # A viewer's counts equal what they can list.
    doc = as_user[LOW].document(_ids(as_user[LOW])["open-report.txt"])
    assert doc["portion_count"] == len(doc["portions"])
    assert "Kovalenko" not in str(doc)
    assert doc["banner"] == "UNCLASSIFIED"
    assert as_user[None].document(_ids(as_user[None])["open-report.txt"])["banner"] == "SECRET//HUM"


@pytest.mark.parametrize("query", ["Kovalenko", "Sokolov", "Vienna", "Zorin", "Lisbon"])
def test_search_totals_and_pages_are_paired_with_clearance(as_user: dict[str | None, Archive], query: str) -> None:
    totals = {}
    for user in (LOW, MID, HIGH, None):
        r = as_user[user].search(query, limit=1)
        totals[user] = r["total"]
        pages = [as_user[user].search(query, limit=1, offset=i)["hits"] for i in range(r["total"] + 1)]
        assert sum(len(p) for p in pages) == r["total"]  # pagination never shows more than the total
        for p in pages:
            for hit in p:
                if user in (LOW, MID):
                    assert "Kovalenko" not in hit["snippet"] and "Sokolov" not in hit["snippet"]
    assert totals[LOW] == totals[MID] <= totals[HIGH] == totals[None]
    if query in ("Kovalenko", "Sokolov", "Vienna"):
        assert totals[LOW] == 0 and totals[HIGH] > 0


def test_dossier_draws_nothing_from_hidden_passages(as_user: dict[str | None, Archive]) -> None:
    low = as_user[LOW].dossier("Arkady Zorin")
    high = as_user[HIGH].dossier("Arkady Zorin")
    text = str(low)
    assert "Kovalenko" not in text and "Sokolov" not in text and "Moscow" not in text
    assert low["mention_count"] < high["mention_count"]
    assert {a["name"] for a in high["associates"]} > {a["name"] for a in low["associates"]}
    # The dossier of a hidden person cannot be opened, by name or by id.
    kovalenko = as_user[HIGH].check("Boris Kovalenko")["matches"][0]["entity_id"]
    for ref in ("Boris Kovalenko", kovalenko):
        msg = _error(lambda r=ref: as_user[LOW].dossier(r))
        missing = _error(lambda: as_user[LOW].dossier("per-000000000000"))
        assert msg.replace(ref, "X") == missing.replace("per-000000000000", "X")
    # Nor corrected through it.
    _error(lambda: as_user[LOW].alias(kovalenko, "Boris K."))


def test_only_the_owner_manages_users_and_unknown_users_are_refused(archive_path: Path) -> None:
    with pytest.raises(KartotekaError, match="E040"):
        Archive(archive_path, user="mallory")
    arch = Archive(archive_path, user=LOW)
    try:
        with pytest.raises(KartotekaError, match="E042"):
            arch.add_user("mallory", "TS", [])
    finally:
        arch.close()


@pytest.mark.parametrize("bad", ["", "X", "S:A|B&C", "S:()", 'S:"', "S:a&&b"])
def test_bad_labels_are_refused_on_ingest(tmp_path: Path, bad: str) -> None:
    arch = Archive(tmp_path / "a.db")
    try:
        with pytest.raises(KartotekaError, match="E041"):
            list(arch.ingest([_doc("x.txt", "(U) Nothing.")], label=bad))
        assert arch.stats()["documents"] == 0
    finally:
        arch.close()


# Audit log -----------------------------------------------------------------------


def _audited(tmp_path: Path) -> Path:
    path = tmp_path / "audit.db"
    arch = Archive(path)
    list(arch.ingest([_doc("a.txt", OPEN_REPORT)]))
    arch.check("Boris Kovalenko")
    arch.search("Kovalenko")
    arch.close()
    arch = Archive(path)
    arch.search("Lisbon")
    arch.close()
    return path


def _trail(path: Path) -> Path:
    """The audit trail's own database, beside the archive."""
    return path.with_name(path.name + ".audit.sqlite")


def _verify(path: Path) -> dict[str, object]:
    arch = Archive(path)
    try:
        return arch.audit_verify()
    finally:
        arch.close()


def test_audit_log_is_intact_and_holds_no_text(tmp_path: Path) -> None:
    path = _audited(tmp_path)
    result = _verify(path)
    assert result["ok"] and result["entries"] >= 4, result
    rows = sqlite3.connect(_trail(path)).execute("SELECT * FROM audit").fetchall()
    dump = repr(rows)
    for secret in ("Kovalenko", "Lisbon", "Boris"):
        assert secret not in dump


def _tamper(path: Path, sql: str) -> None:
    db = sqlite3.connect(path)
    db.executescript(sql)
    db.commit()
    db.close()


@pytest.mark.parametrize(
    "attack",
    [
        "UPDATE audit SET actor='mallory' WHERE seq=2;",  # a changed entry
        # One character of a keyed hash flipped (always to a different character).
        "UPDATE audit SET detail=substr(detail,1,5)||(CASE WHEN substr(detail,6,1)='0' THEN '1' ELSE '0' END)"
        "||substr(detail,7) WHERE seq=3;",
        "DELETE FROM audit WHERE seq=(SELECT max(seq) FROM audit);",  # the last entry deleted
        "DELETE FROM audit WHERE seq=2;",  # an entry in the middle deleted
        # Two entries swapped (their contents exchanged, heads kept in place).
        "CREATE TEMP TABLE t AS SELECT * FROM audit WHERE seq IN (2,3);"
        "UPDATE audit SET action=(SELECT action FROM t WHERE seq=3), subjects=(SELECT subjects FROM t WHERE seq=3),"
        " detail=(SELECT detail FROM t WHERE seq=3) WHERE seq=2;"
        "UPDATE audit SET action=(SELECT action FROM t WHERE seq=2), subjects=(SELECT subjects FROM t WHERE seq=2),"
        " detail=(SELECT detail FROM t WHERE seq=2) WHERE seq=3;",
    ],
)
def test_audit_tampering_is_detected(tmp_path: Path, attack: str) -> None:
    path = _audited(tmp_path)
    before = sqlite3.connect(_trail(path)).execute("SELECT * FROM audit").fetchall()
    _tamper(_trail(path), attack)
    assert (
        sqlite3.connect(_trail(path)).execute("SELECT * FROM audit").fetchall() != before
    )  # the attack changed something
    result = _verify(path)
    assert not result["ok"], attack


def test_a_replayed_old_head_is_detected(tmp_path: Path) -> None:
    path = _audited(tmp_path)
    anchors = path.with_name(path.name + ".audit-anchors")
    lines = anchors.read_text().splitlines()
    assert len(lines) >= 2
    # Truncate the log back to the first anchored head and present that head again.
    first_seq = int(lines[0].split('"seq": ')[1].split(",")[0])
    _tamper(_trail(path), f"DELETE FROM audit WHERE seq > {first_seq};")
    anchors.write_text("\n".join([*lines, lines[0]]) + "\n")
    assert not _verify(path)["ok"]


def test_a_forged_anchor_is_detected(tmp_path: Path) -> None:
    path = _audited(tmp_path)
    anchors = path.with_name(path.name + ".audit-anchors")
    text = anchors.read_text()
    anchors.write_text(text.replace('"sig": "', '"sig": "00', 1))
    assert not _verify(path)["ok"]


# Fuzzing ingest ------------------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400))
def test_ingest_of_random_bytes_fails_only_cleanly(tmp_path: Path, data: bytes) -> None:
    f = tmp_path / "random.txt"
    f.write_bytes(data)
    arch = Archive(tmp_path / "fuzz.db")
    try:
        for result in arch.ingest(read_path(f)):
            assert result.status in ("added", "unchanged", "error")
            if result.status == "error":
                assert result.error and "\n" not in result.error
    finally:
        arch.close()
