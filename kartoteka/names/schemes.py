"""The names of readings (schemes) and how explanations call them.

A token's readings are (key, scheme) pairs (script.token_keys). A Russian
transcription of a Latin name is named for every language whose rules wrote
it ("from_english+german"), so that an explanation can say which rules met.
"""

from __future__ import annotations

import itertools

from kartoteka.vocab import transcription_languages


def transcription_scheme(languages: list[str] | tuple[str, ...]) -> str:
    """The scheme name of a Cyrillic transcription written by these languages' rules."""
    return "from_" + "+".join(languages)


def transcription_languages_of(scheme: str) -> tuple[str, ...]:
    """The languages a transcription scheme names (none for another scheme)."""
    return tuple(scheme.removeprefix("from_").split("+")) if scheme.startswith("from_") else ()


def letter_reading(scheme: str) -> bool:
    """Whether a reading counts in the tests made on a token's readings as a
    whole rather than against a Cyrillic spelling: an initial's fit and a
    given-name class. Transcriptions by German, French, Spanish or Italian
    rules do not: the tables list romanisations of Russian names beside
    Western ones, and German rules read "Iegor" (Егор in French letters) as
    игор, which would make Igor a form of Yegor, and would let the initial X
    fit Juan (хуан). English transcriptions count, as they did before the
    other languages were written."""
    return scheme not in CYRILLIC_ONLY or "english" in transcription_languages_of(scheme)


def _transcription_label(languages: tuple[str, ...]) -> str:
    names = [transcription_languages().labels[lang] for lang in languages]
    if len(names) > 1 and len(names) == len(transcription_languages().labels):
        return "Cyrillic transcription of a Western name"
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    return f"Cyrillic transcription of {'an' if listed[0] in 'AEIOU' else 'a'} {listed} name"


# Every set of languages, in table order: a key's scheme names all the
# languages whose rules wrote it.
_TRANSCRIPTION_SCHEMES = {
    transcription_scheme(langs): _transcription_label(langs)
    for n in range(1, len(transcription_languages().labels) + 1)
    for langs in itertools.combinations(transcription_languages().labels, n)
}

SCHEME_LABELS = {
    "plain": "same spelling",
    "english": "English transliteration",
    "german": "German transliteration",
    "french": "French transliteration",
    "scholarly": "scholarly transliteration",
    "cyrillic": "Cyrillic",
    "ocr": "OCR reading",
    "misspelling": "common misspelling",
    **_TRANSCRIPTION_SCHEMES,
}

# Readings that only mean something against a Cyrillic spelling: a Latin
# name's Russian transcription is compared with Cyrillic keys, never with
# another Latin name's (Helms and Holmes must not meet through "хелмс").
CYRILLIC_ONLY = frozenset(_TRANSCRIPTION_SCHEMES)
