"""The drop's files: sealed at once, padded, atomic, by the day; refusals of what a drop must not take."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from kartoteka.channels.drop_store import (
    MAX_FILES,
    NEWSROOM_KEY,
    Drop,
    open_submission,
    read_private_key,
    safe_name,
    write_key_pair,
)
from kartoteka.channels.sealing import MIN_BUCKET, bucket, midnight
from kartoteka.errors import KartotekaError
from tests.channels.world import make_drop

SECRET = "The minister met Colonel Zorin at the Hotel Tivoli on 3 March"


def _drop(tmp: Path, max_upload: int = 10 * 2**20) -> tuple[Drop, Path]:
    path, key = make_drop(tmp, max_upload)
    return Drop(path), key


def _all_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())


def test_a_submission_is_sealed_padded_and_dated_by_the_day(tmp_path: Path) -> None:
    drop, key = _drop(tmp_path)
    codename = drop.new_source()
    drop.submit(codename, SECRET, [("minutes.txt", b"Second secret page " * 10)])
    (sid,) = drop.source_ids()
    (sealed,) = drop.submissions(sid)
    # Its name and times carry the day, never the time of day (stat before any read: reading sets
    # the access time, unless the drop's file system is mounted noatime, as the README advises).
    today = dt.datetime.now(dt.UTC).date()
    assert sealed.name.startswith(today.isoformat() + "-")
    assert sealed.stat().st_mtime == midnight(today) and sealed.stat().st_atime == midnight(today)
    assert (sealed.parent).stat().st_mtime == midnight(today)
    data = sealed.read_bytes()
    # Nothing readable on disk: not the message, not the file, not its name.
    blob = _all_bytes(tmp_path / "drop")
    for needle in (b"Zorin", b"Second secret", b"minutes"):
        assert needle not in blob
    # Its size is a bucket (plus the sealed box's 48 bytes), so it tells only the bucket.
    assert len(data) - 48 == MIN_BUCKET
    # Only the newsroom key opens it.
    sub = open_submission(data, read_private_key(key, NEWSROOM_KEY))
    assert sub.message == SECRET and sub.files == (("minutes.txt", b"Second secret page " * 10),)
    assert sub.day == today.isoformat()
    other = tmp_path / "other.key"
    write_key_pair(other, NEWSROOM_KEY)
    with pytest.raises(ValueError):
        open_submission(data, read_private_key(other, NEWSROOM_KEY))
    # Written atomically: no temp file is left behind anywhere.
    assert not [p for p in (tmp_path / "drop").rglob(".tmp-*")]
    assert list((tmp_path / "drop" / "tmp").iterdir()) == []
    # Private: the folder and files are the drop user's alone.
    assert sealed.stat().st_mode & 0o077 == 0 and (tmp_path / "drop" / "sources").stat().st_mode & 0o077 == 0


def test_sizes_fall_in_power_of_two_buckets() -> None:
    assert bucket(0) == bucket(4000) == 4096
    assert bucket(4089) == 8192
    assert bucket(5_000_000) == 2**23


def test_a_tampered_submission_does_not_open(tmp_path: Path) -> None:
    drop, key = _drop(tmp_path)
    drop.submit(drop.new_source(), SECRET, [])
    (sealed,) = drop.submissions(drop.source_ids()[0])
    data = bytearray(sealed.read_bytes())
    for at in (0, 40, len(data) // 2, len(data) - 1):
        bad = bytearray(data)
        bad[at] ^= 0x01
        with pytest.raises(ValueError):
            open_submission(bytes(bad), read_private_key(key, NEWSROOM_KEY))
    with pytest.raises(ValueError):
        open_submission(bytes(data[:-1]), read_private_key(key, NEWSROOM_KEY))


@pytest.mark.parametrize(
    "message, files",
    [("", []), ("   \n\t ", []), ("", [("empty.txt", b"")]), (" ", [("a", b""), ("b", b"")])],
)
def test_empty_submissions_are_refused(tmp_path: Path, message: str, files: list[tuple[str, bytes]]) -> None:
    drop, _ = _drop(tmp_path)
    codename = drop.new_source()
    with pytest.raises(KartotekaError) as refused:
        drop.submit(codename, message, files)
    assert refused.value.code == "E134" and "empty" in refused.value.message
    assert drop.submissions(drop.source_ids()[0]) == []


def test_oversized_submissions_are_refused_at_the_stated_limit(tmp_path: Path) -> None:
    drop, _ = _drop(tmp_path, max_upload=64 * 1024)
    codename = drop.new_source()
    drop.submit(codename, "x", [("exact.bin", b"\0" * (64 * 1024 - 1))])  # at the limit: taken
    for message, files in (("x" * (64 * 1024 + 1), []), ("x", [("big.bin", b"\0" * 64 * 1024)])):
        with pytest.raises(KartotekaError) as refused:
            drop.submit(codename, message, files)
        assert refused.value.code == "E134" and refused.value.status == 413
    with pytest.raises(KartotekaError) as many:
        drop.submit(codename, "", [(f"f{i}", b"x") for i in range(MAX_FILES + 1)])
    assert many.value.code == "E134"
    assert len(drop.submissions(drop.source_ids()[0])) == 1


@pytest.mark.parametrize(
    "given, safe",
    [
        ("../../etc/passwd", "passwd"),
        ("/etc/shadow", "shadow"),
        ("..\\..\\Windows\\system32\\evil.exe", "evil.exe"),
        ("C:\\x\\..\\evil.exe", "evil.exe"),
        ("..", "file"),
        (".", "file"),
        ("", "file"),
        (".bashrc", "bashrc"),
        ("a/../../b.txt", "b.txt"),
        ("rep\x00ort\n.pdf", "rep_ort_.pdf"),
        ("отчёт 1977.txt", "отчёт 1977.txt"),
        ("x" * 300 + ".txt", "x" * 100),
    ],
)
def test_path_traversal_in_file_names_is_neutralised(given: str, safe: str) -> None:
    assert safe_name(given) == safe
    assert "/" not in safe_name(given) and not safe_name(given).startswith(".")


def test_file_names_stay_inside_the_submission(tmp_path: Path) -> None:
    drop, key = _drop(tmp_path)
    drop.submit(drop.new_source(), "", [("../../../../tmp/owned.txt", b"payload")])
    (sealed,) = drop.submissions(drop.source_ids()[0])
    sub = open_submission(sealed.read_bytes(), read_private_key(key, NEWSROOM_KEY))
    assert sub.files == (("owned.txt", b"payload"),)
    assert not (tmp_path / "owned.txt").exists()


def test_replies_open_only_with_the_codename(tmp_path: Path) -> None:
    drop, _ = _drop(tmp_path)
    a, b = drop.new_source(), drop.new_source()
    drop.submit(a, "hello", [])
    sid_a = next(s for s in drop.source_ids() if drop.submissions(s))
    drop.add_reply(sid_a, "We got it. Do not use the office phone.")
    assert [r.text for r in drop.replies(a)] == ["We got it. Do not use the office phone."]
    assert drop.replies(b) == []
    # The reply on disk is sealed to the source's key; the drop cannot read it back.
    assert b"office phone" not in _all_bytes(tmp_path / "drop")


def test_a_well_formed_unknown_codename_is_no_different_from_a_known_empty_one(tmp_path: Path) -> None:
    from kartoteka.channels import codename as cn

    drop, _ = _drop(tmp_path)
    known = drop.new_source()
    unknown = cn.generate()
    assert drop.replies(known) == drop.replies(unknown) == []
    assert len(drop.source_ids()) == 1  # reading creates nothing
    drop.submit(unknown, "first contact", [])  # and sending is taken as from a new source
    assert len(drop.source_ids()) == 2


def test_a_missing_or_foreign_key_file_is_one_error(tmp_path: Path) -> None:
    with pytest.raises(KartotekaError) as missing:
        read_private_key(tmp_path / "nowhere.key", NEWSROOM_KEY)
    assert missing.value.code == "E132" and "missing" in missing.value.message
    (tmp_path / "junk.key").write_bytes(os.urandom(32))
    with pytest.raises(KartotekaError) as junk:
        read_private_key(tmp_path / "junk.key", NEWSROOM_KEY)
    assert junk.value.code == "E132"
    write_key_pair(tmp_path / "k", NEWSROOM_KEY)
    assert (tmp_path / "k").stat().st_mode & 0o077 == 0
    with pytest.raises(KartotekaError) as again:
        write_key_pair(tmp_path / "k", NEWSROOM_KEY)  # never overwritten
    assert again.value.code == "E132"


def test_not_a_drop(tmp_path: Path) -> None:
    with pytest.raises(KartotekaError) as refused:
        Drop(tmp_path)
    assert refused.value.code == "E135"
    (tmp_path / "drop.json").write_text("{")
    with pytest.raises(KartotekaError):
        Drop(tmp_path)
