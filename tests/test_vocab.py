"""The vocabulary files load and validate; a broken file fails loudly."""

import pytest

from kartoteka import vocab
from kartoteka.vocab import markings, name_tables


def test_vocab_loads() -> None:
    m = markings()
    assert [lv.abbrev for lv in m.levels] == ["U", "C", "S", "TS"]
    assert "25X1" in m.exemption_codes and "50X1-HUM" in m.exemption_codes
    t = name_tables()
    assert {"english", "german", "french", "scholarly"} <= set(t.schemes)
    assert any("Sasha" in c and "Aleksandr" in c for c in t.given_classes)


def test_exemption_pattern_matches_every_listed_code() -> None:
    m = markings()
    for code in m.exemption_codes:
        if not code.startswith("75X"):
            assert m.exemption.fullmatch(code), code


def test_missing_key_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(vocab.VocabError, match="levels"):
        vocab._require({}, "levels", list, "markings.yml")
