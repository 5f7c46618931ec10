"""What the drop and the stations share: padding to size buckets, atomic writes, dates by the day.

Nothing here knows of the archive: the drop's process imports it too.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import struct
from pathlib import Path

# Sealed files are padded to a power of two of at least 4 KiB, so their size
# tells only the bucket (4, 8, 16 KiB ...), at most log2 of the size in bits.
MIN_BUCKET = 4096
_LENGTH = struct.Struct(">Q")


def bucket(n: int) -> int:
    """The smallest bucket holding n bytes of payload and its length prefix."""
    need = n + _LENGTH.size
    size = MIN_BUCKET
    while size < need:
        size *= 2
    return size


def pad(payload: bytes) -> bytes:
    """Length prefix, payload, zeros up to the bucket (the zeros are encrypted with the rest)."""
    body = _LENGTH.pack(len(payload)) + payload
    return body + bytes(bucket(len(payload)) - len(body))


def unpad(padded: bytes) -> bytes:
    if len(padded) < _LENGTH.size:
        raise ValueError("shorter than its length prefix")
    (n,) = _LENGTH.unpack_from(padded)
    if n > len(padded) - _LENGTH.size:
        raise ValueError("length prefix past the end")
    return padded[_LENGTH.size : _LENGTH.size + n]


def human_size(n: int) -> str:
    """`10 MiB`, `256 KiB`: how the drop states its limit."""
    return f"{n / 2**20:g} MiB" if n >= 2**20 else f"{n / 1024:g} KiB"


def today() -> dt.date:
    """The date, in UTC, and never the time: all the drop records of when."""
    return dt.datetime.now(dt.UTC).date()


def midnight(day: dt.date) -> float:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp()


def atomic_write(path: Path, data: bytes, *, day: dt.date | None = None, exclusive: bool = False) -> None:
    """Write `data` to `path` whole or not at all: a private temp file, fsync, rename, fsync of the folder.

    `day` sets the file's times to that day's midnight (UTC), so the file
    system does not keep the exact time either (its change time, ctime, it
    does: see README). `exclusive` refuses to replace an existing file.
    """
    folder = path.parent
    tmp = folder / f".tmp-{secrets.token_hex(8)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if day is not None:
            stamp = midnight(day)
            os.utime(tmp, (stamp, stamp))
        if exclusive:
            os.link(tmp, path)  # fails if path exists, where rename would replace it
            os.unlink(tmp)
        else:
            os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    sync_folder(folder, day)


def sync_folder(folder: Path, day: dt.date | None = None) -> None:
    """fsync a folder (the rename in it is then durable); with `day`, round its times to that day too."""
    if day is not None:
        stamp = midnight(day)
        os.utime(folder, (stamp, stamp))
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
