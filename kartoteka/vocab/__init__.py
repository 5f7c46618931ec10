"""Vocabulary as data: markings, exemption codes, titles, name tables.

The YAML files beside this module are the reviewed source of truth. They are
loaded once, validated on load (a malformed file fails loudly, naming the file
and the key), and exposed as frozen structures.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml


class VocabError(ValueError):
    pass


def _load(name: str) -> dict[str, Any]:
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    # libyaml's loader where PyYAML was built with it (the wheels are): the
    # pure-Python one takes a third of a second over the name tables, which
    # a one-off `kartoteka check` pays before it answers.
    data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if not isinstance(data, dict):
        raise VocabError(f"vocab/{name}: expected a mapping at the top level")
    return data


def _require(data: dict[str, Any], key: str, kind: type, file: str) -> Any:
    if key not in data or not isinstance(data[key], kind):
        raise VocabError(f"vocab/{file}: key '{key}' missing or not a {kind.__name__}")
    return data[key]


@dataclass(frozen=True)
class Level:
    name: str
    abbrev: str
    rank: int
    ocr_variants: tuple[str, ...]


@dataclass(frozen=True)
class Markings:
    levels: tuple[Level, ...]
    controls: frozenset[str]
    portion_mark: re.Pattern[str]
    withheld: re.Pattern[str]
    page_marker: re.Pattern[str]
    page_footer: re.Pattern[str]
    record_numbers: dict[str, re.Pattern[str]]
    exemption: re.Pattern[str]
    exemption_codes: dict[str, str]

    def level_by_abbrev(self, abbrev: str) -> Level | None:
        return next((lv for lv in self.levels if lv.abbrev == abbrev), None)


@cache
def markings() -> Markings:
    f = "markings.yml"
    data = _load(f)
    levels = tuple(
        Level(
            name=str(_require(lv, "name", str, f)),
            abbrev=str(_require(lv, "abbrev", str, f)),
            rank=i,
            ocr_variants=tuple(str(v) for v in lv.get("ocr_variants", [])),
        )
        for i, lv in enumerate(_require(data, "levels", list, f))
    )
    ex = _load("exemptions.yml")
    codes = _require(ex, "codes", dict, "exemptions.yml")
    records = _require(data, "record_numbers", dict, f)
    return Markings(
        levels=levels,
        controls=frozenset(str(c) for c in _require(data, "controls", list, f)),
        portion_mark=re.compile(_require(data, "portion_mark", str, f)),
        withheld=re.compile(_require(data, "withheld", str, f)),
        page_marker=re.compile(_require(data, "page_marker", str, f), re.IGNORECASE),
        page_footer=re.compile(_require(data, "page_footer", str, f), re.IGNORECASE),
        record_numbers={str(k): re.compile(str(v)) for k, v in records.items()},
        exemption=re.compile(_require(ex, "pattern", str, "exemptions.yml")),
        exemption_codes={str(k): str(v) for k, v in codes.items()},
    )


@dataclass(frozen=True)
class BoilerplateVocab:
    stamps: dict[str, re.Pattern[str]]
    never_learned: tuple[re.Pattern[str], ...]
    min_docs: int
    min_words: int
    max_chars: int


@dataclass(frozen=True)
class CryptonymVocab:
    digraphs: frozenset[str]
    not_cryptonyms: frozenset[str]


@cache
def cryptonyms() -> CryptonymVocab:
    f = "cryptonyms.yml"
    data = _load(f)
    digraphs = frozenset(str(d) for d in _require(data, "digraphs", list, f))
    if any(len(d) != 2 or not d.isalpha() or not d.isupper() for d in digraphs):
        raise VocabError(f"vocab/{f}: a digraph is two capital letters")
    return CryptonymVocab(digraphs, frozenset(str(w) for w in _require(data, "not_cryptonyms", list, f)))


@cache
def boilerplate() -> BoilerplateVocab:
    f = "boilerplate.yml"
    data = _load(f)
    stamps: dict[str, re.Pattern[str]] = {}
    for name, pattern in _require(data, "stamps", dict, f).items():
        try:
            stamps[str(name)] = re.compile(str(pattern), re.IGNORECASE)
        except re.error as exc:
            raise VocabError(f"vocab/{f}: stamp '{name}' is not a valid pattern: {exc}") from exc
    return BoilerplateVocab(
        stamps=stamps,
        never_learned=tuple(re.compile(str(p), re.IGNORECASE) for p in _require(data, "never_learned", list, f)),
        min_docs=int(_require(data, "min_docs", int, f)),
        min_words=int(_require(data, "min_words", int, f)),
        max_chars=int(_require(data, "max_chars", int, f)),
    )


@dataclass(frozen=True)
class NameTables:
    schemes: dict[str, dict[str, tuple[str, ...]]]
    skeleton: dict[str, str]
    title_prefixes: tuple[tuple[str, ...], ...]  # longest first, as token tuples
    title_suffixes: frozenset[str]
    given_classes: tuple[tuple[str, ...], ...]
    patronymic_suffixes: tuple[str, ...]
    patronymic_short: frozenset[str]
    silent_final_e: frozenset[str]
    not_names: frozenset[str]
    read_back: dict[str, dict[str, str]]  # scheme -> Latin spelling -> the letter it reads back as

    @property
    def title_prefixes_set(self) -> frozenset[tuple[str, ...]]:
        return frozenset(self.title_prefixes)


def _title_tokens(title: str) -> tuple[str, ...]:
    return tuple(t for t in re.split(r"[\s.]+", title.lower()) if t)


@cache
def name_tables() -> NameTables:
    tr = _load("transliteration.yml")
    schemes_raw = _require(tr, "schemes", dict, "transliteration.yml")
    schemes: dict[str, dict[str, tuple[str, ...]]] = {}
    for scheme, table in schemes_raw.items():
        if not isinstance(table, dict):
            raise VocabError(f"vocab/transliteration.yml: scheme '{scheme}' is not a mapping")
        schemes[str(scheme)] = {str(k): tuple(str(s) for s in v) for k, v in table.items()}
    skeleton = {str(k): str(v) for k, v in _require(tr, "skeleton", dict, "transliteration.yml").items()}
    for scheme, table in schemes.items():
        missing = set(table) - set(skeleton)
        if missing:
            raise VocabError(f"vocab/transliteration.yml: scheme '{scheme}' letters without skeleton: {missing}")
    titles = _load("titles.yml")
    prefixes = sorted(
        {_title_tokens(str(t)) for t in _require(titles, "prefixes", list, "titles.yml")},
        key=len,
        reverse=True,
    )
    given = _load("given_names.yml")
    classes = tuple(tuple(str(n) for n in c) for c in _require(given, "classes", list, "given_names.yml"))
    patr = _load("patronymics.yml")
    return NameTables(
        schemes=schemes,
        skeleton=skeleton,
        title_prefixes=tuple(p for p in prefixes if p),
        title_suffixes=frozenset(
            t for s in _require(titles, "suffixes", list, "titles.yml") for t in _title_tokens(str(s))
        ),
        given_classes=classes,
        patronymic_suffixes=tuple(str(s) for s in _require(patr, "skeleton_suffixes", list, "patronymics.yml")),
        patronymic_short=frozenset(str(s) for s in _require(patr, "short_forms", list, "patronymics.yml")),
        silent_final_e=frozenset(str(s) for s in tr.get("silent_final_e", [])),
        not_names=frozenset(str(s).lower() for s in _require(titles, "not_names", list, "titles.yml")),
        read_back={str(k): {str(a): str(b) for a, b in v.items()} for k, v in (tr.get("read_back") or {}).items()},
    )


@dataclass(frozen=True)
class SurnameRules:
    particles: frozenset[str]
    misspellings: dict[str, str]  # skeleton letter -> the letter it is commonly written as


@cache
def surname_rules() -> SurnameRules:
    f = "surnames.yml"
    data = _load(f)
    mis = _require(data, "misspellings", dict, f)
    return SurnameRules(
        particles=frozenset(str(p).lower() for p in _require(data, "particles", list, f)),
        misspellings={str(k): str(v) for k, v in mis.items()},
    )


@dataclass(frozen=True)
class TranscriptionLanguages:
    labels: dict[str, str]  # language -> its name in explanations, in table order
    folded: frozenset[str]  # languages whose rules see the ASCII-folded word


@cache
def transcription_languages() -> TranscriptionLanguages:
    f = "transcription.yml"
    data = _load(f)
    labels = _require(data, "labels", dict, f)
    languages = [str(lang) for lang in _require(data, "languages", dict, f)]
    if set(labels) != set(languages):
        raise VocabError(f"vocab/{f}: labels must name exactly the languages ({', '.join(languages)})")
    return TranscriptionLanguages(
        labels={lang: str(labels[lang]) for lang in languages},
        folded=frozenset(str(lang) for lang in data.get("folded") or []),
    )


def files_digest(names: tuple[str, ...]) -> str:
    """A digest of these vocabulary files as shipped: what was derived from them
    and kept (the persisted name index) is stale once it changes."""
    h = hashlib.blake2b(digest_size=8)
    for name in names:
        h.update(resources.files(__package__).joinpath(name).read_bytes())
    return h.hexdigest()


@cache
def transcription() -> dict[str, tuple[tuple[re.Pattern[str], tuple[str, ...]], ...]]:
    """Per language, the ordered rules of practical transcription into Russian."""
    f = "transcription.yml"
    out: dict[str, tuple[tuple[re.Pattern[str], tuple[str, ...]], ...]] = {}
    for lang, rules in _require(_load(f), "languages", dict, f).items():
        compiled: list[tuple[re.Pattern[str], tuple[str, ...]]] = []
        for rule in rules:
            if not (isinstance(rule, list) and len(rule) == 2 and isinstance(rule[1], list) and rule[1]):
                raise VocabError(f"vocab/{f}: {lang}: rule {rule!r} is not [pattern, [spellings]]")
            try:
                pattern = re.compile(str(rule[0]))
            except re.error as exc:
                raise VocabError(f"vocab/{f}: {lang}: pattern {rule[0]!r}: {exc}") from exc
            compiled.append((pattern, tuple(str(s) for s in rule[1])))
        out[str(lang)] = tuple(compiled)
    return out


@cache
def offices() -> dict[str, int]:
    """Each spelling of an office held by one person at a time (vocab/offices.yml),
    casefolded, to the number of its office."""
    f = "offices.yml"
    out: dict[str, int] = {}
    for i, spellings in enumerate(_require(_load(f), "offices", list, f)):
        if not isinstance(spellings, list) or not spellings:
            raise VocabError(f"vocab/{f}: office {spellings!r} is not a list of spellings")
        for s in spellings:
            out[str(s).casefold()] = i
    return out
