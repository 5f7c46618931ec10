"""Tables of a name index in two layers: a frozen base (kartoteka/names/frozen.py,
often memory-mapped) and what was added in this process.

Ids run on from the base into the additions (token ids, record ids, entity
indices), so the search code reads one table whatever layer a row is in; a
write to a base row copies that column once, never the file.
"""

from __future__ import annotations

import itertools
from array import array
from typing import Any

import numpy as np
import numpy.typing as npt

from kartoteka.names.frozen import Blob, Rows

I64 = npt.NDArray[np.int64]


class Column:
    """A base array followed by appended values."""

    def __init__(self, base: np.ndarray[Any, Any] | None, typecode: str, dtype: type[np.generic]) -> None:
        self.dtype = np.dtype(dtype)
        self.base: np.ndarray[Any, Any] = base if base is not None else np.empty(0, dtype=self.dtype)
        self.n0 = len(self.base)
        self.extra = array(typecode)
        self._own = base is None

    def __len__(self) -> int:
        return self.n0 + len(self.extra)

    def __getitem__(self, i: int) -> Any:
        return self.base[i].item() if i < self.n0 else self.extra[i - self.n0]

    def __setitem__(self, i: int, value: Any) -> None:
        if i < self.n0:
            if not self._own:  # copy-on-write: the base may be a read-only map of the file
                self.base = np.array(self.base)
                self._own = True
            self.base[i] = value
        else:
            self.extra[i - self.n0] = value

    def append(self, value: Any) -> None:
        self.extra.append(value)

    def _tail(self) -> np.ndarray[Any, Any]:
        if not self.extra:
            return np.empty(0, dtype=self.dtype)
        return np.frombuffer(self.extra, dtype=self.dtype)

    def take(self, idx: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        if not self.extra:
            return np.asarray(self.base[idx])
        if self.n0 == 0:
            return np.asarray(self._tail()[idx])
        out = np.empty(len(idx), dtype=self.dtype)
        low = idx < self.n0
        out[low] = self.base[idx[low]]
        out[~low] = self._tail()[idx[~low] - self.n0]
        return out

    def whole(self) -> np.ndarray[Any, Any]:
        return np.concatenate([np.asarray(self.base), self._tail()]) if self.extra else np.asarray(self.base)


class Strings:
    """A base blob of strings followed by appended ones."""

    def __init__(self, base: Blob | None) -> None:
        self.base = base
        self.n0 = len(base) if base is not None else 0
        self.extra: list[str] = []

    def __len__(self) -> int:
        return self.n0 + len(self.extra)

    def __getitem__(self, i: int) -> str:
        if i < self.n0:
            assert self.base is not None
            return self.base[i]
        return self.extra[i - self.n0]

    def append(self, value: str) -> None:
        self.extra.append(value)

    def blob(self, keep: I64 | None = None) -> Blob:
        """All strings (or those at `keep`, in order) as one blob."""
        if keep is None and self.base is not None:
            tail = Blob.of(self.extra)
            data = np.concatenate([self.base.data, tail.data])
            offsets = np.concatenate([self.base.offsets, tail.offsets[1:] + self.base.offsets[-1]])
            return Blob(data, offsets)
        indices = range(len(self)) if keep is None else (int(i) for i in keep)
        return Blob.of([self[i] for i in indices])


class Multi:
    """Integer key → integer values, in the order added: base rows, then additions."""

    def __init__(self, base: Rows | None) -> None:
        self.base = base
        self.extra: dict[int, array[int]] = {}

    def get(self, key: int) -> npt.NDArray[np.int32]:
        head = self.base.row(key) if self.base is not None else None
        more = self.extra.get(key)
        if more is None:
            return head if head is not None else np.empty(0, dtype=np.int32)
        tail = np.frombuffer(more, dtype=np.int32)
        return tail if head is None or len(head) == 0 else np.concatenate([head, tail])

    def get_many(self, keys: list[int]) -> tuple[npt.NDArray[np.int32], I64]:
        """The rows of `keys` one after another, and each row's length."""
        if self.base is not None and not self.extra and keys and min(keys) >= 0 and max(keys) < len(self.base):
            # Only base rows: one gather out of the file, no slice per key.
            idx = np.asarray(keys, dtype=np.int64)
            return self.base.gather(idx), self.base.offsets[idx + 1] - self.base.offsets[idx]
        rows = [self.get(k) for k in keys]
        sizes = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
        return (np.concatenate(rows) if rows else np.empty(0, dtype=np.int32)), sizes

    def has(self, key: int) -> bool:
        return key in self.extra or (self.base is not None and len(self.base.row(key)) > 0)

    def append(self, key: int, value: int) -> None:
        self.extra.setdefault(key, array("i")).append(value)

    def pairs(self) -> tuple[I64, I64]:
        """Every (key, value), base rows first."""
        keys: list[I64] = []
        values: list[I64] = []
        if self.base is not None and len(self.base.values):
            base_keys, base_values = self.base.pairs()
            keys.append(base_keys)
            values.append(base_values)
        if self.extra:
            sizes = [len(v) for v in self.extra.values()]
            keys.append(np.repeat(np.fromiter(self.extra.keys(), dtype=np.int64, count=len(sizes)), sizes))
            values.append(np.fromiter(itertools.chain.from_iterable(self.extra.values()), np.int64, sum(sizes)))
        if not keys:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        return np.concatenate(keys), np.concatenate(values)


class Counts:
    """Counts by integer key: the base's, plus this process's changes."""

    def __init__(
        self,
        base_dense: np.ndarray[Any, Any] | None = None,
        base_keys: I64 | None = None,
        base_counts: np.ndarray[Any, Any] | None = None,
    ) -> None:
        self.dense = base_dense
        self.keys = base_keys
        self.counts = base_counts
        self.delta: dict[int, int] = {}

    def base(self, key: int) -> int:
        if self.dense is not None:
            return int(self.dense[key]) if 0 <= key < len(self.dense) else 0
        if self.keys is not None and self.counts is not None and len(self.keys):
            pos = int(np.searchsorted(self.keys, key))
            if pos < len(self.keys) and int(self.keys[pos]) == key:
                return int(self.counts[pos])
        return 0

    def get(self, key: int) -> int:
        return self.base(key) + self.delta.get(key, 0)

    def get_many(self, keys: I64) -> I64:
        """`get` of every key, the base read in one go."""
        out = np.zeros(len(keys), dtype=np.int64)
        if self.dense is not None:
            inside = (keys >= 0) & (keys < len(self.dense))
            out[inside] = self.dense[keys[inside]]
        elif self.keys is not None and self.counts is not None and len(self.keys):
            pos = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
            hit = self.keys[pos] == keys
            out[hit] = self.counts[pos[hit]]
        if self.delta:
            out += np.fromiter((self.delta.get(k, 0) for k in keys.tolist()), dtype=np.int64, count=len(keys))
        return out

    def add(self, key: int, n: int) -> None:
        self.delta[key] = self.delta.get(key, 0) + n

    def dense_array(self, size: int) -> npt.NDArray[np.int32]:
        out = np.zeros(size, dtype=np.int32)
        if self.dense is not None:
            out[: len(self.dense)] = self.dense
        for k, n in self.delta.items():
            out[k] += n
        return out

    def sparse_arrays(self) -> tuple[I64, npt.NDArray[np.int32]]:
        keys = [self.keys] if self.keys is not None else []
        counts = [np.asarray(self.counts, dtype=np.int64)] if self.counts is not None else []
        if self.delta:
            keys.append(np.fromiter(self.delta.keys(), dtype=np.int64, count=len(self.delta)))
            counts.append(np.fromiter(self.delta.values(), dtype=np.int64, count=len(self.delta)))
        if not keys:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int32)
        allk, inverse = np.unique(np.concatenate(keys), return_inverse=True)
        total = np.bincount(inverse, weights=np.concatenate(counts), minlength=len(allk)).astype(np.int64)
        nonzero = total > 0
        return allk[nonzero], total[nonzero].astype(np.int32)
