"""Co-occurrence and timelines on an archive, through the policy layer."""

from __future__ import annotations

from pathlib import Path

import pytest

from kartoteka.archive import Archive
from tests.access.test_policy import _doc

DOCS = [
    ("a.txt", "U", "(U) Colonel Arkady Zorin met Duarte Mendes in Lisbon in March 1977."),
    ("b.txt", "U", "(U) Colonel Arkady Zorin dined with the journalist Duarte Mendes on 4 April 1977."),
    ("c.txt", "U", "(U) Arkady Zorin and Duarte Mendes were seen together in Porto in 1978."),
    ("d.txt", "U", "(U) Margaret Holloway interviewed Grigory Bortnik in 1993."),
    ("e.txt", "U", "(U) Grigory Bortnik spoke about the archive in Moscow."),
    ("f.txt", "S:HUM", "(S//HUM) Colonel Arkady Zorin met Grigory Bortnik secretly in Vienna on 2 May 1979."),
]


@pytest.fixture(scope="module")
def path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("analysis") / "a.db"
    arch = Archive(p)
    for name, label, text in DOCS:
        assert [r.status for r in arch.ingest([_doc(name, text)], label=label)] == ["added"]
    arch.add_user("ivan", "U", [])
    arch.close()
    return p


def test_cooccur_counts_documents_and_respects_the_policy(path: Path) -> None:
    owner, ivan = Archive(path), Archive(path, user="ivan")
    try:
        r = owner.cooccur("Arkady Zorin", "Duarte Mendes")
        assert set(r) == {"a", "b", "n", "n_a", "n_b", "k", "p_value", "pmi", "g2", "knox"}
        # Lisbon 1977-03, Lisbon 1977-04-04 and Porto 1978: places and dates known on both sides.
        assert r["knox"] is not None and r["knox"]["permutations"] == 999 and r["knox"]["close_pairs"] >= 2
        assert (r["n"], r["k"]) == (6, 3)
        assert r["n_a"] == 4 and r["n_b"] == 3
        hidden = owner.cooccur("Arkady Zorin", "Grigory Bortnik")
        assert hidden["k"] == 1
        seen = ivan.cooccur("Arkady Zorin", "Grigory Bortnik")
        assert (seen["n"], seen["k"], seen["n_a"]) == (5, 0, 3)  # the SECRET meeting does not exist for ivan
        assert seen["pmi"] is None and seen["p_value"] == 1.0
    finally:
        owner.close()
        ivan.close()


def test_associates_are_ranked_with_fdr_correction(path: Path) -> None:
    owner = Archive(path)
    try:
        r = owner.associates("Arkady Zorin")
        assert r["tested"] >= 2
        names = [a["name"] for a in r["associates"]]
        assert names[0] == "Duarte Mendes"
        for a in r["associates"]:
            assert a["q_value"] >= a["p_value"]
    finally:
        owner.close()


def test_timeline_orders_dates_and_says_their_precision(path: Path) -> None:
    owner, ivan = Archive(path), Archive(path, user="ivan")
    try:
        events = owner.timeline("Arkady Zorin")["events"]
        dates = [(e["date"], e["precision"]) for e in events]
        assert dates == [("1977-03", "month"), ("1977-04-04", "day"), ("1978", "year"), ("1979-05-02", "day")]
        assert all(e["document_id"] and e["snippet"] for e in events)
        assert [e["date"] for e in ivan.timeline("Arkady Zorin")["events"]] == ["1977-03", "1977-04-04", "1978"]
    finally:
        owner.close()
        ivan.close()
