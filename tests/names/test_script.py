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


def test_transcription_rules_picked_by_letter_as_when_all_are_tried(monkeypatch: pytest.MonkeyPatch) -> None:
    # transcribe tries at each letter only the rules that can match there;
    # the first that matches must be the one found by trying every rule.
    from kartoteka.names import lexicon, script
    from kartoteka.vocab import transcription

    words = {"harvey", "oswald", "mcnamara", "angleton", "hoover", "whitehead", "schmidt", "yates", "müller", "x"}
    words |= set(lexicon._census("dist.male.first")) | set(lexicon._census("dist.all.last"))
    picked = {w: script.transcribe(w) for w in words}
    monkeypatch.setattr(script, "_rules_at", lambda language: ({}, transcription()[language]))
    assert {w: script.transcribe(w) for w in words} == picked
    assert len(words) > 1000
