"""Realism: 200 noisy OCR records from the JFK collection (skipped when absent).

Quality of the card index is measured against hand labels in
`tests/index/test_card_gold.py`; these are smoke checks on raw records.
"""

import gzip
import itertools
import json
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
