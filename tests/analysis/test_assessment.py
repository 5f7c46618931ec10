"""Admiralty grades and claims: confirmation needs independent sources; contradictions are flagged."""

from __future__ import annotations

from pathlib import Path

import pytest

from kartoteka.analysis.assessment import Claim, assess, stix_confidence
from kartoteka.archive import Archive
from kartoteka.errors import KartotekaError
from tests.access.test_policy import _doc


def _c(i: int, source: str, cred: int = 2, subject: str = "z", statement: str = "", rel: str | None = None,
       obj: str | None = None, doc: str | None = None) -> Claim:  # fmt: skip
    return Claim(i, subject, statement or (rel or ""), rel, obj, source, "B", cred, doc, None, "analyst")


def test_confirmation_needs_two_independent_sources() -> None:
    # Two documents from one source do not confirm each other.
    same = assess(
        [
            _c(1, "GRANITE", 2, statement="was in Lisbon", doc="d1"),
            _c(2, "GRANITE", 2, statement="was in Lisbon", doc="d2"),
        ]
    )
    assert [a.credibility for a in same] == [2]
    # Even a source grading itself 1 is not confirmation on its own.
    alone = assess([_c(1, "GRANITE", 1, statement="was in Lisbon")])
    assert alone[0].credibility == 2 and not alone[0].confirmed
    two = assess([_c(1, "GRANITE", 3, statement="was in Lisbon."), _c(2, "BASALT", 2, statement="Was in Lisbon")])
    assert (
        len(two) == 1 and two[0].credibility == 1 and two[0].confirmed and two[0].sources == ["GRANITE", "BASALT"]
    )  # as first stated


def test_contradictions_are_flagged_both_ways() -> None:
    claims = [
        _c(1, "GRANITE", rel="superior_of", subject="a", obj="b"),
        _c(2, "BASALT", rel="superior_of", subject="b", obj="a"),
        _c(3, "GRANITE", statement="was in Lisbon in 1977"),
        _c(4, "BASALT", statement="was not in Lisbon in 1977"),
        _c(5, "BASALT", rel="met", subject="a", obj="b"),
        _c(6, "GRANITE", rel="met", subject="b", obj="a"),  # symmetric: agreement, not contradiction
    ]
    by_key = {a.key: a for a in assess(claims)}
    assert by_key[("rel", "a", "superior_of", "b")].contradicted_by == [("rel", "b", "superior_of", "a")]
    assert by_key[("rel", "b", "superior_of", "a")].contradicted_by
    assert by_key[("say", "z", "was in lisbon in 1977")].contradicted_by
    assert by_key[("say", "z", "was not in lisbon in 1977")].contradicted_by
    met = by_key[("rel", "a", "met", "b")]
    assert met.confirmed and not met.contradicted_by


def test_stix_mapping_of_credibility() -> None:
    assert [stix_confidence(c) for c in range(1, 7)] == [90, 70, 50, 30, 10, None]


def test_grades_claims_and_the_dossier(tmp_path: Path) -> None:
    arch = Archive(tmp_path / "g.db")
    try:
        [a] = list(
            arch.ingest(
                [_doc("a.txt", "(U) Colonel Arkady Zorin met the journalist Duarte Mendes in Lisbon on 4 April 1977.")]
            )
        )
        [b] = list(
            arch.ingest(
                [_doc("b.txt", "(U) The journalist Duarte Mendes met Colonel Arkady Zorin in Porto in May 1977.")]
            )
        )
        assert a.document_id and b.document_id
        arch.grade(a.document_id, "B", 2, reported_by="GRANITE")
        arch.grade(b.document_id, "C", 3, reported_by="BASALT")
        with pytest.raises(KartotekaError, match="E050"):
            arch.grade(a.document_id, "G", 2)
        with pytest.raises(KartotekaError, match="E050"):
            arch.grade(a.document_id, "B", 7)
        arch.build_relations()
        assert arch.derive_claims()["claims"] >= 2
        arch.claim("Arkady Zorin", "was recalled to Moscow in January 1978", "GRANITE", "B", 2)
        facts = arch.dossier("Arkady Zorin")["facts"]
        met = next(f for f in facts if " met " in f["fact"])
        assert met["confirmed"] and met["credibility"] == 1 and sorted(met["sources"]) == ["BASALT", "GRANITE"]
        recalled = next(f for f in facts if "recalled" in f["fact"])
        assert recalled["credibility"] == 2 and not recalled["confirmed"]
        assert all(f["evidence"] for f in facts)
        # STIX relationships carry the Admiralty confidence of their evidence.
        import json

        from kartoteka.analysis import export

        bundle = json.loads(export.render(arch.network("Arkady Zorin"), "stix"))
        confidences = {o["confidence"] for o in bundle["objects"] if o["type"] == "relationship"}
        assert confidences <= {70, 50} and confidences
    finally:
        arch.close()
