"""A Knox-style space–time test: were A and B in the same place at the same time
more often than chance?

Events are (place, date) pairs: a passage that mentions the entity, a place
and a date. An A–B pair of events is *close* when the place is the same and
the dates lie within `window` days (a year or month is taken at its middle,
and its half-length is added to the window, so imprecise dates are not
held to a day's precision). The statistic X counts close A–B pairs. The
null hypothesis is that when things happened is independent of where: the
dates are shuffled across all events, keeping places, `permutations` times,
and the p-value is (1 + #{X* ≥ X}) / (1 + permutations).
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any


def day_span(value: str) -> tuple[float, float] | None:
    """(middle day number, half-width in days) of an ISO date of any precision."""
    try:
        if len(value) == 4:
            y = int(value)
            return float(date(y, 7, 2).toordinal()), 183.0
        if len(value) == 7:
            y, m = int(value[:4]), int(value[5:7])
            return float(date(y, m, 15).toordinal()), 15.5
        return float(date.fromisoformat(value[:10]).toordinal()), 0.0
    except ValueError:
        return None


@dataclass(frozen=True)
class KnoxResult:
    events_a: int
    events_b: int
    close_pairs: int
    expected: float
    p_value: float
    permutations: int
    window_days: int

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _close(events_a: list[tuple[str, float, float]], events_b: list[tuple[str, float, float]], window: int) -> int:
    n = 0
    for pa, ta, wa in events_a:
        for pb, tb, wb in events_b:
            if pa == pb and abs(ta - tb) <= window + wa + wb:
                n += 1
    return n


def knox(
    events_a: list[tuple[str, str]],
    events_b: list[tuple[str, str]],
    window: int = 31,
    permutations: int = 999,
    seed: int = 0,
) -> KnoxResult | None:
    """Events are (place id, ISO date). None when either side has no usable event."""
    a = [(p, *s) for p, d in events_a if (s := day_span(d))]
    b = [(p, *s) for p, d in events_b if (s := day_span(d))]
    if not a or not b:
        return None
    observed = _close(a, b, window)
    times = [(t, w) for _, t, w in a + b]
    rng = random.Random(seed)
    at_least = 0
    total = 0
    for _ in range(permutations):
        rng.shuffle(times)
        pa = [(p, *times[i]) for i, (p, _, _) in enumerate(a)]
        pb = [(p, *times[len(a) + i]) for i, (p, _, _) in enumerate(b)]
        x = _close(pa, pb, window)
        total += x
        if x >= observed:
            at_least += 1
    return KnoxResult(
        len(a), len(b), observed, total / permutations, (1 + at_least) / (1 + permutations), permutations, window
    )
