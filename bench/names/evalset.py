"""The labelled evaluation set of the name check, and its distractors.

Everything here is written by the project and is independent of the
engine's own tables: English and scholarly spellings come from ICU's
BGN/PCGN and ISO 9 transforms, German and French spellings from the rules
below and from attested press spellings (people.yml), diminutives from
people.yml. The engine never reads this module.

    python bench/names/evalset.py        # (re)writes targets.jsonl and queries.jsonl
"""

from __future__ import annotations

import json
import random
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import icu
import yaml

HERE = Path(__file__).parent
SEED = 20261122

# --- transliteration, written for the evaluation ------------------------------------


@cache
def _icu(tid: str) -> Any:
    return icu.Transliterator.createInstance(tid)


def bgn(cyr: str) -> str:
    """BGN/PCGN as printed in English: ICU's transform, soft signs and diaeresis dropped."""
    s = _icu("Russian-Latin/BGN").transliterate(cyr)
    return s.replace("ʹ", "").replace("ʺ", "").replace("ë", "e").replace("Ë", "E")


def iso9(cyr: str) -> str:
    """ISO 9:1995, with its diacritics (ICU Cyrillic-Latin)."""
    return str(_icu("Cyrillic-Latin").transliterate(cyr))


def ascii_only(s: str) -> str:
    return str(_icu("Latin-ASCII").transliterate(s))


_LOC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "ë", "ж": "zh", "з": "z", "и": "i",
    "й": "ĭ", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "ʺ", "ы": "y",
    "ь": "ʹ", "э": "ė", "ю": "iu", "я": "ia",
}  # fmt: skip

_VOWELS = set("аеёиоуыэюя")


def _by_table(cyr: str, table: Callable[[str, str, str], str]) -> str:
    out: list[str] = []
    low = cyr.lower()
    for i, ch in enumerate(low):
        prev = low[i - 1] if i else ""
        nxt = low[i + 1] if i + 1 < len(low) else ""
        rom = table(ch, prev, nxt) if ch in _LOC else ch
        if rom and cyr[i] != ch:
            rom = rom[0].upper() + rom[1:]
        out.append(rom)
    return "".join(out)


def loc(cyr: str) -> str:
    """Library of Congress (ALA-LC) romanisation, without tie bars."""
    return _by_table(cyr, lambda ch, p, n: _LOC[ch])


def german(cyr: str) -> str:
    """Duden-style German transliteration, as German newspapers print Russian names."""

    def rule(ch: str, p: str, n: str) -> str:
        after_vowel = p == "" or p in _VOWELS or p in "ьъ"
        if ch == "е":
            return "je" if (after_vowel and p != "") or p in "ьъ" else "e"
        if ch == "ё":
            return "o" if p in "жчшщ" else "jo"
        if ch == "й":
            return "" if p in "иы" and not n else ("j" if n in _VOWELS else "i")
        if ch == "с":
            return "ss" if p in _VOWELS and n in _VOWELS else "s"
        if ch == "и" and n == "й" and not n[1:]:
            return "i"
        return {
            "в": "w", "ж": "sch", "з": "s", "х": "ch", "ц": "z", "ч": "tsch", "ш": "sch", "щ": "schtsch",
            "ъ": "", "ь": "", "ы": "y", "э": "e", "ю": "ju", "я": "ja", "у": "u",
        }.get(ch, _LOC[ch])  # fmt: skip

    return _by_table(cyr, rule)


def french(cyr: str) -> str:
    """French press transliteration (Khrouchtchev, Gorbatchev, Poutine)."""

    def rule(ch: str, p: str, n: str) -> str:
        if ch == "е":
            return "ie" if p in _VOWELS or p in "ьъ" else "e"
        if ch == "ё":
            return "o" if p in "жчшщ" else "io"
        if ch == "й":
            return "" if p in "иы" and not n else "ï"
        if ch == "с":
            return "ss" if p in _VOWELS and n in _VOWELS else "s"
        if ch == "г":
            return "gu" if n in "еёиыэ" else "g"
        if ch == "и" and p in "аоуэ":
            return "ï"
        if ch == "н" and not n and p in "иы":
            return "ne"  # Poutine, Kalouguine
        return {
            "ж": "j", "х": "kh", "ц": "ts", "ч": "tch", "ш": "ch", "щ": "chtch", "ъ": "", "ь": "",
            "ы": "y", "э": "e", "ю": "iou", "я": "ia", "у": "ou",
        }.get(ch, _LOC[ch])  # fmt: skip

    return _by_table(cyr, rule)


def surname_key(name: str) -> str:
    """A coarse key for keeping distractors apart from labelled people:
    BGN for Cyrillic, ASCII-folded, lower case, doubled letters collapsed."""
    latin = bgn(name) if re.search(r"[\u0400-\u04FF]", name) else umlaut_e(name)
    return re.sub(r"(.)\1+", r"\1", re.sub(r"[^a-z]", "", ascii_only(latin).lower()))


# --- damage -----------------------------------------------------------------------


def typo(word: str, rng: random.Random) -> str:
    """One keyboard slip: a substitution, a dropped, doubled or swapped letter."""
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(["sub", "del", "dup", "swap"])
    if kind == "sub":
        alphabet = "абвгдежзиклмнопрстуфхцчшщыэюя" if re.search(r"[\u0400-\u04FF]", word) else "abcdefghiklmnoprstuvwyz"
        return word[:i] + rng.choice([c for c in alphabet if c != word[i].lower()]) + word[i + 1 :]
    if kind == "del":
        return word[:i] + word[i + 1 :]
    if kind == "dup":
        return word[:i] + word[i] + word[i:]
    return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :] if word[i] != word[i - 1] else word[:i] + word[i + 1 :]


_OCR = [("in", "m"), ("m", "rn"), ("l", "1"), ("i", "l"), ("o", "0"), ("rn", "m"), ("cl", "d")]


def ocr(word: str, rng: random.Random) -> str | None:
    """One typewriter-OCR confusion, or None if the word offers none."""
    options = [(a, b) for a, b in _OCR if a in word[1:]]
    if not options:
        return None
    a, b = rng.choice(options)
    starts = [m.start() + 1 for m in re.finditer(re.escape(a), word[1:])]
    i = rng.choice(starts)
    return word[:i] + b + word[i + len(a) :]


def lose_umlauts(word: str) -> str:
    return unicodedata.normalize(
        "NFC", "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))
    )


def umlaut_e(word: str) -> str:
    return (
        word.replace("ä", "ae")
        .replace("ö", "oe")
        .replace("ü", "ue")
        .replace("ß", "ss")
        .replace("Ä", "Ae")
        .replace("Ö", "Oe")
        .replace("Ü", "Ue")
    )


# --- the labelled people ------------------------------------------------------------


@dataclass
class Person:
    id: str
    names: list[str]  # as indexed: the first is the record name
    cyr_given: str = ""
    cyr_patronymic: str = ""
    cyr_family: str = ""
    latin: str = ""  # English spelling of the whole name
    german: str = ""
    french: str = ""
    female: bool = False
    western: bool = False
    maiden: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def _female_family(cyr: str) -> str:
    for m, f in (
        ("ский", "ская"),
        ("цкий", "цкая"),
        ("ов", "ова"),
        ("ев", "ева"),
        ("ёв", "ёва"),
        ("ин", "ина"),
        ("ын", "ына"),
    ):
        if cyr.endswith(m):
            return cyr[: -len(m)] + f
    return cyr


@cache
def data() -> dict[str, Any]:
    return dict(yaml.safe_load((HERE / "people.yml").read_text(encoding="utf-8")))


def people(rng: random.Random) -> tuple[list[Person], list[str]]:
    """The labelled people, and the reserve family names used only for negatives."""
    d = data()
    out: list[Person] = []
    for i, (cyr, en, de, fr) in enumerate(d["attested"]):
        given, family = cyr.split(" ", 1)
        record = cyr if i % 2 == 0 else en
        out.append(Person(f"a{i:03d}", [record], given, "", family, en, de, fr))
    # One person per family name, so that a query by family name alone has
    # one right answer. Faker's Russian family names are left to the
    # distractors and the negatives: they are the common ones.
    from faker.providers.person.ru_RU import Provider as RuNames
    from faker.providers.person.uk_UA import Provider as UkNames

    common = set(RuNames.last_names_male)
    hard = {surname_key(q.split()[-1]) for _, q in d["hard_negatives"]} | {
        surname_key(i.split()[-1]) for i, _ in d["hard_negatives"]
    }
    attested = {surname_key(p.cyr_family) for p in out}
    # Ukrainian family names in -вич read as patronymics; leave them out.
    ukrainian = sorted(n for n in UkNames.last_names if not re.search("[іїєґʼ'’]|вич$", n.lower()))
    pool = list(dict.fromkeys([*d["family_names"], *ukrainian]))
    rng.shuffle(pool)
    common_keys = {surname_key(c) for c in common}
    by_key: dict[str, str] = {}
    for f in pool:
        by_key.setdefault(surname_key(f), f)
    usable = [f for k, f in by_key.items() if k not in common_keys and k not in hard | attested]
    chosen = usable[:440]
    reserve = sorted(common | set(usable[440:]))
    males = d["male_given"]
    for n, family in enumerate(chosen):
        female = rng.random() < 0.35
        father = rng.choice(males)
        if female:
            given = rng.choice(d["female_given"])
            patronymic = father[2]
            fam = _female_family(family)
        else:
            given = rng.choice(males)[0]
            patronymic = father[1]
            fam = family
        full = f"{given} {fam}"
        with_patronymic = rng.random() < 0.4
        record_cyr = f"{given} {patronymic} {fam}" if with_patronymic else full
        record = record_cyr if n % 2 == 0 else bgn(record_cyr)
        p = Person(
            f"f{n:03d}",
            [record],
            given,
            patronymic if with_patronymic else "",
            fam,
            bgn(full),
            german(full),
            french(full),
            female,
        )
        out.append(p)
    wd = d["western_given"]
    for j, fam in enumerate(d["western_family"]):
        female = j % 3 == 2
        given = rng.choice(wd["female" if female else "male"])
        out.append(Person(f"w{j:02d}", [f"{given} {fam}"], latin=f"{given} {fam}", female=female, western=True))
    # The indexed side of each hard negative pair.
    latin = {p.latin for p in out}
    for k, (indexed, _) in enumerate(d["hard_negatives"]):
        if indexed not in latin:
            out.append(Person(f"h{k:02d}", [indexed], latin=indexed, western=True))
    # Married women: a second name under the husband's family name.
    women = [p for p in out if p.female and not p.western and p.id.startswith("f")]
    for p in rng.sample(women, 60):
        husband = _female_family(rng.choice(reserve))
        married = f"{p.cyr_given} {husband}"
        p.maiden = p.cyr_family
        p.names.append(married if rng.random() < 0.5 else bgn(married))
        p.extra["married"] = married
    return out, reserve


# --- queries ------------------------------------------------------------------------


@dataclass
class Query:
    query: str
    category: str
    expected: str | None  # a person id, or None for a negative
    note: str = ""

    def json(self, qid: str) -> dict[str, Any]:
        return {"id": qid, "query": self.query, "category": self.category, "expected": self.expected, "note": self.note}


_RANKS = ["Gen.", "General", "Col.", "Colonel", "Lt. Col.", "Lieutenant Colonel", "Maj. Gen.", "Major", "Capt.", "Dr.", "Comrade", "Ambassador", "Prof.", "Mr."]  # fmt: skip
_ORGS = ["KGB", "GRU", "MVD", "CIA", "FBI", "Soviet Embassy", "First Chief Directorate"]


def _split_latin(name: str) -> tuple[str, str]:
    given, _, family = name.rpartition(" ")
    return given, family


def queries(persons: list[Person], reserve: list[str], rng: random.Random) -> list[Query]:
    d = data()
    qs: list[Query] = []
    att = [p for p in persons if p.id.startswith("a")]
    fic = [p for p in persons if p.id.startswith("f")]
    wes = [p for p in persons if p.western]
    russian = att + fic

    def stored_cyr(p: Person) -> bool:
        return bool(re.search(r"[\u0400-\u04FF]", p.names[0]))

    for p in rng.sample([p for p in fic if stored_cyr(p)], 120):
        qs.append(Query(bgn(f"{p.cyr_given} {p.cyr_family}"), "cyrillic→latin", p.id, "BGN/PCGN"))
    for p in rng.sample([p for p in russian if not stored_cyr(p)], 120):
        qs.append(Query(f"{p.cyr_given} {p.cyr_family}", "latin→cyrillic", p.id))
    for p in att:
        qs.append(Query(p.latin, "english", p.id, "attested"))
        qs.append(Query(p.german, "german", p.id, "attested"))
        qs.append(Query(p.french, "french", p.id, "attested"))
    for p in rng.sample(fic, 100):
        qs.append(Query(p.german, "german", p.id, "Duden rules"))
    for p in rng.sample(fic, 100):
        qs.append(Query(p.french, "french", p.id, "French press rules"))
    for p in rng.sample(russian, 80):
        qs.append(Query(iso9(f"{p.cyr_given} {p.cyr_family}"), "scholarly", p.id, "ISO 9"))
    for p in rng.sample(russian, 80):
        qs.append(Query(loc(f"{p.cyr_given} {p.cyr_family}"), "scholarly", p.id, "ALA-LC"))
    for p in rng.sample(russian, 40):
        qs.append(Query(ascii_only(iso9(f"{p.cyr_given} {p.cyr_family}")), "scholarly", p.id, "ISO 9, diacritics lost"))

    dims = d["diminutives"]
    pool = [p for p in russian if p.cyr_given in dims] + [p for p in wes if p.latin.split()[0] in dims]
    for p in rng.sample(pool, min(110, len(pool))):
        if p.western:
            given, family = _split_latin(p.latin)
            qs.append(Query(f"{rng.choice(dims[given])} {family}", "diminutive", p.id))
        else:
            dim = rng.choice(dims[p.cyr_given])
            family = p.cyr_family if re.search(r"[\u0400-\u04FF]", dim) else bgn(p.cyr_family)
            qs.append(Query(f"{dim} {family}", "diminutive", p.id))

    def latin_parts(p: Person) -> tuple[str, str, str]:
        if p.western:
            g, f = _split_latin(p.latin)
            return g, "", f
        return bgn(p.cyr_given), bgn(p.cyr_patronymic) if p.cyr_patronymic else "", bgn(p.cyr_family)

    for p in rng.sample(persons, 100):
        g, pa, f = latin_parts(p)
        form = rng.randrange(4)
        ini = f"{g[0]}." + (f" {pa[0]}." if pa else "")
        text = [f"{ini} {f}", f"{ini.replace(' ', '')} {f.upper()}", f"{f} {ini}", f"{f.upper()}, {g[0]}."][form]
        qs.append(Query(text, "initials", p.id))
    for p in rng.sample(persons, 100):
        g, pa, f = latin_parts(p)
        rank = rng.choice(["Maj. Gen.", "Col.", "Lt.", "Capt.", "Dr.", "Gen."])
        org = rng.choice(_ORGS)
        text = f"{f.upper()}, {g}{' ' + pa if pa else ''}, {rank}, {org}" if rng.random() < 0.7 else f"{f.upper()}, {g}"
        qs.append(Query(text, "card form", p.id))
    for p in rng.sample(persons, 100):
        g, pa, f = latin_parts(p)
        rank = rng.choice(_RANKS)
        text = f"{rank} {g} {f}" + (" (Retired)" if rng.random() < 0.2 else "")
        qs.append(Query(text, "title", p.id))
    with_pat = [p for p in fic if p.cyr_patronymic]
    pairs = Counter((p.cyr_given, p.cyr_patronymic) for p in with_pat)
    for p in rng.sample(with_pat, min(60, len(with_pat))):
        form = rng.randrange(3 if pairs[(p.cyr_given, p.cyr_patronymic)] == 1 else 2)
        cyr = [
            f"{p.cyr_family} {p.cyr_given} {p.cyr_patronymic}",
            f"{p.cyr_given} {p.cyr_patronymic} {p.cyr_family}",
            f"{p.cyr_given} {p.cyr_patronymic}",
        ][form]
        text = cyr if rng.random() < 0.5 else bgn(cyr)
        qs.append(Query(text, "patronymic", p.id, ["Russian order", "full", "address form"][form]))
    for p in [p for p in persons if p.maiden]:
        # Asked for by the name the record was not filed under.
        married = p.extra["married"]
        other = f"{p.cyr_given} {p.cyr_family}"
        asked = other if p.names[-1] in (married, bgn(married)) and rng.random() < 0.5 else married
        qs.append(Query(bgn(asked) if rng.random() < 0.6 else asked, "maiden/married", p.id))
    for p in rng.sample(persons, 130):
        g, _, f = latin_parts(p)
        slipped = typo(f, rng)
        qs.append(Query(f"{g} {slipped}" if slipped != f else f"{typo(g, rng)} {f}", "typo", p.id))
    n_ocr = 0
    for p in rng.sample(persons, len(persons)):
        if n_ocr >= 130:
            break
        g, _, f = latin_parts(p)
        damaged = ocr(f, rng)
        if damaged is None:
            continue
        text = f"{g} {damaged}"
        qs.append(Query(text.upper() if rng.random() < 0.4 else text, "ocr", p.id))
        n_ocr += 1
    for p in [p for p in wes if re.search("[äöüßÄÖÜ]", p.latin)]:
        qs.append(Query(umlaut_e(p.latin), "umlaut", p.id, "ue spelling"))
        qs.append(Query(lose_umlauts(p.latin), "umlaut", p.id, "umlaut lost"))
    for p in rng.sample(persons, 60):
        g, _, f = latin_parts(p)
        form = rng.randrange(3)
        qs.append(Query([f"{g} {f}'s", f"{f}’s", f"{f.upper()}'S"][form], "possessive", p.id))

    # Negatives -----------------------------------------------------------------------
    for indexed, asked in d["hard_negatives"]:
        qs.append(Query(asked, "hard negative", None, f"indexed: {indexed}"))
    classes = {k: set(v) | {k} for k, v in dims.items()}
    for group in d["equivalents"]:
        for g in group:
            classes.setdefault(g, {g}).update(group)

    def different_given(p: Person) -> str:
        if p.western:
            own = p.latin.split()[0]
            pool = [
                g
                for g in d["western_given"]["female" if p.female else "male"]
                if g != own and own not in classes.get(g, ())
            ]
            return rng.choice(pool)
        names = d["female_given"] if p.female else [m[0] for m in d["male_given"]]
        own = p.cyr_given
        pool = [g for g in names if g != own and own not in classes.get(g, set()) and g[0] != own[0]]
        return rng.choice(pool)

    for p in rng.sample(persons, 220):
        other = different_given(p)
        if p.western:
            qs.append(Query(f"{other} {_split_latin(p.latin)[1]}", "different given name", None, f"indexed: {p.latin}"))
        else:
            name = f"{other} {p.cyr_family}"
            qs.append(
                Query(name if rng.random() < 0.4 else bgn(name), "different given name", None, f"indexed: {p.latin}")
            )
    # Near family names: a real family name (from Faker's Russian list and our
    # reserve) one or two letters away from an indexed one: Kalugin/Kalinin.
    from faker.providers.person.ru_RU import Provider as RuNames
    from rapidfuzz.distance import Levenshtein

    indexed_keys = {surname_key(p.cyr_family) for p in persons if p.cyr_family}
    real = sorted({*RuNames.last_names_male, *reserve})
    real = [r for r in real if surname_key(r) not in indexed_keys]
    n_near = 0
    for p in rng.sample(fic + att, len(fic) + len(att)):
        if n_near >= 200:
            break
        base = p.cyr_family if not p.female else p.cyr_family[:-1]
        near = [
            r for r in real if 1 <= Levenshtein.distance(r, base) <= 2 and len(base) >= 5 and _loose(r) != _loose(base)
        ]
        if not near:
            continue
        fam = rng.choice(near)
        fam = _female_family(fam) if p.female else fam
        name = f"{p.cyr_given} {fam}"
        qs.append(Query(name if rng.random() < 0.4 else bgn(name), "near family name", None, f"indexed: {p.latin}"))
        n_near += 1
    males = [m[0] for m in d["male_given"]]
    for _ in range(120):
        name = f"{rng.choice(males)} {rng.choice(reserve)}"
        qs.append(Query(name if rng.random() < 0.4 else bgn(name), "not indexed", None))
    return qs


def _loose(name: str) -> str:
    """Family-name key without y/i/j: Mikhalyuk and Mikhaylyuk, Semenov and Semyonov are one name."""
    return re.sub("[yij]", "", surname_key(name))


def _given_letter(given: str) -> str:
    return surname_key(given)[:1]


def realworld(persons: list[Person]) -> tuple[list[Person], list[Query]]:
    """The real-world classes of issue 13 (realworld.yml): attested people and
    the forms they are written in. A held-out query's category carries
    "(held out)", so each class is reported on both parts."""
    d = yaml.safe_load((HERE / "realworld.yml").read_text(encoding="utf-8"))
    known = {p.id for p in persons}
    out: list[Person] = []
    qs: list[Query] = []

    def category(cls: str, split: str) -> str:
        if split not in ("dev", "heldout"):
            raise ValueError(f"realworld.yml: split {split!r} is neither dev nor heldout")
        return cls if split == "dev" else f"{cls} (held out)"

    for n, entry in enumerate(d["people"]):
        pid = entry.get("same_as")
        if pid is None:
            pid = f"r{n:03d}"
            out.append(Person(pid, list(entry["names"]), latin=entry["names"][0], western=True))
        elif pid not in known:
            raise ValueError(f"realworld.yml: same_as {pid!r} is not a labelled person")
        for cls, split, text in entry["queries"]:
            qs.append(Query(text, category(cls, split), pid, "attested"))
    for cls, split, text, note in d["negatives"]:
        qs.append(Query(text, category(cls, split), None, note))
    return out, qs


def excluded_keys(persons: list[Person], qs: list[Query]) -> set[str]:
    """What no distractor may be, so that every labelled answer is the only right one:
    a labelled person's family name (s:), a negative query's family name with
    the same given initial (n:), an address form asked for (gp:)."""
    keys = {"s:" + _loose(n.split()[-1]) for p in persons for n in p.names}
    # Real-world people may be asked for by any of their family names
    # (Castro of Castro Ruz, Tirado of Tirado de Duran).
    keys |= {"s:" + _loose(w) for p in persons if p.id.startswith("r") for n in p.names for w in n.split()[1:]}
    keys |= {"s:" + _loose(p.cyr_family) for p in persons if p.cyr_family}
    for q in qs:
        words = q.query.split()
        if q.expected is None and len(words) >= 2:
            keys.add(f"n:{_loose(words[-1])}|{_given_letter(words[0])}")
        if q.note == "address form":
            keys.add(f"gp:{_loose(words[0])}|{_loose(words[1])}")
    return keys


# --- distractors --------------------------------------------------------------------

_LOCALES = {
    "ru_RU": 0.30, "uk_UA": 0.08, "en_US": 0.14, "en_GB": 0.06, "de_DE": 0.10, "fr_FR": 0.08,
    "pl_PL": 0.06, "cs_CZ": 0.04, "es_ES": 0.05, "it_IT": 0.05, "tr_TR": 0.04,
}  # fmt: skip


def distractors(n: int, excluded: set[str] = frozenset(), seed: int = SEED) -> Iterator[str]:  # type: ignore[assignment]
    """`n` realistic names from Faker's locales; Russian and Ukrainian ones
    in Cyrillic, in Latin (BGN), in Russian order and with patronymics,
    as archives hold them. No name carries an excluded family-name key."""
    from faker import Faker

    rng = random.Random(seed)
    fakers = {}
    for loc_name in _LOCALES:
        f = Faker(loc_name)
        f.seed_instance(seed)
        fakers[loc_name] = f
    locs = list(_LOCALES)
    weights = list(_LOCALES.values())
    made = 0
    while made < n:
        loc_name = rng.choices(locs, weights)[0]
        f = fakers[loc_name]
        female = rng.random() < 0.4
        given = f.first_name_female() if female else f.first_name_male()
        family = (
            (f.last_name_female() if female else f.last_name_male()) if hasattr(f, "last_name_male") else f.last_name()
        )
        sk = _loose(family)
        if "s:" + sk in excluded or f"n:{sk}|{_given_letter(given)}" in excluded:
            continue
        if loc_name in ("ru_RU", "uk_UA"):
            middle = (
                (f.middle_name_female() if female else f.middle_name_male()) if hasattr(f, "middle_name_male") else ""
            )
            if middle and f"gp:{_loose(given)}|{_loose(middle)}" in excluded:
                middle = ""
            form = rng.random()
            if form < 0.3 and middle:
                name = f"{given} {middle} {family}"
            elif form < 0.45 and middle:
                name = f"{family} {given} {middle}"
            else:
                name = f"{given} {family}"
            if rng.random() < 0.4:
                name = (
                    bgn(name)
                    if loc_name == "ru_RU"
                    else str(_icu("Ukrainian-Latin/BGN").transliterate(name)).replace("ʹ", "")
                )
        else:
            name = f"{given} {family}"
        made += 1
        yield name


def load(where: Path = HERE) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The committed targets and queries (or those written to `where`)."""
    targets = [json.loads(line) for line in (where / "targets.jsonl").read_text(encoding="utf-8").splitlines()]
    qs = [json.loads(line) for line in (where / "queries.jsonl").read_text(encoding="utf-8").splitlines()]
    return targets, qs


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description="Write the labelled name-check evaluation set.")
    ap.add_argument("--seed", type=int, default=SEED, help="another seed gives a held-out set")
    ap.add_argument("--out", type=Path, default=HERE)
    args = ap.parse_args()
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    persons, reserve = people(rng)
    qs = queries(persons, reserve, rng)
    # Appended after everything drawn from `rng`, so the older classes are unchanged.
    extra, extra_qs = realworld(persons)
    persons += extra
    qs += extra_qs
    with (out / "targets.jsonl").open("w", encoding="utf-8") as fh:
        for p in persons:
            fh.write(json.dumps({"id": p.id, "names": p.names}, ensure_ascii=False) + "\n")
    with (out / "queries.jsonl").open("w", encoding="utf-8") as fh:
        for i, q in enumerate(qs):
            fh.write(json.dumps(q.json(f"q{i:04d}"), ensure_ascii=False) + "\n")
    (out / "excluded.json").write_text(json.dumps(sorted(excluded_keys(persons, qs)), indent=0), encoding="utf-8")
    c = Counter(q.category for q in qs)
    print(f"{len(persons)} people, {len(qs)} queries ({sum(1 for q in qs if q.expected)} positive)")
    for k, v in sorted(c.items()):
        print(f"  {k:22} {v}")


if __name__ == "__main__":
    main()
