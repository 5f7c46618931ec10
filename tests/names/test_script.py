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


@pytest.mark.parametrize("language", ["english", "german", "french", "spanish", "italian"])
def test_transcription_rules_joined_pick_as_when_tried_one_by_one(language: str) -> None:
    # A language's rules are joined into one pattern; at each position the
    # rule it takes must be the first one that matches when every rule is
    # tried in turn, and the keys must be the skeletons of the spellings, in
    # their order.
    from kartoteka.names import lexicon, script

    words = {"harvey", "oswald", "mcnamara", "angleton", "hoover", "whitehead", "schmidt", "yates", "müller", "x"}
    words |= {"guillaume", "françois", "peña", "castillo", "giuseppe", "togliatti", "sciascia", "heinrich", "jürgen"}
    words |= set(lexicon._census("dist.male.first")) | set(lexicon._census("dist.all.last"))
    for w in words:
        word = script._word(w, language == "english")
        assert script.rules_matched(word, language) == script._rules_one_by_one(word, language), w
        keys = dict.fromkeys(k for k in (script.skeleton_of_cyrillic(c) for c in script.transcribe(w, language)) if k)
        assert script.transcription_keys(w, language) == tuple(keys), w
    assert len(words) > 1000
