"""The name index as flat arrays in one file, memory-mapped when read.

A `NameIndex` built in memory costs a minute per million names (each name
parsed and read under every romanisation); a process that only checks a name
should not pay that. `freeze` turns an index into arrays (compressed sparse
rows for every posting list, byte blobs with offsets for strings, hashes for
the string keys) and `save` writes them to one file; `load` maps that file,
so opening it costs milliseconds whatever its size, and the operating system
pages in only what queries touch. A loaded `Frozen` is read-only: a
`NameIndex` laid over it (kartoteka/names/index.py) takes the changes.

File layout: 8 bytes magic, 8 bytes header length, a JSON header (format,
stamp, rules, and for every array its dtype, length and offset), then the
arrays, each aligned to 64 bytes.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import secrets
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from kartoteka.names.parse import NameToken

MAGIC = b"KTKNAMES"
FORMAT = 1
_ALIGN = 64
# Key and scheme, and keys, separated inside a token's serialised readings.
_UNIT, _RECORD = "\x1f", "\x1e"
# The six key tables: exact readings and one-deletion keys of each role.
ROLES = ("surname", "given", "patronymic")
TABLES = tuple(f"{role}_{kind}" for role in ROLES for kind in ("exact", "deleted"))

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]


class FrozenError(Exception):
    """A file that is not a frozen name index of this format (damaged, older, another file)."""


def key_hash(key: str) -> int:
    # A hash stable across processes (Python's `hash` of a str is salted per
    # process). A collision only adds a candidate token, which scoring drops.
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "little")


def key_hashes(keys: Iterable[str]) -> U64:
    """`key_hash` of every key: the digests joined and read as little-endian
    integers in one go, not one Python int per key."""
    digests = b"".join(hashlib.blake2b(k.encode("utf-8"), digest_size=8).digest() for k in keys)
    return np.frombuffer(digests, dtype="<u8").astype(np.uint64, copy=False)


def encode_keys(token: NameToken) -> str:
    return _RECORD.join(f"{k}{_UNIT}{s}" for k, s in token.keys)


def decode_token(text: str, keys: str) -> NameToken:
    pairs = tuple((k, s) for k, s in (item.split(_UNIT) for item in keys.split(_RECORD))) if keys else ()
    return NameToken(text=text, keys=pairs)


@dataclass(frozen=True)
class Blob:
    """Strings as one UTF-8 byte array and offsets."""

    data: npt.NDArray[np.uint8]
    offsets: I64

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> str:
        return bytes(self.data[int(self.offsets[i]) : int(self.offsets[i + 1])]).decode("utf-8")

    @staticmethod
    def of(strings: Sequence[str]) -> Blob:
        encoded = [s.encode("utf-8") for s in strings]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(b) for b in encoded], out=offsets[1:])
        return Blob(np.frombuffer(b"".join(encoded), dtype=np.uint8).copy(), offsets)


@dataclass(frozen=True)
class Rows:
    """Compressed sparse rows: the values of row i are values[offsets[i]:offsets[i+1]]."""

    offsets: I64
    values: I32

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def row(self, i: int) -> I32:
        if i < 0 or i >= len(self.offsets) - 1:
            return self.values[:0]
        return self.values[int(self.offsets[i]) : int(self.offsets[i + 1])]

    def gather(self, rows: I64) -> I32:
        """The values of `rows` (valid row numbers), one row after another, in one
        fancy index rather than a slice and a concatenation per row."""
        starts = self.offsets[rows]
        sizes = self.offsets[rows + 1] - starts
        if len(rows) == 1:
            return self.values[int(starts[0]) : int(starts[0] + sizes[0])]
        # Output position k of row j reads values[starts[j] + k - (rows before j)].
        before = np.cumsum(sizes) - sizes
        return self.values[np.repeat(starts - before, sizes) + np.arange(int(sizes.sum()))]

    def pairs(self) -> tuple[I64, I64]:
        """Every (row, value), in order."""
        return np.repeat(np.arange(len(self), dtype=np.int64), np.diff(self.offsets)), self.values.astype(np.int64)

    @staticmethod
    def of(n_rows: int, rows: I64, values: I64) -> Rows:
        """From (row, value) pairs; values keep their order within a row when `rows` is sorted stably."""
        order = np.argsort(rows, kind="stable")
        counts = np.bincount(rows, minlength=n_rows) if len(rows) else np.zeros(n_rows, dtype=np.int64)
        offsets = np.zeros(n_rows + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        return Rows(offsets, values[order].astype(np.int32))


@dataclass(frozen=True)
class KeyTable:
    """String keys (as sorted hashes) to rows of token ids."""

    hashes: U64
    rows: Rows

    def lookup(self, hashes: U64) -> I32:
        if len(self.hashes) == 0 or len(hashes) == 0:
            return self.rows.values[:0]
        # All the keys in one sorted search; each matching row once, in row order.
        pos = np.searchsorted(self.hashes, hashes)
        inside = pos < len(self.hashes)
        pos, hashes = pos[inside], hashes[inside]
        pos = np.unique(pos[self.hashes[pos] == hashes])
        return self.rows.gather(pos) if len(pos) else self.rows.values[:0]

    def pairs(self) -> tuple[U64, I64]:
        """Every (hash, value)."""
        rows, values = self.rows.pairs()
        return self.hashes[rows], values

    def extended(self, hashes: U64, values: I64) -> KeyTable:
        """This table with more (hash, value) pairs put in."""
        mine, theirs = self.pairs()
        return KeyTable.of(np.concatenate([mine, hashes]), np.concatenate([theirs, values]))

    @staticmethod
    def of(pairs_hash: U64, pairs_value: I64) -> KeyTable:
        """From (hash, token id) pairs, duplicates allowed."""
        if len(pairs_hash) == 0:
            return KeyTable(np.empty(0, dtype=np.uint64), Rows(np.zeros(1, dtype=np.int64), np.empty(0, np.int32)))
        packed = np.unique(np.stack([pairs_hash, pairs_value.astype(np.uint64)]), axis=1)
        hashes, row_of = np.unique(packed[0], return_inverse=True)
        return KeyTable(hashes, Rows.of(len(hashes), row_of.astype(np.int64), packed[1].astype(np.int64)))


@dataclass(frozen=True)
class Frozen:
    """Every table of a name index (see `NameIndex` for what each holds)."""

    stamp: dict[str, Any]
    rules: list[tuple[str, float]]
    # tokens
    token_text: Blob
    token_keys: Blob
    token_ids: KeyTable  # casefolded text → token id
    first_bits: I64
    initial_bit: I64
    is_initial: npt.NDArray[np.int8]
    roles: npt.NDArray[np.int8]  # bit per role (ROLES) the token plays somewhere
    keys: dict[str, KeyTable]  # TABLES
    given_by_class: Rows
    # records
    r_surname: I32
    r_given1: I32
    r_given2: I32
    r_patronymic: I32
    r_entity: I32
    r_rule: npt.NDArray[np.int8]
    r_raw: Blob
    by_surname: Rows
    by_given: Rows
    # entities
    eids: Blob
    entity_ids: KeyTable  # entity id → entity index
    alive: npt.NDArray[np.int8]
    has_full: npt.NDArray[np.int8]
    weight: npt.NDArray[np.float64]
    records_of: Rows  # entity → its records
    # commonness: distinct entities per family name (by token), per (family, given) pair
    surname_entities: I32
    full_keys: I64
    full_counts: I32

    @property
    def n_tokens(self) -> int:
        return len(self.first_bits)

    @property
    def n_records(self) -> int:
        return len(self.r_surname)

    @property
    def n_entities(self) -> int:
        return len(self.alive)

    def token_id(self, folded: str) -> int | None:
        for tid in self.token_ids.lookup(key_hashes([folded])):
            if self.token_text[int(tid)].casefold() == folded:
                return int(tid)
        return None

    def entity_index(self, entity_id: str) -> int | None:
        for eix in self.entity_ids.lookup(key_hashes([entity_id])):
            if self.eids[int(eix)] == entity_id:
                return int(eix)
        return None

    def token(self, tid: int) -> NameToken:
        return decode_token(self.token_text[tid], self.token_keys[tid])

    # the file ------------------------------------------------------------------
    def arrays(self) -> dict[str, np.ndarray[Any, Any]]:
        out: dict[str, np.ndarray[Any, Any]] = {}

        def put(name: str, value: object) -> None:
            if isinstance(value, Blob):
                put(f"{name}.data", value.data)
                put(f"{name}.offsets", value.offsets)
            elif isinstance(value, Rows):
                put(f"{name}.offsets", value.offsets)
                put(f"{name}.values", value.values)
            elif isinstance(value, KeyTable):
                put(f"{name}.hashes", value.hashes)
                put(f"{name}.rows", value.rows)
            elif isinstance(value, np.ndarray):
                out[name] = value
            else:
                raise TypeError(name)

        for name in self.__dataclass_fields__:
            if name in ("stamp", "rules"):
                continue
            value = getattr(self, name)
            if name == "keys":
                for table in TABLES:
                    put(f"keys.{table}", value[table])
            else:
                put(name, value)
        return out

    def save(self, path: Path) -> None:
        """Write the file atomically (a temporary file renamed over the old one), mode 0600:
        it holds every name of the archive, hidden ones included."""
        arrays = self.arrays()
        layout: dict[str, list[Any]] = {}
        offset = 0
        for name, arr in arrays.items():
            offset = -(-offset // _ALIGN) * _ALIGN
            layout[name] = [arr.dtype.str, len(arr), offset]
            offset += arr.nbytes
        header = json.dumps(
            {"format": FORMAT, "stamp": self.stamp, "rules": self.rules, "arrays": layout}, sort_keys=True
        ).encode()
        start = -(-(16 + len(header)) // _ALIGN) * _ALIGN
        # A name of its own per writer: two processes, or two threads of a server, may save at once.
        tmp = path.with_name(f"{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(MAGIC + struct.pack("<Q", len(header)) + header)
                for name, arr in arrays.items():
                    f.seek(start + layout[name][2])
                    f.write(np.ascontiguousarray(arr).tobytes())
                f.truncate(start + offset)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    @staticmethod
    def load(path: Path) -> Frozen:
        try:
            # A plain array over the map, not `np.memmap`: that subclass runs a
            # Python-level `__getitem__` (and `__array_finalize__`) at every index
            # and slice, which was most of a warm query's time.
            with path.open("rb") as f:
                raw = np.frombuffer(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ), dtype=np.uint8)
        except (OSError, ValueError) as exc:
            raise FrozenError(f"{path}: {exc}") from exc
        if len(raw) < 16 or bytes(raw[:8]) != MAGIC:
            raise FrozenError(f"{path}: not a name index file")
        (length,) = struct.unpack("<Q", bytes(raw[8:16]))
        try:
            header = json.loads(bytes(raw[16 : 16 + length]))
        except ValueError as exc:
            raise FrozenError(f"{path}: damaged header") from exc
        if header.get("format") != FORMAT:
            raise FrozenError(f"{path}: format {header.get('format')}, not {FORMAT}")
        start = -(-(16 + length) // _ALIGN) * _ALIGN
        arrays: dict[str, np.ndarray[Any, Any]] = {}
        for name, (dtype, n, offset) in header["arrays"].items():
            dt = np.dtype(dtype)
            begin = start + offset
            if begin + n * dt.itemsize > len(raw):
                raise FrozenError(f"{path}: truncated")
            arrays[name] = raw[begin : begin + n * dt.itemsize].view(dt)
        return _assemble(header, arrays)


def _assemble(header: Mapping[str, Any], a: Mapping[str, np.ndarray[Any, Any]]) -> Frozen:
    def blob(name: str) -> Blob:
        return Blob(a[f"{name}.data"], a[f"{name}.offsets"])

    def rows(name: str) -> Rows:
        return Rows(a[f"{name}.offsets"], a[f"{name}.values"])

    def table(name: str) -> KeyTable:
        return KeyTable(a[f"{name}.hashes"], rows(f"{name}.rows"))

    plain = {
        f: a[f]
        for f in Frozen.__dataclass_fields__
        if f in a  # the plain arrays
    }
    return Frozen(
        stamp=dict(header["stamp"]),
        rules=[(str(r), float(x)) for r, x in header["rules"]],
        token_text=blob("token_text"),
        token_keys=blob("token_keys"),
        token_ids=table("token_ids"),
        keys={t: table(f"keys.{t}") for t in TABLES},
        given_by_class=rows("given_by_class"),
        r_raw=blob("r_raw"),
        by_surname=rows("by_surname"),
        by_given=rows("by_given"),
        eids=blob("eids"),
        entity_ids=table("entity_ids"),
        records_of=rows("records_of"),
        **plain,
    )
