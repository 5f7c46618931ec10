"""Realism: 200 noisy OCR records from the JFK collection (skipped when absent).

For the people the archive indexes most, the dossier must find the records
whose text names them, counted against a plain case-insensitive text search
for the person's full name.
"""

import gzip
import itertools
import json
import re
from collections.abc import Iterator

import pytest

from kartoteka.archive import Archive
from kartoteka.registry.readers import RawDocument
from tests.conftest import JFK

N = 200


@pytest.fixture(scope="module")
def jfk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Archive, dict[str, str]]]:
    if not JFK.exists():
        pytest.skip("../shared/corpus not present")
    texts: dict[str, str] = {}
    with gzip.open(JFK, "rt", encoding="utf-8") as fh:
        for line in itertools.islice(fh, N):
            obj = json.loads(line)
            texts[obj["id"]] = obj["text"]
    arch = Archive(tmp_path_factory.mktemp("jfk") / "jfk.db")
    docs = (RawDocument(i, "jsonl", "kartoteka.reader.jsonl.v1", t) for i, t in texts.items())
    results = list(arch.ingest(docs))
    assert sum(r.status == "added" for r in results) == len(set(texts.values()))
    yield arch, texts
    arch.close()


def test_dossier_recall_against_text_search(jfk: tuple[Archive, dict[str, str]]) -> None:
    arch, texts = jfk
    people = [e for e in arch._store.entities("PERSON", 200) if len(e.name.split()) >= 2][:20]
    assert people, "no full-name people indexed"
    checked = 0
    for e in people:
        pattern = re.compile(r"\b" + r"\s+".join(re.escape(w) for w in e.name.split()) + r"\b", re.IGNORECASE)
        expected = {rid for rid, t in texts.items() if pattern.search(t)}
        if len(expected) < 2:
            continue
        found = {doc["source"] for doc in arch.dossier(e.id)["documents"]}
        recall = len(found & expected) / len(expected)
        assert recall >= 0.8, f"{e.name}: dossier found {len(found & expected)} of {len(expected)} records"
        # Precision: every record the dossier cites names the person's family name.
        surname = e.name.split()[-1]
        cited = [rid for rid in found if rid in texts]
        named = [rid for rid in cited if surname.casefold() in texts[rid].casefold()]
        assert len(named) / len(cited) >= 0.9, f"{e.name}: {len(cited) - len(named)} cited records lack '{surname}'"
        checked += 1
    assert checked >= 3, "too few people appear in two or more records to test recall"


def test_oswald_check_in_ocr_noise(jfk: tuple[Archive, dict[str, str]]) -> None:
    arch, texts = jfk
    if not any("OSWALD" in t.upper() for t in texts.values()):
        pytest.skip("no Oswald in the sample")
    m = arch.check("L.H. OSWALD")["matches"]
    assert m and "oswald" in str(m[0]["name"]).lower()  # type: ignore[index]


def test_no_markings_in_the_card_index(jfk: tuple[Archive, dict[str, str]]) -> None:
    arch, _ = jfk
    names = {e.name for e in arch._store.entities(None, 100_000)}
    assert not {"SECRET", "CONFIDENTIAL", "25X1", "TOP SECRET"} & names
