"""Time as a channel: a search for a term found only in hidden paragraphs takes
as long, for a viewer who may not see them, as a search for a term found
nowhere.

Tolerance: the median of interleaved runs of the hidden-only term may be at
most 1.5 times the median for the absent term (and 1 ms above it, for
scheduler noise on a busy machine). Before search was partitioned by label
(`kartoteka.store.search`), FTS5 visited every hidden match: with 1,000
hidden matching paragraphs the ratio was well above 2.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from kartoteka.archive import Archive
from kartoteka.registry.readers import RawDocument

HIDDEN_PARAGRAPHS = 1000
RUNS = 61


def _median_seconds(arch: Archive, term: str) -> float:
    samples = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        arch.search(term)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def test_hidden_matches_cost_a_viewer_nothing(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    owner = Archive(path)
    visible = "\n\n".join(f"(U) Routine report {i} on the weather in the port." for i in range(50))
    hidden = "\n\n".join(f"(S//HUM) Zeppelin sighting {i} over the northern harbour." for i in range(HIDDEN_PARAGRAPHS))
    list(owner.ingest([RawDocument("open.txt", "txt", "test.v1", visible + "\n")]))
    list(owner.ingest([RawDocument("secret.txt", "txt", "test.v1", hidden + "\n")], label="S:HUM"))
    owner.add_user("ivan", "U", [])
    assert owner.search("zeppelin")["total"] == HIDDEN_PARAGRAPHS  # the owner's search does the work
    owner.close()

    ivan = Archive(path, user="ivan")
    try:
        assert ivan.search("zeppelin")["total"] == 0
        ivan.search("qqxyzzy")  # warm both paths once
        hidden_only, absent = [], []
        for _ in range(3):  # interleaved rounds, so load on the machine hits both alike
            hidden_only.append(_median_seconds(ivan, "zeppelin"))
            absent.append(_median_seconds(ivan, "qqxyzzy"))
        h, a = statistics.median(hidden_only), statistics.median(absent)
        assert h <= 1.5 * a + 0.001, f"hidden-only term {h * 1000:.2f} ms vs absent term {a * 1000:.2f} ms"
    finally:
        ivan.close()
