"""Relations carry how their sentence states them; only asserted ones are facts of the graph."""

from __future__ import annotations

from pathlib import Path

import pytest

from kartoteka.analysis.relations import Ent, extract, load_parser
from kartoteka.archive import Archive
from kartoteka.registry.readers import RawDocument


@pytest.mark.parametrize(
    ("sentence", "modality"),
    [
        ("Zorin met Mendes in Lisbon.", "asserted"),
        ("Did Zorin meet Mendes?", "question"),
        ("If Zorin met Mendes, the operation failed.", "hypothetical"),
        ("Zorin would meet Mendes.", "hypothetical"),
        ("Zorin may have met Mendes.", "speculative"),
        ("Zorin possibly met Mendes.", "speculative"),
        ("It is believed that Zorin met Mendes.", "speculative"),
        ("Zorin did not meet Mendes.", "negated"),
        ("Zorin stated that he met Mendes.", "reported"),
    ],
)
def test_modality_of_a_sentence(sentence: str, modality: str) -> None:
    doc = load_parser()(sentence)
    z, m = sentence.index("Zorin"), sentence.index("Mendes")
    found = extract(doc, [Ent(z, z + 5, "PERSON", "Z"), Ent(m, m + 6, "PERSON", "M")])
    assert [(r.type, r.modality) for r in found] == [("met", modality)]


def test_only_asserted_relations_are_in_the_graph(tmp_path: Path) -> None:
    arch = Archive(tmp_path / "m.db")
    text = (
        "(U) Colonel Arkady Zorin met the journalist Duarte Mendes in Lisbon.\n\n"
        "(U) Did Colonel Arkady Zorin meet General Oleg Sokolov in Vienna?\n"
    )
    list(arch.ingest([RawDocument("m.txt", "txt", "test.v1", text)]))
    arch.build_relations()
    rows = arch._store.db.execute("SELECT type, modality FROM relations ORDER BY start").fetchall()  # type: ignore[attr-defined]
    assert [tuple(r) for r in rows] == [("met", "asserted"), ("met", "question")]
    assert len(arch._store.relations()) == 1
    arch.close()


def test_the_dossier_lists_what_was_read_but_not_asserted(tmp_path: Path) -> None:
    """The question is no fact of the graph but is kept: the dossier lists it with its passage,
    to the owner and to a reader of its passage, and to nobody who may not see that passage."""
    arch = Archive(tmp_path / "m.db")
    text = (
        "(U) Colonel Arkady Zorin met the journalist Duarte Mendes in Lisbon.\n\n"
        "(S) Did Colonel Arkady Zorin meet General Oleg Sokolov in Vienna?\n"
    )
    list(arch.ingest([RawDocument("m.txt", "txt", "test.v1", text)]))
    arch.build_relations()
    arch.add_user("clerk", "U", [])
    arch.add_user("analyst", "S", [])
    zorin = arch.resolve_ref("Arkady Zorin")
    marked = arch.dossier(zorin)["marked"]
    arch.close()
    assert [(m["relation"], m["modality"], m["portion"], m["label"]) for m in marked] == [
        ("Arkady Zorin met Oleg Sokolov", "question", 2, "S")
    ]
    assert "Did Colonel Arkady Zorin meet General Oleg Sokolov" in marked[0]["snippet"]
    for user, expected in (("analyst", 1), ("clerk", 0)):
        viewer = Archive(tmp_path / "m.db", user=user)
        try:
            assert len(viewer.dossier(zorin)["marked"]) == expected, user
        finally:
            viewer.close()
