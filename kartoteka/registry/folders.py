"""Walking a folder for ingest: every file in a stable order, and every problem said.

`Path.rglob` skips what it cannot read without a word: a folder without
read permission, a symbolic link that points nowhere or to itself, a link to
a folder (not followed at all). A batch then looks complete when it is not.
This walk reports each of those (one `Unreadable` each, in place) and goes
on; it follows links to folders, once per real folder, and refuses a link
that leads back to a folder it is inside of.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from kartoteka.errors import E, KartotekaError


@dataclass(frozen=True)
class Unreadable:
    path: Path
    message: str


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _broken_link(path: Path, exc: OSError) -> Unreadable:
    if exc.errno == errno.ELOOP:
        reason = "the symbolic link loops"
    elif exc.errno == errno.ENOENT:
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        reason = f"the symbolic link points to {target}, which does not exist"
    else:
        reason = f"the symbolic link can't be followed ({_reason(exc)})"
    return Unreadable(path, KartotekaError(E.E115, path=path, reason=reason).message)


def walk(folder: Path, wanted: Callable[[Path], bool]) -> Iterator[Path | Unreadable]:
    """The files under `folder` that `wanted` accepts, depth first with names in
    order (the order of `sorted(folder.rglob("*"))`), and what could not be read."""
    try:
        st = os.stat(folder)
    except OSError as exc:
        yield Unreadable(folder, KartotekaError(E.E114, path=folder, reason=_reason(exc)).message)
        return
    yield from _walk(folder, wanted, ((st.st_dev, st.st_ino),), set())


def _walk(
    folder: Path,
    wanted: Callable[[Path], bool],
    ancestors: tuple[tuple[int, int], ...],
    seen: set[tuple[int, int]],
) -> Iterator[Path | Unreadable]:
    seen.add(ancestors[-1])
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        yield Unreadable(folder, KartotekaError(E.E114, path=folder, reason=_reason(exc)).message)
        return
    for entry in entries:
        path = folder / entry.name
        try:
            link = entry.is_symlink()
            st = os.stat(path) if link else entry.stat(follow_symlinks=False)
        except OSError as exc:
            # Hidden names are never read, so a broken hidden link is nobody's loss.
            if not entry.name.startswith("."):
                yield (
                    _broken_link(path, exc)
                    if entry.is_symlink()
                    else Unreadable(path, KartotekaError(E.E115, path=path, reason=_reason(exc)).message)
                )
            continue
        if stat.S_ISDIR(st.st_mode):
            key = (st.st_dev, st.st_ino)
            if key in ancestors:
                reason = f"the symbolic link leads back to {os.path.realpath(path)}, a folder it is inside of"
                yield Unreadable(path, KartotekaError(E.E115, path=path, reason=reason).message)
            elif key not in seen:  # a folder reached twice by links is read once
                yield from _walk(path, wanted, (*ancestors, key), seen)
        elif stat.S_ISREG(st.st_mode) and wanted(path):
            yield path
