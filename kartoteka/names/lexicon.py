"""Given and family names of the US Census 1990 name files, and a name's sex.

The files come with the `names` package on PyPI (MIT licence; the data is
public domain): 1,219 male and 4,275 female given names, 88,799 family
names by frequency. Family names are cut at the 20,000 most frequent:
rarer entries are often ordinary words (`BORDER`, `RECORDS`).
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path

from kartoteka.names.parse import ParsedName, is_known_given, parse_name

SURNAME_RANK = 20_000
# Common Russian family-name endings; a lone capitalised Cyrillic word is
# taken for a name only with one of these (Калугин yes, Фото no).
CYRILLIC_SURNAME = re.compile(r"(?:ов|ев|ёв|ин|ын|ский|цкий|ская|цкая|ова|ева|ёва|ина|ына|енко|ук|юк|штейн|ман)$")

# Titles that say the person's sex; "Mrs. Kennedy" is not John F. Kennedy.
FEMALE_TITLES = frozenset(
    [
        "mrs",
        "miss",
        "ms",
        "madame",
        "mme",
        "mlle",
        "lady",
        "queen",
        "princess",
        "duchess",
        "countess",
        "señora",
        "senora",
        "sra",
        "srta",
        "señorita",
    ]
)
MALE_TITLES = frozenset(["mr", "sir", "lord", "king", "prince", "duke", "señor", "senor", "monsieur", "herr"])


@cache
def _frequency(name: str) -> dict[str, tuple[float, int]]:
    """One census file: name -> (frequency in percent, rank)."""
    text = resources.files("names").joinpath(name).read_text(encoding="ascii")
    return {
        parts[0].casefold(): (float(parts[1]), int(parts[3]))
        for parts in (line.split() for line in text.splitlines())
        if len(parts) == 4
    }


@cache
def _census(name: str) -> frozenset[str]:
    rows = _frequency(name)
    return frozenset(n for n, (_, rank) in rows.items() if name != "dist.all.last" or rank <= SURNAME_RANK)


def known_given(word: str) -> bool:
    w = word.casefold().strip(".")
    if w in _census("dist.male.first") or w in _census("dist.female.first"):
        return True
    parsed = parse_name(word)
    token = parsed.given[0] if parsed.given else parsed.surname
    return token is not None and is_known_given(token)


def known_surname(word: str) -> bool:
    return word.casefold() in _census("dist.all.last")


@cache
def english_words() -> frozenset[str]:
    """English words (WordNet's lemma index, from the pinned spaCy model's
    lemmatiser tables): "DIVISION" and "Technician" are words, not cryptonyms
    or family names."""
    import spacy
    from spacy.lookups import Lookups

    from kartoteka.index.extract import SPACY_MODEL

    base = Path(spacy.util.get_package_path(SPACY_MODEL))
    folder = next(base.glob(f"{SPACY_MODEL}-*")) / "lemmatizer" / "lookups"
    index = Lookups().from_disk(folder).get_table("lemma_index")
    return frozenset(str(w).casefold() for words in index.values() for w in words)


def is_english_word(word: str) -> bool:
    return word.casefold() in english_words()


def sex_of(p: ParsedName) -> str | None:
    """ "f", "m" or None: from a title written with the name, else from a given
    name the census lists for one sex only."""
    for title in p.titles:
        t = title.casefold().rstrip(".")
        if t in FEMALE_TITLES:
            return "f"
        if t in MALE_TITLES:
            return "m"
    given = [g for g in p.given if not g.is_initial]
    if given:
        w = given[0].text.casefold()
        male = _frequency("dist.male.first").get(w, (0.0, 0))[0]
        female = _frequency("dist.female.first").get(w, (0.0, 0))[0]
        # The census lists a few men's names among women's and back (JOHN is
        # 0.3% of men, 0.003% of women): a name is one sex's at 20 to 1.
        if male > 20 * female:
            return "m"
        if female > 20 * male:
            return "f"
    return None
