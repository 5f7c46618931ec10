"""Codenames: what a source remembers instead of a name or a password.

A codename is `CODENAME_WORDS` (7) words drawn uniformly with `secrets` from
the EFF large word list (7,776 real English words, shipped as data in
`eff_large_wordlist.txt`; CC BY 3.0 US, by the Electronic Frontier
Foundation, taken from the `xkcdpass` package on PyPI). Seven words give
7 × log2(7776) = 90.47 bits: a drop holding a million sources is guessed
once in 2^70 tries, and each try costs an Argon2id hash.

The drop never stores a codename. It stores what one slow hash of it gives:

    Argon2id (RFC 9106), time_cost 3, memory_cost 65,536 KiB (64 MiB),
    parallelism 4, 64 bytes out, salt: the drop's own 16 random bytes

(argon2-cffi's RFC 9106 "low memory" profile). The first 32 bytes, in hex,
name the source's folder in the drop; the last 32 are the seed of the
source's X25519 reply key, never stored: replies are sealed to its public
half, so only the codename opens them. The two halves are independent
outputs of the hash, so the stored one says nothing of the other. The salt
is one per drop, not one per source, because a returning source must be
found from the codename alone; with 90 bits of entropy a shared salt helps an
attacker of the stored folders nothing (each guess is still one hash per
drop). Tests and benchmarks may give a drop cheaper parameters
(`KdfParams`), which the drop records in its `drop.json`.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from argon2.low_level import Type, hash_secret_raw

WORDS_FILE = Path(__file__).with_name("eff_large_wordlist.txt")
WORDS_IN_LIST = 7776
CODENAME_WORDS = 7
# The longest codename is 7 × 9 letters and 6 spaces (69 characters); anything
# much longer is refused before it is hashed, so no one makes the drop hash a
# megabyte.
MAX_CODENAME_CHARS = 128


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost: the default is RFC 9106's low-memory profile (argon2-cffi's default)."""

    time_cost: int = 3
    memory_cost: int = 65536  # KiB
    parallelism: int = 4

    def as_json(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KdfParams:
        return cls(int(data["time_cost"]), int(data["memory_cost"]), int(data["parallelism"]))


@lru_cache(maxsize=1)
def words() -> tuple[str, ...]:
    """The word list, checked: 7,776 distinct lower-case words (a damaged file would shrink the entropy)."""
    found = tuple(w.strip() for w in WORDS_FILE.read_text(encoding="ascii").splitlines() if w.strip())
    if len(found) != WORDS_IN_LIST or len(set(found)) != len(found):
        raise RuntimeError(f"{WORDS_FILE}: expected {WORDS_IN_LIST} distinct words, found {len(set(found))}")
    if not all(w.replace("-", "").isalpha() and w.islower() for w in found):
        raise RuntimeError(f"{WORDS_FILE}: every word must be lower-case letters")
    return found


@lru_cache(maxsize=1)
def _word_set() -> frozenset[str]:
    return frozenset(words())


def entropy_bits(n_words: int = CODENAME_WORDS) -> float:
    """Bits of a codename of n words drawn uniformly and independently from the list."""
    return n_words * math.log2(len(words()))


def generate(n_words: int = CODENAME_WORDS, choice: Callable[[tuple[str, ...]], str] = secrets.choice) -> str:
    """A new codename. `choice` is for tests (a collision); the drop always uses `secrets.choice`."""
    if n_words < CODENAME_WORDS:
        raise ValueError(f"a codename has at least {CODENAME_WORDS} words")
    pool = words()
    return " ".join(choice(pool) for _ in range(n_words))


def normalise(text: str) -> str:
    """The codename as typed, in its one canonical form; ValueError (with the reason) if it is not one.

    Case and runs of white space are forgiven (a source copying it from
    paper); anything else is refused before hashing: too long, a wrong number
    of words, a word not in the list.
    """
    if len(text) > MAX_CODENAME_CHARS:
        raise ValueError(f"longer than {MAX_CODENAME_CHARS} characters")
    parts = text.lower().split()
    if len(parts) != CODENAME_WORDS:
        raise ValueError(f"a codename is {CODENAME_WORDS} words, this has {len(parts)}")
    known = _word_set()
    if not all(p in known for p in parts):
        raise ValueError("a word is not in the codename word list")
    return " ".join(parts)


def looks_like_codename(text: str) -> bool:
    """Four or more list words and nothing else: what must never be typed on the handler's side.

    A cryptonym (`GRANITE`, `DROP-K7QF2M4X`) never looks like this; a codename,
    even mistyped or cut short, does.
    """
    parts = text.lower().replace("-", " ").split()
    known = _word_set()
    hits = sum(p in known for p in parts)
    return len(parts) >= 4 and hits >= len(parts) - 1


@dataclass(frozen=True)
class Derived:
    source_id: str  # 64 hex digits: the source's folder in the drop
    reply_seed: bytes  # 32 bytes: the X25519 reply key's seed, never stored


def derive(codename: str, salt: bytes, params: KdfParams = KdfParams()) -> Derived:
    """One Argon2id hash of the canonical codename: the stored id and the unstored reply seed."""
    raw = hash_secret_raw(
        codename.encode("utf-8"),
        salt,
        time_cost=params.time_cost,
        memory_cost=params.memory_cost,
        parallelism=params.parallelism,
        hash_len=64,
        type=Type.ID,
    )
    return Derived(raw[:32].hex(), raw[32:])
