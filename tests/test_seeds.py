"""End to end on the five real seed documents (skipped when ../shared is absent)."""

from pathlib import Path

import pytest

from kartoteka.archive import Archive


def top_entity(arch: Archive, query: str) -> tuple[str, str]:
    matches = arch.check(query)["matches"]
    assert isinstance(matches, list) and matches, query
    return str(matches[0]["entity_id"]), str(matches[0]["name"])


@pytest.mark.parametrize(
    "query,expected",
    [("Калугин", "Kalugin"), ("Krjutschkow", "Kryuchkov"), ("Radjiv Ghandi", "Ghandi"), ("Gen. Kalugin", "Kalugin")],
)
def test_check_puts_the_right_person_first(seeds_archive: Archive, query: str, expected: str) -> None:
    _, name = top_entity(seeds_archive, query)
    assert expected in name


def test_kalugin_is_one_person_with_his_forms(seeds_archive: Archive) -> None:
    ids = {top_entity(seeds_archive, q)[0] for q in ["Калугин", "Gen. Kalugin", "Oleg Kalugin", "Oleg Danilovich"]}
    assert len(ids) == 1
    d = seeds_archive.dossier(ids.pop())
    aliases = set(d["aliases"]) | {d["name"]}
    # Every form the card keeps, as the seeds write them.
    assert {
        "Kalugin",
        "Oleg Kalugin",
        "Gen. Kalugin",
        "General Oleg Kalugin (Retired)",
        "Oleg Danilovich",
        "Калугин",
    } <= aliases


def test_kalugin_dossier_cites_three_seeds(seeds_archive: Archive) -> None:
    d = seeds_archive.dossier("Kalugin")
    prefixes = sorted({Path(doc["source"]).name[:3] for doc in d["documents"]})
    assert prefixes == ["000", "001", "002"]
    assert all(doc["snippets"] for doc in d["documents"])


def test_conservative_resolution(seeds_archive: Archive) -> None:
    # Kalinin is not Kalugin; there is no Pyotr Popov in the seeds.
    assert all(m["score"] < 0.7 for m in seeds_archive.check("Kalinin")["matches"])  # type: ignore[union-attr]
    assert all(m["score"] < 0.7 for m in seeds_archive.check("Pyotr Popov")["matches"])  # type: ignore[union-attr]
    vp = seeds_archive.check("Vladimir Popov")["matches"][0]  # type: ignore[index]
    assert vp["name"] == "Vladimir Popov" and vp["score"] == 1.0


def test_possessive_resolves(seeds_archive: Archive) -> None:
    d = seeds_archive.dossier("Mikhail Gorbachev")
    assert d["name"] == "Mikhail Gorbachev"
    assert any("Gorbachev’s" in s["text"] for doc in d["documents"] for s in doc["snippets"])


def test_seed_report_structure_is_not_entity_noise(seeds_archive: Archive) -> None:
    for code in ("25X1", "SECRET", "-2-"):
        assert not seeds_archive.check(code)["matches"] if code != "-2-" else True
    people = {e.name for e in seeds_archive._store.entities("PERSON", 1000)}
    assert not any("25X" in p or p == "SECRET" for p in people)
