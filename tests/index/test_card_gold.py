"""The card index end to end against the hand-labelled gold test split.

`bench/cards/evaluate.py` ingests the 73 test records whole and scores what
falls in the 351 labelled test windows (labels written by reading, see
`bench/cards/GUIDELINES.md`). The floors below are the figures measured
with the trained pipeline and the evidence layer (BENCHMARKS.md, "Card index
against hand labels: the trained pipeline"), less a margin for the
run-to-run noise of a multi-worker ingest: a change that makes the index
worse fails here. They are floors, not the issue's targets (mention recall
≥ 0.85 and so on), most of which are not met. Person recall is below the
floor before the issue (0.49): evidence before a card trades it for
precision, on purpose.

Skipped when ../shared is absent. Never tune on these windows: tune on dev.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import JFK

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench" / "cards"))

FLOORS = {
    ("kartoteka", "PERSON_overlap", "precision"): 0.88,
    ("kartoteka", "PERSON_overlap", "recall"): 0.43,
    ("kartoteka", "PLACE", "f1"): 0.65,
    ("kartoteka", "ORG", "f1"): 0.52,
    ("kartoteka", "CRYPTONYM", "f1"): 0.33,
    ("person_cards", "precision"): 0.84,
    ("dossier_recall", "recall"): 0.59,
}


@pytest.fixture(scope="module")
def scores() -> dict[str, Any]:
    if not JFK.exists():
        pytest.skip("../shared/corpus not present")
    from evaluate import evaluate  # type: ignore[import-not-found]

    return evaluate("test", JFK, workers=2, peer=False)  # type: ignore[no-any-return]


@pytest.mark.parametrize("path", list(FLOORS), ids=["/".join(p) for p in FLOORS])
def test_card_index_does_not_fall_below_its_measured_floor(scores: dict[str, Any], path: tuple[str, ...]) -> None:
    value: Any = scores
    for key in path:
        value = value[key]
    assert value >= FLOORS[path], f"{'/'.join(path)} = {value}, floor {FLOORS[path]}"


def test_the_gold_is_whole(scores: dict[str, Any]) -> None:
    assert scores["windows"] == 351 and scores["records"] == 73
    assert scores["gold_spans"]["PERSON"] >= 300
