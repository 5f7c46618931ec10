"""Evidence that a card names a person. Component "kartoteka.evidence.v1".

The NER proposes; a card is listed as a person only with evidence that the
name is one (issue "A card index you can trust"). Without it the card stays
as an unconfirmed mention: its passages are stored and searchable, its card
is listed apart (`kartoteka cards --unconfirmed`), and an analyst's alias or
merge confirms it.

The evidence is read from the names on the card that the viewer may see and
the records they may see it in, never from hidden ones: whether a card is
confirmed says nothing of what is hidden.

Lexicons: the US Census 1990 given and family names (`names/lexicon.py`)
and Kartoteka's own given-name classes (`vocab/given_names.yml`, with
Russian names and their diminutives).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from kartoteka.names.lexicon import CYRILLIC_SURNAME, is_english_word, known_given, known_surname
from kartoteka.names.parse import parse_name
from kartoteka.vocab import cryptonyms

COMPONENT = "kartoteka.evidence.v1"
RECURRENCE = 3  # records naming the card (visible to the viewer)

_CIA_SURNAME = re.compile(r"\(\(\s*[^\W\d_]{2,}")
_CARD_FORM = re.compile(r"^[A-Z][A-Z'’\-]{1,},\s+[A-Z][a-zA-Z]*\.?(?:\s|$)")
# Family names as Russian, Ukrainian, Georgian and Armenian names are written
# in Latin letters; "-in" is left out on purpose (English words end so).
_LATIN_SLAVIC = re.compile(
    r"(?:ov|ova|ev|eva|yov|yova|sky|skiy|skii|ski|skaya|tsky|enko|chuk|yuk|vich|ovna|evna|shvili|dze)$",
    re.IGNORECASE,
)


def slavic_surname(word: str) -> bool:
    if len(word) < 5 or is_english_word(word):
        return False  # "Whisky", "Husky"
    return bool(_LATIN_SLAVIC.search(word) or CYRILLIC_SURNAME.search(word.lower()))


_CRYPTONYM = re.compile(r"^([A-Z]{2})([A-Z]{3,12})(?:[/-]\d{1,3})?$")


def looks_cryptonym(span: str) -> bool:
    """A digraph and a word in capitals (`AMLASH`, `LITAMIL-7`), not a known name."""
    m = _CRYPTONYM.match(span)
    if not m:
        return False
    vocab = cryptonyms()
    word = m.group(1) + m.group(2)
    if m.group(1) not in vocab.digraphs or word in vocab.not_cryptonyms:
        return False
    return not (known_given(word) or known_surname(word) or is_english_word(word))


def form_evidence(form: str) -> str | None:
    """Why one written form is a person's name, or None."""
    text = " ".join(form.split())
    if _CIA_SURNAME.search(text):
        return "CIA ((SURNAME)) form"
    if _CARD_FORM.match(text):
        return "card form SURNAME, Given"
    parsed = parse_name(text)
    if parsed.titles:
        return f"title {parsed.titles[0]}"
    words = [g for g in parsed.given if not g.is_initial]
    surname = parsed.surname.text if parsed.surname else None
    if words and known_given(words[0].text):
        return f"known given name {words[0].text}"
    # The parser reads a word in capitals as the family name (the CIA's
    # "Oleg KALUGIN"); in an all-capitals cable the given name comes first.
    first = re.match(r"[^\W\d_]{2,}", text)
    if first and known_given(first.group(0)):
        return f"known given name {first.group(0)}"
    if surname and slavic_surname(surname):
        return f"Slavic family name form {surname}"
    if parsed.patronymic is not None:
        return f"patronymic {parsed.patronymic.text}"
    if surname and known_surname(surname) and (not parsed.given or all(g.is_initial for g in parsed.given)):
        # A known family name alone or after initials; after an unknown word
        # ("Ballpoint Pen", "Kew York") it proves nothing.
        return f"known family name {surname}"
    return None


def person_evidence(forms: Iterable[str], records: int, sourced: bool = False) -> str | None:
    """Why a card is a person's: its visible written forms, the number of
    visible records naming it, and whether it has a name of its own from an
    import or an analyst (`sourced`). None: unconfirmed."""
    if sourced:
        return "named by an import or an analyst"
    for form in forms:
        reason = form_evidence(form)
        if reason:
            return reason
    if records >= RECURRENCE:
        return f"named in {records} records"
    return None
