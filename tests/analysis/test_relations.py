"""Relation extraction: the labelled sentences, and links through the policy layer."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kartoteka.analysis.relations import Ent, extract, load_parser, parse_view, vocab
from kartoteka.archive import Archive
from tests.access.test_policy import _doc

SENTENCES = Path(__file__).resolve().parents[2] / "bench" / "relations" / "sentences.yml"


def _key(t: str, a: str, b: str) -> tuple[str, str, str]:
    return (t, *sorted((a, b))) if t in vocab().symmetric else (t, a, b)  # type: ignore[return-value]


def test_precision_and_recall_on_the_labelled_sentences() -> None:
    items = yaml.safe_load(SENTENCES.read_text(encoding="utf-8"))["sentences"]
    assert len(items) >= 150
    nlp = load_parser()
    tp = fp = fn = 0
    for text, ents, rels in items:
        spans = [Ent(text.find(n), text.find(n) + len(n), k, n) for n, k in ents]
        gold = {_key(t, a, b) for a, t, b in rels}
        pred = {_key(r.type, r.subject, r.object) for r in extract(nlp(text), spans)}
        tp += len(gold & pred)
        fp += len(pred - gold)
        fn += len(gold - pred)
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    # Recorded in BENCHMARKS.md; these floors catch a regression.
    assert precision >= 0.95 and recall >= 0.85, (precision, recall)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Kovac and Hart never met again.", set()),
        ("The report names Zorin and Mendes.", set()),
        ("Vogt was recruited by Shepard in 1959.", {("recruited", "Shepard", "Vogt")}),
        ("Kessler reported to Brandt every Monday.", {("superior_of", "Brandt", "Kessler")}),
    ],
)
def test_direction_negation_and_co_mention(text: str, expected: set[tuple[str, str, str]]) -> None:
    names = ["Kovac", "Hart", "Zorin", "Mendes", "Vogt", "Shepard", "Kessler", "Brandt"]
    spans = [Ent(text.find(n), text.find(n) + len(n), "PERSON", n) for n in names if n in text]
    # A negated relation is kept, marked (see test_modality.py): it is no fact.
    found = extract(load_parser()(text), spans)
    assert {(r.type, r.subject, r.object) for r in found if r.modality == "asserted"} == expected


def test_parse_view_keeps_offsets() -> None:
    text = "(S//HUM) 2. [ ] **Bortnik:** ZORIN MET MENDES IN LISBON."
    view = parse_view(text)
    assert len(view) == len(text)
    assert "(S//HUM)" not in view and "**" not in view


REPORTS = [
    ("a.txt", "U", "(U) Colonel Arkady Zorin met the journalist Duarte Mendes in Lisbon on 4 April 1977."),
    ("b.txt", "U", "(U) The journalist Duarte Mendes telephoned Margaret Holloway in London in 1980."),
    ("c.txt", "S:HUM", "(S//HUM) Colonel Arkady Zorin recruited Grigory Bortnik in Vienna in 1979."),
    ("d.txt", "U", "(U) Grigory Bortnik telephoned Margaret Holloway in 1993."),
]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("links") / "l.db"
    arch = Archive(path)
    for name, label, text in REPORTS:
        list(arch.ingest([_doc(name, text)], label=label))
    arch.add_user("ivan", "U", [])
    result = arch.build_relations()
    assert result["documents"] == 4 and result["relations"] >= 4, result
    assert arch.build_relations() == {"documents": 0, "relations": 0}  # idempotent
    arch.close()
    return path


def test_links_give_shortest_paths_with_evidence(archive: Path) -> None:
    arch = Archive(archive)
    try:
        zorin = arch.resolve_ref("Arkady Zorin")
        paths = arch.links("Arkady Zorin", "Margaret Holloway")["paths"]
        assert paths and all(len(p) == 2 for p in paths)  # via Mendes, and via Bortnik (SECRET)
        assert {p[0]["to"] for p in paths} == {arch.resolve_ref("Duarte Mendes"), arch.resolve_ref("Grigory Bortnik")}
        hop = paths[0][0]
        assert hop["from"] == zorin and hop["evidence"][0]["snippet"] and hop["evidence"][0]["document_id"]
        assert set(hop) == {"from", "to", "from_name", "to_name", "type", "start", "end", "evidence"}
        assert hop["from_name"] == "Arkady Zorin" and hop["evidence"][0]["label"]
        # A date window keeps only relations dated inside it.
        windowed = arch.links("Arkady Zorin", "Margaret Holloway", since="1979", until="1995")["paths"]
        assert [p[0]["to"] for p in windowed] == [arch.resolve_ref("Grigory Bortnik")]
    finally:
        arch.close()


def test_links_never_cross_a_hidden_passage(archive: Path) -> None:
    ivan = Archive(archive, user="ivan")
    try:
        paths = ivan.links("Arkady Zorin", "Margaret Holloway")["paths"]
        assert len(paths) == 1 and paths[0][0]["to"] == ivan.resolve_ref("Duarte Mendes")
        assert "Vienna" not in str(paths) and "recruited" not in str(paths)
    finally:
        ivan.close()


def test_network_centrality_communities_and_exports(archive: Path, tmp_path: Path) -> None:
    import json
    import xml.etree.ElementTree as ET

    import rustworkx as rx

    from kartoteka.analysis import export

    arch = Archive(archive)
    ivan = Archive(archive, user="ivan")
    try:
        net = arch.network("Arkady Zorin", depth=2)
        ids = {n["id"] for n in net["nodes"]}
        assert arch.resolve_ref("Margaret Holloway") in ids
        zorin = next(n for n in net["nodes"] if n["id"] == net["entity_id"])
        assert zorin["degree"] > 0 and 0 <= zorin["betweenness"] <= 1
        assert abs(sum(n["pagerank"] for n in net["nodes"]) - 1.0) < 1e-6
        assert all(isinstance(n["community"], int) for n in net["nodes"])
        # What ivan may not see is not in his network, in any format.
        low = ivan.network("Arkady Zorin", depth=2)
        assert ivan.resolve_ref("Duarte Mendes") in {n["id"] for n in low["nodes"]}
        assert all(r["type"] != "recruited" for r in low["relations"])
        for fmt in export.FORMATS:
            data = export.render(low, fmt)
            assert b"Vienna" not in data and b"recruited" not in data, fmt
        # Each format parses as what it claims to be.
        path = tmp_path / "n.graphml"
        path.write_bytes(export.render(net, "graphml"))
        [g] = rx.read_graphml(str(path))
        assert len(g) == len(net["nodes"])
        gexf = ET.fromstring(export.render(net, "gexf"))
        dated = [e for e in gexf.iter("{http://gexf.net/1.3}edge") if "start" in e.attrib]
        assert dated and all(e.attrib["start"] <= e.attrib["end"] for e in dated)
        bundle = json.loads(export.render(net, "stix"))
        assert bundle["type"] == "bundle"
        rels = [o for o in bundle["objects"] if o["type"] == "relationship"]
        refs = {o["id"] for o in bundle["objects"] if o["type"] != "relationship"}
        assert rels and all(r["source_ref"] in refs and r["target_ref"] in refs for r in rels)
        assert all(0 <= r["confidence"] <= 100 and r["spec_version"] == "2.1" for r in rels)
        ftm = [json.loads(line) for line in export.render(net, "ftm").decode().splitlines()]
        assert {e["schema"] for e in ftm} >= {"Person", "UnknownLink"}
    finally:
        arch.close()
        ivan.close()


def test_speakers_of_interviews_and_quotations() -> None:
    from kartoteka.analysis.relations import speakers

    intro = "A conversation with General Oleg Kalugin, recorded in 2019."
    q = "– Did you know Trump?"
    a = "– Andropov called me in 1978."
    quote_lead = "Kalugin told me he still has sources."
    quote = "“I called Litvinenko and warned him.”"
    portions = [(1, intro), (2, q), (3, a), (4, "– Why?"), (5, "– Because."), (6, quote_lead), (7, quote)]
    ents = {
        1: [Ent(intro.find("Oleg"), intro.find("Oleg") + len("Oleg Kalugin"), "PERSON", "kalugin")],
        2: [Ent(q.find("Trump"), q.find("Trump") + 5, "PERSON", "trump")],
        3: [Ent(a.find("Andropov"), a.find("Andropov") + 8, "PERSON", "andropov")],
        6: [Ent(0, 7, "PERSON", "kalugin")],
        7: [Ent(quote.find("Litvinenko"), quote.find("Litvinenko") + 10, "PERSON", "litvinenko")],
    }
    found = {pid: e.key for pid, e in speakers(portions, ents).items()}
    assert found == {3: "kalugin", 5: "kalugin", 7: "kalugin"}  # questions (2, 4) are the interviewer's
    nlp = load_parser()
    rels = {(r.type, r.subject, r.object) for r in extract(nlp(quote), ents[7], Ent(0, 0, "PERSON", "kalugin"))}
    assert rels == {("communicated_with", "kalugin", "litvinenko"), ("warned", "kalugin", "litvinenko")}
    # Without a known speaker, "I" is nobody: no relation.
    assert extract(nlp(quote), ents[7]) == []
