"""Co-occurrence statistics, checked against scipy."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.stats import false_discovery_control

from kartoteka.analysis.cooccur import benjamini_hochberg, g2, hypergeom_sf, pmi


@st.composite
def tables(draw: st.DrawFn) -> tuple[int, int, int, int]:
    n = draw(st.integers(1, 3000))
    n_a = draw(st.integers(0, n))
    n_b = draw(st.integers(0, n))
    lo, hi = max(0, n_a + n_b - n), min(n_a, n_b)
    k = draw(st.integers(lo, hi))
    return k, n, n_a, n_b


@settings(max_examples=400)
@given(tables())
def test_p_value_is_fishers_one_sided_test(t: tuple[int, int, int, int]) -> None:
    k, n, n_a, n_b = t
    expected = stats.hypergeom.sf(k - 1, n, n_a, n_b)
    assert math.isclose(hypergeom_sf(k, n, n_a, n_b), expected, rel_tol=1e-9, abs_tol=1e-12)
    if 0 < n_a < n and 0 < n_b < n:
        table = [[k, n_a - k], [n_b - k, n - n_a - n_b + k]]
        fisher = stats.fisher_exact(table, alternative="greater").pvalue
        assert math.isclose(hypergeom_sf(k, n, n_a, n_b), fisher, rel_tol=1e-7, abs_tol=1e-12)


@settings(max_examples=200)
@given(tables())
def test_g2_is_the_likelihood_ratio_statistic(t: tuple[int, int, int, int]) -> None:
    k, n, n_a, n_b = t
    if not (0 < n_a < n and 0 < n_b < n):
        return
    table = [[k, n_a - k], [n_b - k, n - n_a - n_b + k]]
    ref = stats.chi2_contingency(table, correction=False, lambda_="log-likelihood").statistic
    assert math.isclose(g2(k, n, n_a, n_b), ref, rel_tol=1e-7, abs_tol=1e-9)


def test_pmi() -> None:
    assert pmi(10, 1000, 20, 50) == pytest.approx(math.log2(10 * 1000 / (20 * 50)))
    assert pmi(0, 1000, 20, 50) is None


@settings(max_examples=200)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=60))
def test_benjamini_hochberg_matches_scipy(ps: list[float]) -> None:
    ours = benjamini_hochberg(ps)
    ref = false_discovery_control(ps, method="bh")
    for a, b in zip(ours, ref, strict=True):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
