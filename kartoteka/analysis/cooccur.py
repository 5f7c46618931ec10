"""Was it chance? Co-occurrence of two entities across documents.

Counts are over documents: N documents in all, A appears in n_a, B in n_b,
both in k. Under the null hypothesis that B's documents are a random draw
from the archive, k follows the hypergeometric distribution, and

* p = P(X ≥ k), X ~ Hypergeometric(N, n_a, n_b): the one-sided Fisher exact
  test of the 2×2 table;
* PMI = log2(k·N / (n_a·n_b)): how many times more often than chance, in bits;
* G² = 2 Σ O·ln(O/E) over the four cells of the table (the likelihood-ratio
  statistic, ≈ χ² with one degree of freedom).

For an entity's ranked associates, p-values are corrected for the number of
tests with Benjamini–Hochberg (false discovery rate).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def hypergeom_sf(k: int, n_total: int, n_a: int, n_b: int) -> float:
    """P(X ≥ k) for X ~ Hypergeometric(population n_total, n_a successes, n_b draws)."""
    lo, hi = max(0, n_b - (n_total - n_a)), min(n_a, n_b)
    if k <= lo:
        return 1.0
    if k > hi:
        return 0.0
    denom = _log_comb(n_total, n_b)
    terms = [_log_comb(n_a, i) + _log_comb(n_total - n_a, n_b - i) - denom for i in range(k, hi + 1)]
    top = max(terms)
    return min(1.0, math.exp(top) * sum(math.exp(t - top) for t in terms))


def pmi(k: int, n_total: int, n_a: int, n_b: int) -> float | None:
    if k == 0 or n_a == 0 or n_b == 0:
        return None  # never together: minus infinity, shown as null
    return math.log2(k * n_total / (n_a * n_b))


def g2(k: int, n_total: int, n_a: int, n_b: int) -> float:
    observed = [k, n_a - k, n_b - k, n_total - n_a - n_b + k]
    rows, cols = [n_a, n_total - n_a], [n_b, n_total - n_b]
    expected = [rows[0] * cols[0], rows[0] * cols[1], rows[1] * cols[0], rows[1] * cols[1]]
    total = 0.0
    for o, e in zip(observed, expected, strict=True):
        if o > 0:
            total += o * math.log(o * n_total / e)
    return 2.0 * total


def benjamini_hochberg(p_values: list[float]) -> list[float]:
    """q-values in the input order."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    q = [0.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, p_values[i] * m / rank)
        q[i] = running
    return q


@dataclass(frozen=True)
class Cooccurrence:
    a: str
    b: str
    n: int
    n_a: int
    n_b: int
    k: int
    p_value: float
    pmi: float | None
    g2: float

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def expected(self) -> float:
        return self.n_a * self.n_b / self.n if self.n else 0.0


def cooccurrence(a: str, b: str, docs_a: set[str], docs_b: set[str], n_total: int) -> Cooccurrence:
    k = len(docs_a & docs_b)
    n_a, n_b = len(docs_a), len(docs_b)
    return Cooccurrence(
        a,
        b,
        n_total,
        n_a,
        n_b,
        k,
        hypergeom_sf(k, n_total, n_a, n_b),
        pmi(k, n_total, n_a, n_b),
        g2(k, n_total, n_a, n_b),
    )
