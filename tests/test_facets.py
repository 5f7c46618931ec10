"""Search facets on the demo archive: counts a person can check by reading the demo corpus."""

from __future__ import annotations

import pytest

from kartoteka.archive import Archive
from kartoteka.errors import InvalidInput


# Every test here runs on SQLite and on PostgreSQL (tests/backends.py).
@pytest.fixture(scope="session")
def demo_archive(demo_both: Archive) -> Archive:
    return demo_both


def _values(result: dict[str, object], name: str) -> dict[str, int]:
    facets = result["facets"]
    assert isinstance(facets, dict)
    return {str(item["value"]): int(item["count"]) for item in facets[name]}


def test_facets_count_the_owner_matches(demo_archive: Archive) -> None:
    result = demo_archive.search("Lisbon", with_facets=True)
    assert result["facets_over"] == result["total"]
    sources = _values(result, "source")
    # Lisbon is in the cable, the report, the article and the interview of the demo corpus.
    assert set(sources) == {
        "article-holloway-2001.html",
        "cable-1977-lisbon.txt",
        "interview-bortnik-1993.md",
        "report-1978-0412.txt",
    }
    assert sum(sources.values()) == result["total"]
    assert _values(result, "collection") == {"corpus": result["total"]}
    assert "1976" in _values(result, "year")  # "arrived in Lisbon in 1976"


def test_choosing_a_value_narrows_totals_and_hits(demo_archive: Archive) -> None:
    whole = demo_archive.search("Lisbon", with_facets=True)
    narrowed = demo_archive.search("Lisbon", chosen={"source": "cable-1977-lisbon.txt"}, with_facets=True)
    assert narrowed["total"] == _values(whole, "source")["cable-1977-lisbon.txt"]
    assert {h["source"].rsplit("/", 1)[-1] for h in narrowed["hits"]} == {"cable-1977-lisbon.txt"}
    assert _values(narrowed, "source") == {"cable-1977-lisbon.txt": narrowed["total"]}
    both = demo_archive.search("Lisbon", chosen={"source": "cable-1977-lisbon.txt", "year": "1899"})
    assert both["total"] == 0 and both["hits"] == []


def test_a_clerk_counts_only_what_they_may_see(demo_archive: Archive) -> None:
    demo_archive.add_user("facet-clerk", "U", [])
    clerk = Archive(demo_archive.path, user="facet-clerk")
    try:
        result = clerk.search("Lisbon", with_facets=True)
    finally:
        clerk.close()
    assert _values(result, "classification") == {"U": result["total"]}
    assert "cable-1977-lisbon.txt" not in _values(result, "source")
    assert "report-1978-0412.txt" not in _values(result, "source")


def test_an_unknown_facet_is_a_numbered_error(demo_archive: Archive) -> None:
    with pytest.raises(InvalidInput, match="E071"):
        demo_archive.search("Lisbon", chosen={"colour": "red"})
