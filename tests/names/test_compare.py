import pytest

from kartoteka.names import compare_names, parse_name
from kartoteka.names.compare import LIKELY, calibrate


def score(q: str, c: str) -> float:
    return compare_names(parse_name(q), parse_name(c)).score


@pytest.mark.parametrize(
    "q,c",
    [
        ("Калугин", "Oleg Kalugin"),
        ("Krjutschkow", "Vladimir Kryuchkov"),
        ("Wladimir Krjutschkow", "Vladimir Kryuchkov"),
        ("Khrouchtchev", "Nikita Khrushchev"),
        ("Gen. Kalugin", "Oleg Kalugin"),
        ("Sasha Ivanov", "Aleksandr Ivanov"),
        ("Dick Helms", "Richard Helms"),
        ("L.H. OSWALD", "Lee Harvey Oswald"),
        ("OSWALD, Lee", "Lee Harvey Oswald"),
        ("Oleg Danilovich", "Oleg Danilovich Kalugin"),
        ("Ka1ugin", "Oleg Kalugin"),
        ("Калугин Олег Данилович", "Oleg Kalugin"),
    ],
)
def test_likely_same(q: str, c: str) -> None:
    assert score(q, c) >= LIKELY


@pytest.mark.parametrize(
    "q,c",
    [
        ("Kalinin", "Oleg Kalugin"),
        ("Pyotr Popov", "Vladimir Popov"),
        ("Holmes", "Richard Helms"),
        ("Gorbunov", "Mikhail Gorbachev"),
        ("Oleg Ivanovich", "Oleg Danilovich Kalugin"),
        ("Oleg", "Oleg Kalugin"),
    ],
)
def test_hard_negatives(q: str, c: str) -> None:
    assert score(q, c) < LIKELY


def test_exact_is_one_and_scores_bounded() -> None:
    assert score("Oleg Kalugin", "Oleg Kalugin") == 1.0
    for q, c in [("A B", "C D"), ("Kalugin", "Kalugin"), ("x", "y")]:
        assert 0.0 <= score(q, c) <= 1.0


def test_explanation_names_the_scheme() -> None:
    m = compare_names(parse_name("Wladimir Krjutschkow"), parse_name("Vladimir Kryuchkov"))
    assert "German transliteration" in m.explanation
    assert "family name Kryuchkov" in m.explanation


def test_calibration_monotonic() -> None:
    xs = [i / 100 for i in range(101)]
    ys = [calibrate(x) for x in xs]
    assert ys == sorted(ys) and ys[0] == 0.0 and ys[-1] == 1.0
