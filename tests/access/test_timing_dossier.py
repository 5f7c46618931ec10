"""Time as a channel: a viewer's dossier of a person takes as long when hidden
passages name him a thousand times as when nothing hidden names him.

Two archives hold the same visible document; one of them also holds an
S:HUM document of 1,000 paragraphs naming Arkady Zorin. For a U user the
answers are the same, and so must be the time: the median of interleaved
runs of `dossier`, `timeline` and `associates` in the archive with the
hidden mentions may be at most 1.5 times the median in the archive without
them (and 1 ms above it, for scheduler noise on a busy machine). Before
mentions carried their label partition (`kartoteka.store.partitions`),
every mention was read and the hidden ones dropped afterwards: with 2,000
hidden mentions the dossier took 50 times as long (BENCHMARKS.md).
"""

from __future__ import annotations

import functools
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kartoteka.archive import Archive
from kartoteka.registry.readers import RawDocument
from tests.access.differential import canonical

HIDDEN_PARAGRAPHS = 1000
RUNS = 31
VISIBLE = "\n\n".join(
    f"(U) Report {i}: Colonel Arkady Zorin met the journalist Duarte Mendes in Lisbon on {i % 28 + 1} March 1977."
    for i in range(20)
)
HIDDEN = "\n\n".join(
    f"(S//HUM) Sighting {i}: Arkady Zorin was seen with Ivan Petrov in Vienna on {i % 28 + 1} May 1978."
    for i in range(HIDDEN_PARAGRAPHS)
)


def _build(path: Path, hidden: bool) -> tuple[Archive, Path]:
    owner = Archive(path)
    list(owner.ingest([RawDocument("open.txt", "txt", "test.v1", VISIBLE + "\n")]))
    if hidden:
        list(owner.ingest([RawDocument("secret.txt", "txt", "test.v1", HIDDEN + "\n")], label="S:HUM"))
        zorin = owner.check("Arkady Zorin")["matches"][0]["entity_id"]
        assert owner.dossier(zorin)["mention_count"] > HIDDEN_PARAGRAPHS  # one card, named in both documents
    owner.add_user("ivan", "U", [])
    owner.close()
    return Archive(path, user="ivan"), path


def _median_seconds(fn: Callable[[], Any]) -> float:
    samples = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("timing")
    plain, hidden = _build(tmp / "plain.db", False), _build(tmp / "hidden.db", True)
    yield plain, hidden
    plain[0].close()
    hidden[0].close()


@pytest.mark.parametrize("read", ["dossier", "timeline", "associates"])
def test_hidden_mentions_cost_a_viewer_nothing(
    archives: tuple[tuple[Archive, Path], tuple[Archive, Path]], read: str
) -> None:
    calls: list[Callable[[], Any]] = []
    answers = []
    for arch, path in archives:
        zorin = arch.check("Arkady Zorin")["matches"][0]["entity_id"]
        calls.append(functools.partial(getattr(arch, read), zorin))
        answers.append(canonical([(read, calls[-1]())], path))  # and both paths warmed once
    assert answers[0] == answers[1]
    without, with_hidden = [], []
    for _ in range(3):  # interleaved rounds, so load on the machine hits both alike
        without.append(_median_seconds(calls[0]))
        with_hidden.append(_median_seconds(calls[1]))
    a, h = statistics.median(without), statistics.median(with_hidden)
    assert h <= 1.5 * a + 0.001, f"{read} with hidden mentions {h * 1000:.2f} ms vs without {a * 1000:.2f} ms"
