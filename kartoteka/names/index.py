"""The name-check engine: an in-memory index of person names built for speed.

Name analysis happens once, when a name is added (kartoteka/names/tables.py),
not at every query:

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

Over a memory-mapped base every posting lookup hashes the query's keys and
searches sorted arrays (kartoteka/names/postings.py); what that and the
token comparisons give for recently asked tokens is kept in bounded caches,
so a service or a batch asking the same family names again pays it once.
"""

from __future__ import annotations

from collections.abc import Callable, Set
from dataclasses import dataclass

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
from kartoteka.names.frozen import Frozen
from kartoteka.names.parse import NameToken, ParsedName, Reading, given_classes, parse_name, readings
from kartoteka.names.postings import Lru, first_letters, letter_bit
from kartoteka.names.tables import NONE, Tables

__all__ = ["LIKELY", "MIN_REPORTED", "Accept", "Hit", "NameIndex"]

MIN_REPORTED = 0.3  # below this a candidate is noise, not worth a reviewer's time
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
# Which of these records, (entity id, the name on file), may be candidates
# (`NameIndex.search(accept=...)`). By record, not by entity: a card its
# readers may see can hold a name they may not (a hidden alias), and that
# name must not rank the card among the candidates.
Accept = Callable[[list[tuple[str, str]]], Set[tuple[str, str]]]


@dataclass(frozen=True)
class Hit:
    """One candidate of a name check: an entity, the name of its that matched, and why."""

    entity_id: str
    matched: str
    score: float
    explanation: str


class NameIndex(Tables):
    """Person names of many entities, analysed once, searched in milliseconds.

    Built in memory by `add`, or laid over a frozen base (`NameIndex(Frozen.load(path))`,
    kartoteka/names/frozen.py) that holds what an earlier process analysed;
    `add` and `discard` then change only this process's layer, and `freeze`
    folds both into a new base (those live in `Tables`, kartoteka/names/tables.py;
    this class searches).
    """

    def __init__(self, base: Frozen | None = None) -> None:
        super().__init__(base)
        # Answers derived from the tables for recently asked tokens, dropped
        # at every add or discard (`_changed`).
        self._given_cache: dict[str, tuple[dict[int, float], bool]] = {}
        self._family_cache: Lru[NameToken, tuple[list[int], list[float], bool]] = Lru(FAMILY_CACHE)

    def _changed(self) -> None:
        self._given_cache.clear()
        self._family_cache.clear()

    def _record(self, rid: int) -> tuple[str, str]:
        """(entity id, name on file) of a record."""
        return self._eids[int(self._r_entity[rid])], self._r_raw[rid]

    # searching -----------------------------------------------------------------
    def search(
        self, query: str | ParsedName, limit: int = 10, floor: float = MIN_REPORTED, accept: Accept | None = None
    ) -> list[Hit]:
        """The `limit` best entities for `query` scoring at least `floor`.

        With `accept`, only the records (entity, name) it accepts are
        candidates, and the cut is taken among them: the answer is the one an
        index holding only those names would give, but for the counts the
        commonness factor and "on file" are read from (those are of the whole
        index). `accept` is asked about the candidates best first, in growing
        batches, only as far as the cut needs, and about each record once per
        search."""
        q = parse_name(query) if isinstance(query, str) else query
        if q.is_empty or limit <= 0:
            return []
        judge = None if accept is None else _Judge(accept, self._record)
        hits = self._search(q, limit, floor, judge)
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
            for h in self._search(reading.name, limit, floor / reading.factor, judge):
                if reading.rule:
                    note = f"rule: {reading.rule} in query (×{reading.factor:.2f})"
                    h = Hit(h.entity_id, h.matched, round(h.score * reading.factor, 4), f"{h.explanation}; {note}")
                if h.entity_id not in best or h.score > best[h.entity_id].score:
                    best[h.entity_id] = h
        weight = {eid: self._weight[self._entity_ix(eid) or 0] for eid in best}
        return sorted(best.values(), key=lambda h: (-h.score, -weight[h.entity_id], h.entity_id))[:limit]

    def _search(self, q: ParsedName, limit: int, floor: float, judge: _Judge | None = None) -> list[Hit]:
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
        rids, base = rids[keep], base[keep]
        if judge is not None:
            rids, base = self._accepted(rids, base, limit, judge)
        return self._rescore(q, rids, base, limit, floor, frozenset(on_file))

    def _accepted(self, rids: I64, base: F64, limit: int, judge: _Judge) -> tuple[I64, F64]:
        """The records of accepted entities that `_rescore` would shortlist were they
        all the index held: read best base score first, in batches that double,
        until the shortlist is whole (the first `cap` accepted, and every accepted
        record tied with the last of them). Which records are kept depends on the
        accepted ones alone; the others only decide how far the reading goes."""
        cap = 4 * (limit + _SHORTLIST_EXTRA)
        if len(rids) <= cap:
            ok = judge(rids)
            return rids[ok], base[ok]
        order = np.argsort(-base, kind="stable")
        parts: list[I64] = []
        start, step = 0, cap
        while start < len(order):
            batch = order[start : start + step]
            parts.append(batch[judge(rids.take(batch))])
            start, step = start + len(batch), 2 * step
            got = np.concatenate(parts)
            if len(got) < cap:
                continue
            last = base[got[cap - 1]]
            if base[order[start - 1]] < last or np.count_nonzero(base.take(got) >= last) > _TIED_MAX * cap:
                break  # past every record tied with the last place, or too many ties to keep
        got = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
        if len(got) > cap:
            top = got[base.take(got) >= base[got[cap - 1]]]
            # As `_rescore` does: a tie of thousands is cut, here in score order.
            got = top if len(top) <= _TIED_MAX * cap else got[:cap]
        return rids.take(got), base.take(got)

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
        self,
        q: ParsedName,
        rid: int,
        on_file: frozenset[str],
        common: tuple[float, int, bool],
        alike: dict[tuple[object, ...], NameMatch],
    ) -> NameMatch:
        """The record rescored by `compare_names`, with its reading rule and `common`
        (factor, count, of the full name?) from `_common_factors`.

        `compare_names` reads only the record's tokens, and for an address form
        ("Sergey Fedorovich") not its family name: records alike in those, rule
        and commonness answer alike, and hundreds of them can tie at the last
        place. `alike` keeps this query's answers by that likeness."""
        rule_id = self._r_rule[rid]
        surname = NONE if q.surname is None else self._r_surname[rid]
        key = (surname, self._r_given1[rid], self._r_given2[rid], self._r_patronymic[rid], rule_id, common)
        known = alike.get(key)
        if known is None:
            known = alike[key] = self._rescored(q, rid, on_file, rule_id, common)
        return known

    def _rescored(
        self, q: ParsedName, rid: int, on_file: frozenset[str], rule_id: int, common: tuple[float, int, bool]
    ) -> NameMatch:
        match = compare_names(q, self._record_name(rid), on_file)
        rule, rule_factor = self._rules[rule_id]
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
        alike: dict[tuple[object, ...], NameMatch] = {}
        weights = self._weight.take(np.fromiter(chosen, dtype=np.int64, count=len(chosen))).tolist()
        for (eix, (_, i)), weight in zip(chosen.items(), weights, strict=True):
            rid = rid_of[i]
            match = self._explained(q, rid, on_file, (factor_of[i], count_of[i], full_of[i]), alike)
            if match.score >= floor:
                ranked.append((-match.score, -weight, self._eids[eix], rid, match))
        ranked.sort(key=lambda h: h[:3])
        # Explanations are written for the hits returned only: an entity tied
        # with the last place is scored, but seldom shown.
        return [Hit(eid, self._r_raw[rid], match.score, match.explanation) for _, _, eid, rid, match in ranked[:limit]]


class _Judge:
    """`accept` asked once per record of one search, by record index."""

    def __init__(self, accept: Accept, record: Callable[[int], tuple[str, str]]) -> None:
        self.accept = accept
        self.record = record
        self.verdict: dict[int, bool] = {}

    def __call__(self, rids: I64) -> npt.NDArray[np.bool_]:
        new = [r for r in np.unique(rids).tolist() if r not in self.verdict]
        if new:
            pairs = [self.record(r) for r in new]
            accepted = self.accept(pairs)
            self.verdict.update((r, pair in accepted) for r, pair in zip(new, pairs, strict=True))
        verdict = self.verdict
        return np.fromiter((verdict[r] for r in rids.tolist()), dtype=np.bool_, count=len(rids))


def _fuller(a: str, b: str) -> bool:
    # Longer first, then by spelling: the choice must not depend on the order
    # records were added in, or an index brought up to date would name a
    # candidate differently from one built afresh.
    return (len(a), b) > (len(b), a)
