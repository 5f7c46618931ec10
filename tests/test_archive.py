"""Name check, dossier, search, corrections and imports on real archives."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from kartoteka.archive import Archive
from kartoteka.demo import corpus_path
from kartoteka.errors import KartotekaError
from kartoteka.names.compare import LIKELY
from tests.backends import Where
from tests.conftest import ingest_paths

# Every test here runs on SQLite and on PostgreSQL (tests/backends.py).


@pytest.fixture(scope="session")
def demo_archive(demo_both: Archive) -> Archive:
    return demo_both


@pytest.fixture
def archive(where: Where, tmp_path: Path) -> Iterator[Archive]:
    arch = Archive(where(tmp_path, "a.db"))
    yield arch
    arch.close()


def top(arch: Archive, name: str) -> dict[str, object]:
    matches = arch.check(name)["matches"]
    assert isinstance(matches, list) and matches, f"no match for {name}"
    return matches[0]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "query",
    ["Зорин", "Sorin", "Zorine", "ZORIN, Arkadiy P.", "Arkadij Pawlowitsch Sorin", "Col. Zorin", "Arkady Pavlovich"],
)
def test_check_finds_the_resident_in_any_spelling(demo_archive: Archive, query: str) -> None:
    m = top(demo_archive, query)
    assert "Zorin" in str(demo_archive.dossier(str(m["entity_id"]))["aliases"]) or "Zorin" in str(m["name"])
    assert float(m["score"]) >= LIKELY  # type: ignore[arg-type]
    assert m["explanation"]


def test_check_keeps_namesakes_apart(demo_archive: Archive) -> None:
    pyotr, vladimir = top(demo_archive, "Pyotr Kalmykov"), top(demo_archive, "Vladimir Kalmykov")
    assert pyotr["entity_id"] != vladimir["entity_id"]
    assert pyotr["name"] == "Pyotr Kalmykov" and vladimir["name"] == "Vladimir Kalmykov"
    # A third given name matches neither as likely.
    others = demo_archive.check("Ivan Kalmykov")["matches"]
    assert all(float(m["score"]) < LIKELY for m in others)  # type: ignore[index]


def test_check_json_shape(demo_archive: Archive) -> None:
    r = demo_archive.check("Wetrowa")
    assert set(r) == {"query", "matches"}
    for m in r["matches"]:  # type: ignore[attr-defined]
        assert set(m) == {"entity_id", "name", "score", "explanation", "labels"}
        assert 0.0 <= m["score"] <= 1.0


def test_empty_query_is_a_clear_error(demo_archive: Archive) -> None:
    with pytest.raises(KartotekaError, match="E024"):
        demo_archive.check("Gen.")


def test_dossier_cites_every_document(demo_archive: Archive) -> None:
    d = demo_archive.dossier("Arkady Zorin")
    sources = {Path(doc["source"]).name for doc in d["documents"]}
    assert sources == {
        "report-1978-0412.txt",
        "interview-bortnik-1993.md",
        "article-holloway-2001.html",
        "cable-1977-lisbon.txt",
    } or sources >= {"report-1978-0412.txt", "interview-bortnik-1993.md", "article-holloway-2001.html"}
    for doc in d["documents"]:
        for s in doc["snippets"]:
            assert s["mention"] in s["text"]
    assert any(x["value"] == "1976-03-14" for x in d["dates"])
    assert any(a["name"] == "Lisbon" for a in d["associates"])


def test_dossier_unknown_is_not_found(demo_archive: Archive) -> None:
    with pytest.raises(KartotekaError, match="E020"):
        demo_archive.dossier("Nobody Whatsoever")


def test_search_with_snippets_and_bad_syntax(demo_archive: Archive) -> None:
    r = demo_archive.search("Mendes")
    assert r["total"] >= 3 and all("«" in h["snippet"] for h in r["hits"])  # type: ignore[union-attr]
    assert demo_archive.search('Gen. "Zorin')["total"] >= 1  # not FTS syntax: searched as words


def test_corrections_survive_reingest(where: Where, tmp_path: Path) -> None:
    arch = Archive(where(tmp_path, "c.db"))
    ingest_paths(arch, corpus_path())
    zorin = str(top(arch, "Arkady Zorin")["entity_id"])
    bortnik = str(top(arch, "Grigory Bortnik")["entity_id"])
    # alias: an analyst knows a cover name
    arch.alias(zorin, "Anton Sorokin")
    assert top(arch, "Anton Sorokin")["entity_id"] == zorin
    # split: move one mention to a new entity
    mention = arch.dossier(zorin)["documents"][0]["snippets"][0]["mention_id"]
    split = arch.split(zorin, [mention])
    new_id = str(split["new_entity_id"])
    # merge: Bortnik into Zorin (deliberately wrong, to show it is kept)
    arch.merge(zorin, bortnik)
    before = arch.dossier(zorin)
    ingest_paths(arch, corpus_path())  # re-ingest: a no-op
    after = arch.dossier(zorin)
    assert before == after
    assert arch.dossier(bortnik)["entity_id"] == zorin  # redirect
    assert arch.dossier(new_id)["mention_count"] == 1
    # A new document naming the alias resolves to the corrected entity.
    (tmp_path / "new.txt").write_text("A later cable says Anton Sorokin left Lisbon for Rome.\n")
    ingest_paths(arch, tmp_path / "new.txt")
    assert any(Path(d["source"]).name == "new.txt" for d in arch.dossier(zorin)["documents"])
    assert [c["op"] for c in arch.corrections()] == ["alias", "split", "merge"]
    with pytest.raises(KartotekaError, match="E022"):
        arch.split(zorin, ["doc-0000:1-2"])
    with pytest.raises(KartotekaError, match="E023"):
        arch.merge(zorin, zorin)
    arch.close()


def test_import_csv_and_ftm(archive: Archive, tmp_path: Path) -> None:
    csv_path = tmp_path / "known.csv"
    csv_path.write_text(
        "id,name,aliases\nkgb-001,Oleg Danilovich Kalugin,Калугин Олег Данилович;Gen. Kalugin\n"
        "kgb-002,Vladimir Kryuchkov,Крючков\n,Missing Id,\nkgb-003,Gen.,\n"
    )
    results = list(archive.import_persons(csv_path))
    assert [r["status"] for r in results] == ["added", "added", "error", "error"]
    assert all("row" in str(r["error"]) or "E024" in str(r["error"]) for r in results if r["status"] == "error")
    ftm = tmp_path / "persons.jsonl"
    ftm.write_text(
        json.dumps(
            {"id": "os-abc", "schema": "Person", "properties": {"name": ["Yuri Andropov"], "alias": ["Юрий Андропов"]}}
        )
        + "\n"
        + json.dumps({"id": "os-org", "schema": "Company", "properties": {"name": ["KGB"]}})
        + "\n"
        + "{broken\n"
    )
    statuses = [r["status"] for r in archive.import_persons(ftm)]
    assert statuses == ["added", "error", "error"]
    assert top(archive, "Krjutschkow")["entity_id"] == "kgb-002"
    assert top(archive, "Андропов")["entity_id"] == "os-abc"
    assert top(archive, "Калугин")["entity_id"] == "kgb-001"
    # Re-import is idempotent.
    assert [r["status"] for r in archive.import_persons(csv_path)][:2] == ["unchanged", "unchanged"]
    # A document naming an imported person links to the imported id.
    (tmp_path / "d.txt").write_text("In 1990 Vladimir Kryuchkov received the ambassador.\n")
    ingest_paths(archive, tmp_path / "d.txt")
    d = archive.dossier("kgb-002")
    assert d["mention_count"] == 1 and d["origin"] == "imported"


def test_import_rejects_wrong_columns(archive: Archive, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("ident,fullname\n1,X\n")
    with pytest.raises(KartotekaError, match="E031"):
        list(archive.import_persons(bad))
