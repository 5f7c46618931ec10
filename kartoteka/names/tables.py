"""The tables of a name index, and how names are analysed into them.

`NameIndex` (kartoteka/names/index.py) searches these tables; this is the
part that fills them (`add`), takes cards out (`discard`) and folds both
layers into a frozen base (`freeze`, kartoteka/names/frozen.py). Every table
is two layers (kartoteka/names/layers.py): the base, often a memory-mapped
file, and what this process added.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from kartoteka.names.frozen import ROLES, Blob, Frozen, KeyTable, Rows, encode_keys
from kartoteka.names.layers import Column, Counts, Multi, Strings
from kartoteka.names.parse import NameToken, ParsedName, Reading, given_classes, parse_name, readings
from kartoteka.names.postings import Postings, first_letters, grown, letter_bit

NONE = -1  # no token in this role

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


class Tables:
    """Tokens, records and entities of a name index, with their postings and counts."""

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
        self._changed()
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
        self._changed()

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

    def _changed(self) -> None:
        """Called at every add and discard: whatever a subclass derived from the tables is stale."""
