"""Screening: many names checked against one name index, in order, on several cores.

A watch-list run (`check --batch`, `POST /api/check/batch`) checks thousands
of names; each is one `NameIndex.search`. With workers the index is shared
with forked processes copy-on-write, never through a global of the calling
process (a server screens for several users at once).
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
from collections.abc import Iterable, Iterator, Sequence

from kartoteka.names.index import MIN_REPORTED, Hit, NameIndex

# The index a forked screening worker searches. It is set only inside worker
# processes (by the pool's initializer, which fork hands the index without
# pickling it), never in the calling process: there, concurrent screens by
# different users (a server's threads) each search the index they were given.
_WORKER_INDEX: NameIndex | None = None


def screen_names(index: NameIndex, names: Sequence[str], limit: int, floor: float) -> list[list[Hit] | str]:
    out: list[list[Hit] | str] = []
    for name in names:
        try:
            out.append(index.search(name, limit, floor))
        except Exception as exc:  # one bad name must not stop a screening run
            out.append(f"{type(exc).__name__}: {exc}")
    return out


def _worker_init(index: NameIndex) -> None:
    global _WORKER_INDEX
    _WORKER_INDEX = index


def _worker_chunk(args: tuple[Sequence[str], int, float]) -> list[list[Hit] | str]:
    names, limit, floor = args
    assert _WORKER_INDEX is not None, "screening worker started without its index"
    return screen_names(_WORKER_INDEX, names, limit, floor)


def screen(
    index: NameIndex,
    names: Iterable[str],
    limit: int = 5,
    floor: float = MIN_REPORTED,
    workers: int = 1,
    chunk: int = 256,
    ray_actors: int = 0,
) -> Iterator[list[Hit] | str]:
    """Check many names, in order. Yields each name's hits, or an error message.

    With `workers` > 1 the index is shared with forked workers copy-on-write,
    so it is built once, not once per worker; with `ray_actors` the chunks go
    to that many actors on a Ray cluster (kartoteka/cluster.py). Nothing of one screen is kept
    where another can reach it, so screens may run at once in threads.
    """
    if ray_actors > 0:
        from kartoteka import cluster

        yield from cluster.screen(index, names, limit, floor, ray_actors, chunk)
        return
    it = iter(names)
    chunks = iter(lambda: list(itertools.islice(it, chunk)), [])
    if workers <= 1 or "fork" not in mp.get_all_start_methods():
        for c in chunks:
            yield from screen_names(index, c, limit, floor)
        return
    jobs = ((c, limit, floor) for c in chunks)
    with mp.get_context("fork").Pool(workers, initializer=_worker_init, initargs=(index,)) as pool:
        for result in pool.imap(_worker_chunk, jobs):
            yield from result
