"""Codenames: the word list, entropy, the form a codename must have, collisions, the slow hash."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from argon2.profiles import RFC_9106_LOW_MEMORY

from kartoteka.channels import codename as cn
from kartoteka.errors import KartotekaError
from tests.channels.world import CHEAP, make_drop


def test_the_word_list_is_7776_distinct_english_words() -> None:
    words = cn.words()
    assert len(words) == 7776 and len(set(words)) == 7776
    assert all(w.replace("-", "").isalpha() and w.islower() and 3 <= len(w) <= 9 for w in words)
    # Real words, not generated strings: common English words are in it.
    assert {"abacus", "balcony", "harbor", "zoom", "yo-yo"} <= set(words)


def test_entropy_is_stated_and_at_least_90_bits() -> None:
    assert cn.CODENAME_WORDS >= 7
    assert cn.entropy_bits() == pytest.approx(7 * math.log2(7776)) == pytest.approx(90.47, abs=0.01)


def test_generated_codenames_are_seven_list_words_and_do_not_repeat() -> None:
    seen = {cn.generate() for _ in range(2000)}
    assert len(seen) == 2000
    for c in list(seen)[:50]:
        assert cn.normalise(c) == c and len(c.split()) == 7
    # Each word is drawn from the whole list: 2000 codenames use most of it.
    used = {w for c in seen for w in c.split()}
    assert len(used) > 6000
    with pytest.raises(ValueError):
        cn.generate(6)


@pytest.mark.parametrize(
    "text, reason",
    [
        ("", "7 words"),
        ("abacus abdomen abide abiding ability ablaze", "7 words"),
        ("abacus abdomen abide abiding ability ablaze able abnormal", "7 words"),
        ("abacus abdomen abide abiding ability ablaze xylophonez", "not in the"),
        ("abacus abdomen abide abiding ability ablaze abl\x00e", "not in the"),
        ("abacus abdomen abide abiding ability ablaze ‘able’", "not in the"),
        ("abacus " * 30, "longer than"),
        ("a" * 10_000, "longer than"),
    ],
)
def test_malformed_and_over_long_codenames_are_refused(tmp_path: Path, text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        cn.normalise(text)
    drop_path, _ = make_drop(tmp_path)
    from kartoteka.channels.drop_store import Drop

    drop = Drop(drop_path)
    for call in (lambda: drop.replies(text), lambda: drop.submit(text, "hello", [])):
        with pytest.raises(KartotekaError) as refused:
            call()
        assert refused.value.code == "E130"
    assert drop.source_ids() == []  # nothing was stored for a refused codename


def test_case_and_spacing_are_forgiven() -> None:
    c = cn.generate()
    assert cn.normalise("  " + c.upper().replace(" ", " \t ") + "\n") == c


def test_a_codename_collision_draws_again(tmp_path: Path) -> None:
    from kartoteka.channels.drop_store import Drop

    drop = Drop(make_drop(tmp_path)[0])
    first = drop.new_source()
    # A generator that first repeats an issued codename, word for word.
    replay = iter(first.split() + cn.generate().split())
    second = drop.new_source(choice=lambda pool: next(replay))
    assert second != first
    assert len(drop.source_ids()) == 2
    # A generator that only ever repeats gives up, loudly, rather than hand out a used codename.
    with pytest.raises(RuntimeError):
        same = iter(first.split() * 3)
        drop.new_source(choice=lambda pool: next(same), attempts=3)


def test_the_hash_is_argon2id_with_the_stated_parameters() -> None:
    p = cn.KdfParams()
    assert (
        (p.time_cost, p.memory_cost, p.parallelism)
        == (
            RFC_9106_LOW_MEMORY.time_cost,
            RFC_9106_LOW_MEMORY.memory_cost,
            RFC_9106_LOW_MEMORY.parallelism,
        )
        == (3, 65536, 4)
    )
    salt = b"s" * 16
    a, b = cn.derive("x y", salt, CHEAP), cn.derive("x y", salt, CHEAP)
    assert a == b and len(a.source_id) == 64 and len(a.reply_seed) == 32
    assert cn.derive("x y", b"t" * 16, CHEAP).source_id != a.source_id
    assert cn.derive("x z", salt, CHEAP).source_id != a.source_id
    # The stored half and the secret half are different outputs of the hash.
    assert bytes.fromhex(a.source_id) != a.reply_seed


def test_a_drop_keeps_no_codename(tmp_path: Path) -> None:
    from kartoteka.channels.drop_store import Drop

    drop = Drop(make_drop(tmp_path)[0])
    c = drop.new_source()
    drop.submit(c, "a message", [])
    blob = b"".join(p.read_bytes() for p in (tmp_path / "drop").rglob("*") if p.is_file())
    for word in c.split():
        assert word.encode() not in blob


def test_looks_like_codename() -> None:
    c = cn.generate()
    assert cn.looks_like_codename(c)
    assert cn.looks_like_codename(c.upper())
    assert cn.looks_like_codename(" ".join(c.split()[:5]))  # cut short
    assert cn.looks_like_codename("-".join(c.split()))  # hyphenated
    for cryptonym in ("GRANITE", "DROP-K7QF2M4XAB", "AE/SCREEN-3", "drop-abacus"):
        assert not cn.looks_like_codename(cryptonym)
