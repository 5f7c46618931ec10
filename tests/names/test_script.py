import pytest

from kartoteka.names.script import romanise, token_keys


def keys(t: str) -> set[str]:
    return {k for k, _ in token_keys(t)}


@pytest.mark.parametrize(
    "a,b",
    [
        ("Kryuchkov", "Krjutschkow"),  # German
        ("Kryuchkov", "Krioutchkov"),  # French
        ("Kryuchkov", "Krjučkov"),  # scholarly
        ("Kryuchkov", "Крючков"),  # Cyrillic
        ("Khrushchev", "Хрущёв"),
        ("Khrushchev", "Khrouchtchev"),
        ("Khrushchev", "Chruschtschow"),
        ("Yeltsin", "Jelzin"),
        ("Vladimir", "Wladimir"),
        ("Kalugin", "Калугин"),
        ("Kalugin", "Ka1ugin"),  # OCR digit
        ("Kalugin", "Kalugm"),  # OCR m for "in"
    ],
)
def test_spellings_meet(a: str, b: str) -> None:
    assert keys(a) & keys(b)


@pytest.mark.parametrize(
    "a,b", [("Kalugin", "Kalinin"), ("Helms", "Holmes"), ("Gorbachev", "Gorbunov"), ("Popov", "Pyotr")]
)
def test_different_names_stay_apart(a: str, b: str) -> None:
    assert not keys(a) & keys(b)


def test_romanise_schemes() -> None:
    assert romanise("Крючков", "english") == "Kryuchkov"
    assert romanise("Крючков", "german") == "Krjutschkow"
    assert romanise("Крючков", "french") == "Krioutchkov"
