"""Reading → token postings of one role (family, given name, patronymic), in two layers.

A query token is looked up under each of its readings and each reading's
one-deletion keys (a few dozen strings). The frozen base (kartoteka/names/frozen.py)
holds those keys as sorted 64-bit hashes; this process's additions sit in
dicts beside it. Over a memory-mapped base the lookup is the costly part of a
warm query (every key hashed, each table searched, the rows copied out of the
map), so a bounded LRU keeps what the base answered for recently asked tokens:
the base never changes under a process, so an answer stays right after any
addition or discard (additions are looked up in the dicts every time).
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

from kartoteka.names.frozen import ROLES, Frozen, KeyTable, key_hashes
from kartoteka.names.layers import Column
from kartoteka.names.parse import NameToken
from kartoteka.names.script import letter_reading

I64 = npt.NDArray[np.int64]

# Readings literal enough to carry deletion keys. Deletions of every scheme's
# reading would multiply postings without finding more real typos.
_PRIMARY = frozenset({"plain", "cyrillic", "english", "ocr"})
_MIN_DELETION_KEY = 4
# Query tokens whose base answer is kept, per role: a few thousand sets of
# token ids (a family name's set holds tens of ids), well under a megabyte.
BASE_CACHE = 4096

K = TypeVar("K")
V = TypeVar("V")


class Lru(Generic[K, V]):
    """A dict that forgets the least recently used entry beyond `size`.

    Locked: a server's threads may search one index at once, and a lookup
    followed by a move to the end must not meet another thread's eviction.
    A copy (pickled for a Ray worker) starts empty."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            if len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __getstate__(self) -> dict[str, int]:
        return {"size": self.size}

    def __setstate__(self, state: dict[str, int]) -> None:
        self.size = state["size"]
        self._items = OrderedDict()
        self._lock = threading.Lock()


def deletions(key: str) -> set[str]:
    if len(key) < _MIN_DELETION_KEY:
        return set()
    return {key[:i] + key[i + 1 :] for i in range(len(key))}


def letter_bit(ch: str) -> int:
    return 1 << (ord(ch) - 97) if "a" <= ch <= "z" else 1 << 26


def first_letters(token: NameToken) -> int:
    bits = 0
    for k, scheme in token.keys:
        if k and letter_reading(scheme):
            bits |= letter_bit(k[0])
    return bits


class Postings:
    """Reading → token ids for one role, with deletion keys for typo tolerance:
    the frozen base's tables, then what this process added."""

    def __init__(self, role: int, members: Column, base: Frozen | None) -> None:
        self.bit = 1 << role
        self.members = members  # per token: a bit for each role it is posted under
        name = ROLES[role]
        self.base = (base.keys[f"{name}_exact"], base.keys[f"{name}_deleted"]) if base is not None else None
        self.exact: dict[str, list[int]] = {}
        self.deleted: dict[str, list[int]] = {}
        self._from_base: Lru[tuple[tuple[str, str], ...], frozenset[int]] = Lru(BASE_CACHE)

    def has(self, tid: int) -> bool:
        return bool(self.members[tid] & self.bit)

    def add(self, tid: int, token: NameToken) -> None:
        if self.has(tid):
            return
        self.members[tid] = self.members[tid] | self.bit
        dels: set[str] = set()
        for k, scheme in token.keys:
            self.exact.setdefault(k, []).append(tid)
            if scheme in _PRIMARY:
                dels |= deletions(k)
        for d in dels:
            self.deleted.setdefault(d, []).append(tid)

    def lookup(self, token: NameToken) -> set[int]:
        found: set[int] = set()
        probes: set[str] | None = None
        if self.exact or self.deleted:
            probes = _probes(token)
            for k in probes:
                found.update(self.exact.get(k, ()))
                found.update(self.deleted.get(k, ()))
        if self.base is not None:
            base = self._from_base.get(token.keys)
            if base is None:
                hashes = key_hashes(probes if probes is not None else _probes(token))
                base = frozenset(itertools.chain.from_iterable(table.lookup(hashes).tolist() for table in self.base))
                self._from_base.put(token.keys, base)
            found |= base
        return found

    def frozen(self) -> tuple[KeyTable, KeyTable]:
        """Both key tables, base and additions, as one frozen pair."""
        out = []
        for i, extra in enumerate((self.exact, self.deleted)):
            sizes = [len(v) for v in extra.values()]
            hashes = np.repeat(key_hashes(extra.keys()), sizes).astype(np.uint64)
            tids = np.fromiter(itertools.chain.from_iterable(extra.values()), np.int64, sum(sizes))
            out.append(extended(self.base[i] if self.base is not None else None, hashes, tids))
        return out[0], out[1]


def _probes(token: NameToken) -> set[str]:
    # Every reading of the query deletes one letter, not only the primary
    # ones: a German spelling's reading differs from the record's Cyrillic
    # one by a letter, and deleting that letter on both sides meets. Each
    # probe is looked up among the exact keys and among the deletion keys.
    # A transcription by German, French, Spanish or Italian rules counts only
    # when it is a Cyrillic spelling's key exactly (`match_tokens`): its
    # deletions would only bring near Latin names to be scored and dropped.
    keys = {k for k, _ in token.keys}
    return keys.union(*(deletions(k) for k, scheme in token.keys if letter_reading(scheme)))


def extended(base: KeyTable | None, hashes: npt.NDArray[np.uint64], ids: I64) -> KeyTable:
    return base.extended(hashes, ids) if base is not None else KeyTable.of(hashes, ids)


def grown(base: KeyTable | None, added: list[str], first: int) -> KeyTable:
    """A base's string → id table with `added` (ids from `first` on) put in."""
    return extended(base, key_hashes(added), np.arange(first, first + len(added), dtype=np.int64))
