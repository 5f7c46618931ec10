"""The name-check engine: an in-memory index of person names built for speed.

Name analysis happens once, when a name is added, not at every query:

* the name is parsed into roles (given names, patronymic, family name);
* each distinct token is read under every romanisation scheme once
  (`token_keys`), and its keys, plus one-deletion keys of the most literal
  readings, go into the postings of the role it plays; given names are also
  posted under their equivalence classes (Sasha → Aleksandr);
* each record keeps only token ids per role, in compact arrays, so that a
  million names cost tens of megabytes, not gigabytes.

A query is parsed once. Its family name is looked up in the family-name
postings, and each candidate *token* is compared once, however many records
carry it. Records are then scored in bulk with numpy from those per-token
evidences, using the same constants as `compare_names`. The best few are
rescored with `compare_names` itself, which writes the explanation; the score
reported is exactly that score times the commonness factor, so an explanation
always adds up to its number.

Retrieval finds every spelling within one edit of some reading of the query
(symmetric one-deletion keys). A given name further away than that counts as
conflicting, which is what `compare_names` would say of almost all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from kartoteka.names.compare import (
    FULL_NAME_COMMONNESS,
    GIVEN_CONFLICT,
    INITIAL_FITS,
    LIKELY,
    MIDDLE_CONFLICT,
    NAME_ON_FILE,
    ONE_SIDED,
    PATRONYMIC_CONFLICT,
    SURNAME_ONLY_COMMONNESS,
    NameMatch,
    Part,
    commonness,
    compare_names,
    given_evidence,
    match_tokens,
)
from kartoteka.names.frozen import ROLES, Blob, Frozen, KeyTable, Rows, encode_keys
from kartoteka.names.layers import Column, Counts, Multi, Strings
from kartoteka.names.parse import NameToken, ParsedName, Reading, given_classes, parse_name, readings
from kartoteka.names.postings import Lru, Postings, first_letters, grown, letter_bit

__all__ = ["LIKELY", "MIN_REPORTED", "Hit", "NameIndex"]

MIN_REPORTED = 0.3  # below this a candidate is noise, not worth a reviewer's time
NONE = -1
# The shortlist: 4 × (limit + _SHORTLIST_EXTRA) records by bulk score get
# their commonness factor, which the bulk score leaves out and which can
# reorder near-equal candidates; the best `limit` entities are then rescored
# exactly.
_SHORTLIST_EXTRA = 20
_TIED_MAX = 8
# Query family names whose candidate tokens and evidence are kept (cleared
# at every add or discard, as the given-name cache is).
FAMILY_CACHE = 4096

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Hit:
    """One candidate of a name check: an entity, the name of its that matched, and why."""

    entity_id: str
    matched: str
    score: float
    explanation: str


class NameIndex:
    """Person names of many entities, analysed once, searched in milliseconds.

    Built in memory by `add`, or laid over a frozen base (`NameIndex(Frozen.load(path))`,
    kartoteka/names/frozen.py) that holds what an earlier process analysed;
    `add` and `discard` then change only this process's layer, and `freeze`
    folds both into a new base.
    """

    def __init__(self, base: Frozen | None = None) -> None:
        b = base
        self._base = b
        self._t0 = b.n_tokens if b is not None else 0
        self._e0 = b.n_entities if b is not None else 0
        self._r0 = b.n_records if b is not None else 0
        self._tid: dict[str, int] = {}  # casefolded text → id, for tokens of this layer
        self._new_tokens: list[NameToken] = []
        self._token_cache: dict[int, NameToken] = {}
        self._first_bits = Column(b.first_bits if b else None, "q", np.int64)  # first letters of its readings
        self._initial_bit = Column(b.initial_bit if b else None, "q", np.int64)  # its own initial
        self._is_initial = Column(b.is_initial if b else None, "b", np.int8)
        self._roles = Column(b.roles if b else None, "b", np.int8)
        self._surnames = Postings(0, self._roles, b)
        self._givens = Postings(1, self._roles, b)
        self._patronymics = Postings(2, self._roles, b)
        self._given_by_class = Multi(b.given_by_class if b else None)
        # Records: one row per (entity, name), token ids per role.
        self._r_surname = Column(b.r_surname if b else None, "i", np.int32)
        self._r_given1 = Column(b.r_given1 if b else None, "i", np.int32)
        self._r_given2 = Column(b.r_given2 if b else None, "i", np.int32)
        self._r_patronymic = Column(b.r_patronymic if b else None, "i", np.int32)
        self._r_entity = Column(b.r_entity if b else None, "i", np.int32)
        # Per record: the reading rule that filed it (0: the name as written),
        # e.g. "middle name used as given name" for "J. Lee Rankin" filed as "Lee Rankin".
        self._r_rule = Column(b.r_rule if b else None, "b", np.int8)
        # A record of a card since discarded stays, dead, until the next freeze.
        self._r_live = Column(np.ones(b.n_records, dtype=np.int8) if b else None, "b", np.int8)
        self._rules: list[tuple[str, float]] = list(b.rules) if b else [("", 1.0)]
        self._rule_ids: dict[tuple[str, float], int] = {r: i for i, r in enumerate(self._rules) if i}
        self._r_raw = Strings(b.r_raw if b else None)
        self._by_surname = Multi(b.by_surname if b else None)
        self._by_given = Multi(b.by_given if b else None)
        # Entities.
        self._eids = Strings(b.eids if b else None)
        self._eix: dict[str, int] = {}
        self._alive = Column(b.alive if b else None, "b", np.int8)
        self._has_full = Column(b.has_full if b else None, "b", np.int8)
        self._weight = Column(b.weight if b else None, "d", np.float64)
        self._records_of = Multi(b.records_of if b else None)
        self._names: dict[int, set[str]] = {}  # names added per entity, read from the base when first needed
        # Commonness: distinct entities per family name, per full name; and
        # which (key, role) pairs each entity is counted under.
        self._surname_entities = Counts(base_dense=b.surname_entities if b else None)
        self._full_entities = Counts(base_keys=b.full_keys if b else None, base_counts=b.full_counts if b else None)
        self._counted: dict[int, set[tuple[int, int]]] = {}
        self._given_cache: dict[str, tuple[dict[int, float], bool]] = {}
        self._family_cache: Lru[NameToken, tuple[list[int], list[float], bool]] = Lru(FAMILY_CACHE)

    # building ------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._r_raw)

    @property
    def token_count(self) -> int:
        return self._t0 + len(self._new_tokens)

    def _tok(self, tid: int) -> NameToken:
        if tid >= self._t0:
            return self._new_tokens[tid - self._t0]
        token = self._token_cache.get(tid)
        if token is None:
            assert self._base is not None
            token = self._token_cache[tid] = self._base.token(tid)
        return token

    def _token_id(self, token: NameToken) -> int:
        key = token.text.casefold()
        tid = self._tid.get(key)
        if tid is None and self._base is not None:
            tid = self._base.token_id(key)
        if tid is None:
            tid = self.token_count
            self._new_tokens.append(token)
            self._first_bits.append(first_letters(token))
            self._initial_bit.append(letter_bit(token.initial) if token.initial else 0)
            self._is_initial.append(1 if token.is_initial else 0)
            self._roles.append(0)
        self._tid[key] = tid
        return tid

    def _entity_ix(self, entity_id: str) -> int | None:
        eix = self._eix.get(entity_id)
        if eix is None and self._base is not None:
            eix = self._base.entity_index(entity_id)
            if eix is not None:
                self._eix[entity_id] = eix
        return eix

    def _entity(self, entity_id: str, weight: float) -> int:
        eix = self._entity_ix(entity_id)
        if eix is None:
            eix = len(self._eids)
            self._eix[entity_id] = eix
            self._eids.append(entity_id)
            self._alive.append(1)
            self._has_full.append(0)
            self._weight.append(weight)
            self._names[eix] = set()
            self._counted[eix] = set()
        else:
            self._alive[eix] = 1
            self._weight[eix] = max(self._weight[eix], weight)
        return eix

    def _live_records(self, eix: int) -> list[int]:
        return [int(r) for r in self._records_of.get(eix) if self._r_live[int(r)]]

    def _names_of(self, eix: int) -> set[str]:
        names = self._names.get(eix)
        if names is None:  # a card of the base: the names it was given are its records as written
            names = self._names[eix] = {self._r_raw[r] for r in self._live_records(eix) if self._r_rule[r] == 0}
        return names

    def add(self, entity_id: str, name: str | ParsedName, weight: float = 0.0) -> bool:
        """Index one name of an entity. Returns False if it holds no person name.

        `weight` (e.g. how often the entity is mentioned) breaks ties between
        equal scores, most weighty first.
        """
        parsed = parse_name(name) if isinstance(name, str) else name
        if parsed.is_empty:
            return False
        eix = self._entity(entity_id, weight)
        names = self._names_of(eix)
        if parsed.raw in names:
            return True
        names.add(parsed.raw)
        self._given_cache.clear()
        self._family_cache.clear()
        self._add_record(eix, parsed)
        for reading in readings(parsed):
            self._add_record(eix, reading.name, self._rule_id(reading))
        if parsed.surname is None and parsed.patronymic is not None and parsed.given:
            # "Dmitry Shostakovich" parses as given name and patronymic; file
            # it under the family-name reading too.
            self._add_record(eix, ParsedName(raw=parsed.raw, given=parsed.given, surname=parsed.patronymic))
        return True

    def _rule_id(self, reading: Reading) -> int:
        key = (reading.rule, reading.factor)
        rid = self._rule_ids.get(key)
        if rid is None:
            if len(self._rules) >= 127:  # stored in a signed byte; rules are few (one per particle or name)
                return 0
            rid = len(self._rules)
            self._rule_ids[key] = rid
            self._rules.append(key)
        return rid

    def _rule_factors(self, rids: I64) -> F64:
        factors = np.asarray([f for _, f in self._rules], dtype=np.float64)
        return np.asarray(factors[self._r_rule.take(rids)], dtype=np.float64)

    def _add_record(self, eix: int, parsed: ParsedName, rule: int = 0) -> None:
        s = g1 = g2 = p = NONE
        if parsed.surname is not None:
            s = self._token_id(parsed.surname)
            self._surnames.add(s, parsed.surname)
        if parsed.given:
            g1 = self._token_id(parsed.given[0])
            self._add_given(g1, parsed.given[0])
            if len(parsed.given) > 1:
                g2 = self._token_id(parsed.given[1])
                self._add_given(g2, parsed.given[1])
        if parsed.patronymic is not None:
            p = self._token_id(parsed.patronymic)
            self._patronymics.add(p, parsed.patronymic)
        rid = len(self._r_raw)
        self._r_raw.append(parsed.raw)
        self._r_surname.append(s)
        self._r_given1.append(g1)
        self._r_given2.append(g2)
        self._r_patronymic.append(p)
        self._r_entity.append(eix)
        self._r_rule.append(rule)
        self._r_live.append(1)
        self._records_of.append(eix, rid)
        if s != NONE:
            self._by_surname.append(s, rid)
            self._count(self._surname_entities, s, eix, 0)
            if g1 != NONE:
                self._count(self._full_entities, (s << 32) | g1, eix, 1)
        if g1 != NONE:
            self._by_given.append(g1, rid)
        if parsed.is_full:
            self._has_full[eix] = 1

    def _add_given(self, tid: int, token: NameToken) -> None:
        if self._givens.has(tid):
            return
        self._givens.add(tid, token)
        for cls in given_classes(token):
            self._given_by_class.append(cls, tid)

    def _counted_keys(self, eix: int) -> set[tuple[int, int]]:
        keys = self._counted.get(eix)
        if keys is None:
            keys = set()
            # A card of the base, first touched here: what the base counted it under.
            for r in (r for r in self._live_records(eix) if r < self._r0):
                s, g1 = self._r_surname[r], self._r_given1[r]
                if s != NONE:
                    keys.add((s, 0))
                    if g1 != NONE:
                        keys.add(((s << 32) | g1, 1))
            self._counted[eix] = keys
        return keys

    def _count(self, counts: Counts, key: int, eix: int, role: int) -> None:
        # Count entities, not records: one person's aliases must not make
        # their own name look common.
        keys = self._counted_keys(eix)
        if (key, role) in keys:
            return
        keys.add((key, role))
        counts.add(key, 1)

    def discard(self, entity_id: str) -> None:
        """Take an entity out (merged into another, deleted, or about to be re-read):
        its names, records and counts go, as if it had never been added."""
        eix = self._entity_ix(entity_id)
        if eix is None:
            return
        for key, role in self._counted_keys(eix):
            (self._surname_entities if role == 0 else self._full_entities).add(key, -1)
        self._counted[eix] = set()
        for r in self._live_records(eix):
            self._r_live[r] = 0
        self._names[eix] = set()
        self._alive[eix] = 0
        self._has_full[eix] = 0
        self._weight[eix] = 0.0
        self._given_cache.clear()
        self._family_cache.clear()

    def freeze(self, stamp: dict[str, Any] | None = None) -> Frozen:
        """Both layers folded into one frozen base, without the records of discarded entities."""
        entity = self._r_entity.whole()
        live = (self._r_live.whole() == 1) & (self._alive.whole()[entity] == 1)
        keep = np.flatnonzero(live)
        new_rid = np.full(len(live), -1, dtype=np.int64)
        new_rid[keep] = np.arange(len(keep))
        n_tokens, n_entities = self.token_count, len(self._eids)

        def remapped(rows: Multi, n: int) -> Rows:
            keys, values = rows.pairs()
            values = new_rid[values]
            kept = values >= 0
            return Rows.of(n, keys[kept], values[kept])

        token_text = self._strings_of_tokens()
        classes = self._given_by_class.pairs()
        n_classes = int(classes[0].max()) + 1 if len(classes[0]) else 0
        entity_rows = entity[keep].astype(np.int64)
        full_keys, full_counts = self._full_entities.sparse_arrays()
        tables: dict[str, KeyTable] = {}
        for role, postings in zip(ROLES, (self._surnames, self._givens, self._patronymics), strict=True):
            tables[f"{role}_exact"], tables[f"{role}_deleted"] = postings.frozen()
        return Frozen(
            stamp=dict(stamp or {}),
            rules=list(self._rules),
            token_text=token_text[0],
            token_keys=token_text[1],
            token_ids=grown(
                self._base.token_ids if self._base else None, [t.text.casefold() for t in self._new_tokens], self._t0
            ),
            first_bits=self._first_bits.whole(),
            initial_bit=self._initial_bit.whole(),
            is_initial=self._is_initial.whole(),
            roles=self._roles.whole(),
            keys=tables,
            given_by_class=Rows.of(n_classes, classes[0], classes[1]),
            r_surname=self._r_surname.whole()[keep],
            r_given1=self._r_given1.whole()[keep],
            r_given2=self._r_given2.whole()[keep],
            r_patronymic=self._r_patronymic.whole()[keep],
            r_entity=entity[keep],
            r_rule=self._r_rule.whole()[keep],
            r_raw=self._r_raw.blob(None if len(keep) == len(live) else keep),
            by_surname=remapped(self._by_surname, n_tokens),
            by_given=remapped(self._by_given, n_tokens),
            eids=self._eids.blob(),
            entity_ids=grown(self._base.entity_ids if self._base else None, self._eids.extra, self._e0),
            alive=self._alive.whole(),
            has_full=self._has_full.whole(),
            weight=self._weight.whole(),
            records_of=Rows.of(n_entities, entity_rows, np.arange(len(keep), dtype=np.int64)),
            surname_entities=self._surname_entities.dense_array(n_tokens),
            full_keys=full_keys,
            full_counts=full_counts,
        )

    def _strings_of_tokens(self) -> tuple[Blob, Blob]:
        texts = Strings(self._base.token_text if self._base else None)
        keys = Strings(self._base.token_keys if self._base else None)
        for token in self._new_tokens:
            texts.append(token.text)
            keys.append(encode_keys(token))
        return texts.blob(), keys.blob()

    # searching -----------------------------------------------------------------
    def search(self, query: str | ParsedName, limit: int = 10, floor: float = MIN_REPORTED) -> list[Hit]:
        q = parse_name(query) if isinstance(query, str) else query
        if q.is_empty or limit <= 0:
            return []
        hits = self._search(q, limit, floor)
        others: list[Reading] = list(readings(q))
        if q.surname is None and q.patronymic is not None:
            # "Dmitri Shostakovich", "SHOSTAKOVICH, D.": a family name in -ovich
            # reads as a patronymic. Ask both ways and keep each entity's best.
            others.append(Reading(ParsedName(raw=q.raw, given=q.given, surname=q.patronymic, titles=q.titles), "", 1.0))
        if not others:
            return hits
        best = {h.entity_id: h for h in hits}
        for reading in others:
            # The query read another way ("J. Lee Rankin" asked as "Lee
            # Rankin" on file): its hits count a little less, and say why.
            for h in self._search(reading.name, limit, floor / reading.factor):
                if reading.rule:
                    note = f"rule: {reading.rule} in query (×{reading.factor:.2f})"
                    h = Hit(h.entity_id, h.matched, round(h.score * reading.factor, 4), f"{h.explanation}; {note}")
                if h.entity_id not in best or h.score > best[h.entity_id].score:
                    best[h.entity_id] = h
        weight = {eid: self._weight[self._entity_ix(eid) or 0] for eid in best}
        return sorted(best.values(), key=lambda h: (-h.score, -weight[h.entity_id], h.entity_id))[:limit]

    def _search(self, q: ParsedName, limit: int, floor: float) -> list[Hit]:
        on_file: set[str] = set()
        if q.surname is not None:
            rids, base, family_on_file = self._by_family_name(q)
            if family_on_file:
                on_file.add("family")
        elif q.given and not q.given[0].is_initial:
            rids, base = self._by_address_form(q)
        else:
            return []
        if q.given and not q.given[0].is_initial and self._given_compatible(q.given[0])[1]:
            on_file.add("given")
        if len(rids) == 0:
            return []
        alive = self._alive.take(self._r_entity.take(rids))
        # The cheapest upper bound of what rescoring can give: commonness only lowers it.
        keep = (alive == 1) & (self._r_live.take(rids) == 1) & (base >= floor)
        return self._rescore(q, rids[keep], base[keep], limit, floor, frozenset(on_file))

    def _by_family_name(self, q: ParsedName) -> tuple[I64, F64, bool]:
        assert q.surname is not None
        tids, evidence, on_file = self._family_candidates(q.surname)
        if not tids:
            return np.empty(0, dtype=np.int64), np.empty(0), False
        postings, sizes = self._by_surname.get_many(tids)
        rids = postings.astype(np.int64)
        score = np.repeat(np.asarray(evidence), sizes)
        g1 = self._r_given1.take(rids)
        if q.given:
            has_given = g1 != NONE
            factor = np.full(len(rids), ONE_SIDED)
            gf = self._given_factor(q.given[0], g1[has_given])
            if len(q.given) > 1:
                g2 = self._r_given2.take(rids)[has_given]
                both = (g2 != NONE) & (gf > GIVEN_CONFLICT)
                if both.any():
                    f2 = self._given_factor(q.given[1], g2[both])
                    gf[both] *= np.where(f2 > GIVEN_CONFLICT, 1.0, MIDDLE_CONFLICT)
                if q.given[1].is_initial:
                    # The second initial against the record's patronymic.
                    pc = self._r_patronymic.take(rids)[has_given]
                    vs_patronymic = (g2 == NONE) & (pc != NONE) & (gf > GIVEN_CONFLICT)
                    if vs_patronymic.any():
                        bit = letter_bit(q.given[1].initial)
                        fits = (self._first_bits.take(pc[vs_patronymic]) & bit) != 0
                        gf[vs_patronymic] *= np.where(fits, 1.0, MIDDLE_CONFLICT)
            factor[has_given] = gf
            # A short alias ("Popov") must not hide the conflict with the
            # given name the record knows ("Pyotr Popov").
            full = self._has_full.take(self._r_entity.take(rids))
            factor[~has_given & (full == 1)] = 0.0
        else:
            factor = np.full(len(rids), ONE_SIDED)
        score *= factor
        if q.patronymic is not None:
            score *= self._patronymic_factor(q.patronymic, rids)
        return rids, score * self._rule_factors(rids), on_file

    def _family_candidates(self, token: NameToken) -> tuple[list[int], list[float], bool]:
        """Family-name tokens that fit `token` (in token id order), their evidence,
        and whether `token` is itself a family name on file. Kept for recently
        asked tokens: a batch asks the same family names again and again."""
        cached = self._family_cache.get(token)
        if cached is not None:
            return cached
        tids: list[int] = []
        evidence: list[float] = []
        exact: list[bool] = []
        for tid in sorted(self._surnames.lookup(token)):
            tm = match_tokens(token, self._tok(tid))
            if tm.evidence > 0.0:
                tids.append(tid)
                evidence.append(tm.evidence)
                exact.append(tm.similarity == 1.0)
        on_file = any(exact)
        if on_file:
            evidence = [e if x else e * NAME_ON_FILE for e, x in zip(evidence, exact, strict=True)]
        out = tids, evidence, on_file
        self._family_cache.put(token, out)
        return out

    def _by_address_form(self, q: ParsedName) -> tuple[I64, F64]:
        """ "Oleg Danilovich": the given name and the patronymic must both agree."""
        compat, _ = self._given_compatible(q.given[0])
        tids = list(compat)
        postings, sizes = self._by_given.get_many(tids)
        if len(postings) == 0:
            return np.empty(0, dtype=np.int64), np.empty(0)
        rids = postings.astype(np.int64)
        g = np.repeat(np.asarray([compat[t] for t in tids]), sizes)
        if q.patronymic is None:
            return rids, 0.45 * g * self._rule_factors(rids)
        p = self._r_patronymic.take(rids)
        pf = self._patronymic_factor(q.patronymic, rids)
        score = np.where((p != NONE) & (pf == 1.0), 0.9 * g, np.where(p != NONE, 0.2 * g, 0.45 * g))
        return rids, score * self._rule_factors(rids)

    def _given_compatible(self, token: NameToken) -> tuple[dict[int, float], bool]:
        """Full given-name tokens that agree with `token` beyond conflict, with
        their evidence; and whether `token` is itself a given name on file."""
        key = token.text.casefold()
        cached = self._given_cache.get(key)
        if cached is not None:
            return cached
        tids = self._givens.lookup(token)
        for cls in given_classes(token):
            tids.update(self._given_by_class.get(cls).tolist())
        exact: dict[int, float] = {}
        fuzzy: dict[int, float] = {}
        for tid in tids:
            other = self._tok(tid)
            if other.is_initial:
                continue
            f, part = given_evidence(token, other)
            if f <= GIVEN_CONFLICT:
                continue
            if part.relation == "≈" and part.note != "equivalent form":
                fuzzy[tid] = f
            else:
                exact[tid] = f
        on_file = bool(exact)
        # Same rule as compare_names: near spellings only when the name is not on file.
        out = (exact if on_file else {**exact, **fuzzy}), on_file
        if len(self._given_cache) > 50_000:
            self._given_cache.clear()
        self._given_cache[key] = out
        return out

    def _given_factor(self, token: NameToken, gcol: npt.NDArray[np.int32]) -> F64:
        """`given_evidence(token, record given)` for a column of record token ids."""
        out = np.full(len(gcol), GIVEN_CONFLICT)
        if len(gcol) == 0:
            return out
        if token.is_initial:
            fits = (self._first_bits.take(gcol) & letter_bit(token.initial)) != 0
            out[fits] = INITIAL_FITS
            return out
        is_init = self._is_initial.take(gcol) == 1
        init_fits = (self._initial_bit.take(gcol) & first_letters(token)) != 0
        out[is_init & init_fits] = INITIAL_FITS
        compat, _ = self._given_compatible(token)
        if compat:
            keys = np.fromiter(compat.keys(), dtype=np.int64, count=len(compat))
            vals = np.fromiter(compat.values(), dtype=np.float64, count=len(compat))
            order = np.argsort(keys)
            keys, vals = keys[order], vals[order]
            pos = np.clip(np.searchsorted(keys, gcol), 0, len(keys) - 1)
            hit = (keys[pos] == gcol) & ~is_init
            out[hit] = vals[pos[hit]]
        return out

    def _patronymic_factor(self, token: NameToken, rids: I64) -> F64:
        p = self._r_patronymic.take(rids)
        out = np.ones(len(rids))
        present = p != NONE
        if not present.any():
            return out
        agree = [t for t in self._patronymics.lookup(token) if match_tokens(token, self._tok(t)).evidence >= 0.7]
        out[present & ~np.isin(p, np.asarray(agree, dtype=np.int64))] = PATRONYMIC_CONFLICT
        return out

    def _record_name(self, rid: int) -> ParsedName:
        """The record's name rebuilt from its tokens: what `compare_names` reads."""
        g1, g2 = self._r_given1[rid], self._r_given2[rid]
        given = tuple(self._tok(t) for t in (g1, g2) if t != NONE)
        s, p = self._r_surname[rid], self._r_patronymic[rid]
        return ParsedName(
            raw=self._r_raw[rid],
            given=given,
            patronymic=self._tok(p) if p != NONE else None,
            surname=self._tok(s) if s != NONE else None,
        )

    def _common_factors(self, q: ParsedName, rids: I64) -> tuple[F64, I64, npt.NDArray[np.bool_]]:
        """The commonness factor of every record, the count of entities behind it,
        and whether that count is of the full name (else of the family name alone;
        no count without a family name). The counts are read in one go."""
        s = self._r_surname.take(rids).astype(np.int64)
        g1 = self._r_given1.take(rids).astype(np.int64)
        factor = np.ones(len(rids))
        count = np.zeros(len(rids), dtype=np.int64)
        full = (s != NONE) & (g1 != NONE) if q.given else np.zeros(len(rids), dtype=bool)
        alone = (s != NONE) & ~full
        for mask, counts, params in (
            (full, self._full_entities.get_many((s[full] << 32) | g1[full]), FULL_NAME_COMMONNESS),
            (alone, self._surname_entities.get_many(s[alone]), SURNAME_ONLY_COMMONNESS),
        ):
            if len(counts):
                counts = np.maximum(counts, 1)
                # `commonness` itself on each distinct count (few): the factor is
                # the very float a scalar computation gives.
                distinct, inverse = np.unique(counts, return_inverse=True)
                factor[mask] = np.asarray([commonness(int(n), *params) for n in distinct.tolist()])[inverse]
                count[mask] = counts
        return factor, count, full

    def _explained(
        self, q: ParsedName, rid: int, on_file: frozenset[str], common: tuple[float, int, bool]
    ) -> NameMatch:
        """The record rescored by `compare_names`, with its reading rule and `common`
        (factor, count, of the full name?) from `_common_factors`."""
        match = compare_names(q, self._record_name(rid), on_file)
        rule, rule_factor = self._rules[self._r_rule[rid]]
        if rule:
            note = f"{rule} in record (×{rule_factor:.2f})"
            match = NameMatch(
                round(match.score * rule_factor, 4), (*match.parts, Part("rule:", None, None, "note", note))
            )
        factor, n, full = common
        if factor >= 1.0:
            return match
        note = f"shared by {n:,} people in the index (×{factor:.2f})"
        what = "name" if full else "family name"
        return NameMatch(round(match.score * factor, 4), (*match.parts, Part(what, None, None, "note", note)))

    def _rescore(
        self, q: ParsedName, rids: I64, base: F64, limit: int, floor: float, on_file: frozenset[str]
    ) -> list[Hit]:
        cap = 4 * (limit + _SHORTLIST_EXTRA)
        if len(rids) > cap:
            # Every record tied with the last place is kept, so which of many
            # equal candidates survive does not depend on the order records
            # were added in (an index brought up to date answers as a fresh
            # one); only a tie of thousands is cut arbitrarily.
            threshold = np.partition(base, len(base) - cap)[len(base) - cap]
            top = np.flatnonzero(base >= threshold)
            if len(top) > _TIED_MAX * cap:
                top = np.argpartition(-base, cap)[:cap]
            rids, base = rids[top], base[top]
        factor, count, full = self._common_factors(q, rids)
        adjusted = base * factor
        order = np.argsort(-adjusted, kind="stable")
        # Python lists, read once: the loops below would otherwise box a numpy scalar per access.
        rid_of, score_of, entity_of = rids.tolist(), adjusted.tolist(), self._r_entity.take(rids).tolist()
        chosen: dict[int, tuple[float, int]] = {}  # entity -> (adjusted score, shortlist position)
        boundary = -1.0
        for i in order.tolist():
            a, eix = score_of[i], entity_of[i]
            if len(chosen) >= limit and a < boundary:
                break
            cur = chosen.get(eix)
            if cur is None:
                chosen[eix] = (a, i)
                if len(chosen) == limit:
                    boundary = a  # keep every entity tied with the last place
            elif a == cur[0] and _fuller(self._r_raw[rid_of[i]], self._r_raw[rid_of[cur[1]]]):
                # Prefer the fuller record name on equal scores: it explains more.
                chosen[eix] = (a, i)
        factor_of, count_of, full_of = factor.tolist(), count.tolist(), full.tolist()
        ranked: list[tuple[float, float, str, int, NameMatch]] = []
        for eix, (_, i) in chosen.items():
            rid = rid_of[i]
            match = self._explained(q, rid, on_file, (factor_of[i], count_of[i], full_of[i]))
            if match.score >= floor:
                ranked.append((-match.score, -self._weight[eix], self._eids[eix], rid, match))
        ranked.sort(key=lambda h: h[:3])
        # Explanations are written for the hits returned only: an entity tied
        # with the last place is scored, but seldom shown.
        return [Hit(eid, self._r_raw[rid], match.score, match.explanation) for _, _, eid, rid, match in ranked[:limit]]


def _fuller(a: str, b: str) -> bool:
    # Longer first, then by spelling: the choice must not depend on the order
    # records were added in, or an index brought up to date would name a
    # candidate differently from one built afresh.
    return (len(a), b) > (len(b), a)
