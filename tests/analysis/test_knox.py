"""The Knox space–time test."""

from __future__ import annotations

from kartoteka.analysis.knox import day_span, knox


def test_meetings_at_the_same_place_and_time_are_not_chance() -> None:
    # Seven meetings, each three months from the next: no two within the window.
    meetings = [("lisbon", f"{1977 + (3 * i) // 12}-{(3 * i) % 12 + 1:02d}-10") for i in range(7)]
    a = [*meetings, ("porto", "1975-01-01"), ("madrid", "1979-06-01")]
    b = [*meetings, ("vienna", "1971-02-02"), ("paris", "1983-03-03")]
    r = knox(a, b, permutations=499, seed=1)
    assert r is not None
    assert r.close_pairs == 7 and r.permutations == 499
    assert r.p_value < 0.01 and r.expected < r.close_pairs


def test_same_places_at_other_times_are_not_significant() -> None:
    a = [("lisbon", f"19{70 + i}-01-01") for i in range(6)]
    b = [("lisbon", f"19{70 + i}-07-01") for i in range(6)]
    r = knox(a, b, window=31, permutations=199)
    assert r is not None and r.close_pairs == 0 and r.p_value == 1.0


def test_imprecise_dates_widen_the_window_and_missing_events_give_none() -> None:
    assert day_span("1977") == (day_span("1977-07-02")[0], 183.0)  # type: ignore[index]
    r = knox([("lisbon", "1977")], [("lisbon", "1977-11-30")], permutations=9)
    assert r is not None and r.close_pairs == 1
    assert knox([], [("lisbon", "1977")]) is None
    assert knox([("lisbon", "not a date")], [("lisbon", "1977")]) is None
