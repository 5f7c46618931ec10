"""Index keys for an entity's names: what the card index looks names up by.

`s:` family-name keys (one per reading of the family name), `gp:` given name +
patronymic keys for address forms, `d:` one-deletion keys of the family name
for typo-tolerant retrieval, and `o:` exact keys for organisations and places.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from kartoteka.names.parse import ParsedName

_PRIMARY = ("plain", "cyrillic", "english", "ocr")


def _deletions(key: str) -> set[str]:
    if len(key) < 4:
        return set()
    return {key[:i] + key[i + 1 :] for i in range(len(key))}


def person_keys(name: ParsedName, *, deletions: bool = True) -> set[str]:
    keys: set[str] = set()
    if name.surname:
        for k, scheme in name.surname.keys:
            keys.add("s:" + k)
            if deletions and scheme in _PRIMARY:
                keys.update("d:" + d for d in _deletions(k))
    if name.given and name.patronymic:
        for gk, gs in name.given[0].keys:
            if gs not in _PRIMARY:
                continue
            for pk, _ in name.patronymic.keys:
                keys.add(f"gp:{gk}|{pk}")
    return keys


def query_keys(name: ParsedName) -> set[str]:
    """Keys to look a query up by: its own, plus one edit either way."""
    keys = person_keys(name, deletions=False)
    if name.surname:
        for k, scheme in name.surname.keys:
            if scheme in _PRIMARY:
                dels = _deletions(k)
                keys.add("d:" + k)
                keys.update("s:" + d for d in dels)
                keys.update("d:" + d for d in dels)
    return keys


def plain_label_key(text: str) -> str:
    t = re.sub(r"['’]s\b", "", text.casefold())
    t = re.sub(r"^the\s+", "", t)
    return "o:" + re.sub(r"\W+", " ", t).strip()


def all_person_keys(names: Iterable[ParsedName]) -> set[str]:
    out: set[str] = set()
    for n in names:
        out |= person_keys(n)
    return out
