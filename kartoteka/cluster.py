"""Ingest and batch screening on a Ray cluster (`kartoteka ingest --ray`, `check --batch --ray`).

What is slow in an ingest fans out: reading files (OCR of scanned pages is
the slowest part) runs as Ray tasks, one per file, and the NER model runs in
Ray actors, each holding one loaded model. What decides (resolution against
the card index, labels, writes) stays in the driver, which writes each
batch in one transaction, idempotent by content hash as every ingest is. A
task or actor lost mid-way (a worker killed, a node gone) is retried by Ray
(`max_retries`, `max_restarts`, `max_task_retries`): its work is a pure
function of its input, so a retry cannot duplicate anything.

A batch screen sends the viewer's own name index (built under their policy,
so it holds only names they may see) to one actor per CPU once, and the
names in chunks; hits come back in order.

Results come back in input order with a bounded number in flight, so a
corpus streams through in constant memory whatever the cluster's size.
Ray is imported only here, and only when asked for: `pip install
'kartoteka[cluster]'`.
"""

from __future__ import annotations

import itertools
import os
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from kartoteka.errors import E, KartotekaError
from kartoteka.index.extract import Span, load_nlp, spans_of
from kartoteka.names.index import Hit, NameIndex
from kartoteka.names.screen import screen_names
from kartoteka.registry.readers import RawDocument, ReadError, read_path

C = TypeVar("C")
RETRIES = 3


# Under `uv run`, Ray would package the working folder and rebuild the
# environment for every worker (read when ray is imported, so set here); the
# workers of this machine, or of nodes set up the same way, use the
# interpreter they are started with.
os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")


def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - the dev environment has it
        raise KartotekaError(E.E064, reason="Ray is not installed: pip install 'kartoteka[cluster]'") from exc
    return ray


def connect(address: str, num_cpus: int | None = None) -> int:
    """Join the cluster at `address`, or with "auto" the running one if any, else start one here.

    Returns the number of CPUs the cluster offers (the number of NER actors)."""
    ray = _ray()
    if not ray.is_initialized():
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "ignore_reinit_error": True}
        try:
            if address == "auto":
                try:
                    ray.init(address="auto", **options)
                except (ConnectionError, RuntimeError):
                    _start_local(ray, num_cpus, options)  # no cluster running: a local one
            else:
                ray.init(address=address, **options)
        except Exception as exc:
            raise KartotekaError(E.E064, reason=f"can't reach a Ray cluster at {address} ({exc})") from exc
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def _start_local(ray: Any, num_cpus: int | None, options: dict[str, Any], attempts: int = 3) -> None:
    # On a busy machine a local node's agents can miss the raylet's fixed
    # 15-second start-up wait and the node fails to start (ray-project/ray
    # issue 65983); a second start usually succeeds.
    for attempt in range(attempts):
        try:
            ray.init(num_cpus=num_cpus, **options)
            return
        except Exception:
            ray.shutdown()
            if attempt == attempts - 1:
                raise


def _remote_read(path: str, ocr: str) -> list[RawDocument | ReadError]:
    return list(read_path(Path(path), ocr=ocr))


class _Ner:
    """One loaded model on a worker; its method is pure, so Ray may retry it anywhere."""

    def __init__(self) -> None:
        self.nlp = load_nlp()

    def spans(self, texts: list[str]) -> list[list[Span]]:
        return [spans_of(doc) for doc in self.nlp.pipe(texts, batch_size=len(texts))]


def _ordered(submit: Iterator[Any], in_flight: int) -> Iterator[Any]:
    """The results of submitted object refs in submission order, at most `in_flight` at a time."""
    ray = _ray()
    pending: deque[Any] = deque()
    for ref in submit:
        pending.append(ref)
        if len(pending) >= in_flight:
            yield ray.get(pending.popleft())
    while pending:
        yield ray.get(pending.popleft())


def read_files(
    files: Iterable[Path | ReadError], ocr: str = "auto", in_flight: int = 8
) -> Iterator[RawDocument | ReadError]:
    """Read files as Ray tasks (one per file), yielding their documents in the files' order."""
    ray = _ray()
    # No CPU is reserved for a read: the NER actors hold one each for as long
    # as the ingest runs, and reads that waited for a free CPU would never run
    # (the actors wait for their text). The reads in flight are bounded here.
    task = ray.remote(num_cpus=0, max_retries=RETRIES)(_remote_read)
    items = list(files)
    refs = (task.remote(str(f), ocr) if isinstance(f, Path) else ray.put([f]) for f in items)
    for docs in _ordered(refs, in_flight):
        yield from docs


class RayNerRunner:
    """`extract.NerRunner` on Ray: the same interface, the model in `actors` actors on the cluster."""

    def __init__(self, actors: int, batch_size: int = 64) -> None:
        self.actors = max(1, actors)
        self.batch_size = batch_size

    def run(self, items: Iterable[tuple[str, C]]) -> Iterator[tuple[list[Span], C]]:
        ray = _ray()
        actor = ray.remote(num_cpus=1, max_restarts=RETRIES, max_task_retries=RETRIES)(_Ner)
        pool = [actor.remote() for _ in range(self.actors)]
        try:
            it = iter(items)
            chunks: deque[list[C]] = deque()

            def submit() -> Iterator[Any]:
                for n in itertools.count():
                    chunk = list(itertools.islice(it, self.batch_size))
                    if not chunk:
                        return
                    chunks.append([c for _, c in chunk])
                    yield pool[n % len(pool)].spans.remote([t for t, _ in chunk])

            for spans in _ordered(submit(), 2 * len(pool)):
                yield from zip(spans, chunks.popleft(), strict=True)
        finally:
            for a in pool:
                ray.kill(a)


class _Screener:
    """The viewer's name index on a worker, searched for chunks of names."""

    def __init__(self, index: NameIndex) -> None:
        self.index = index

    def chunk(self, names: list[str], limit: int, floor: float) -> list[list[Hit] | str]:
        return screen_names(self.index, names, limit, floor)


def screen(
    index: NameIndex, names: Iterable[str], limit: int, floor: float, actors: int, chunk: int = 256
) -> Iterator[list[Hit] | str]:
    """`names.screen.screen` on the cluster: each name's hits (or an error message), in order."""
    ray = _ray()
    shared = ray.put(index)  # sent once, not once per chunk
    actor = ray.remote(num_cpus=1, max_restarts=RETRIES, max_task_retries=RETRIES)(_Screener)
    pool = [actor.remote(shared) for _ in range(max(1, actors))]
    try:
        it = iter(names)
        chunks = iter(lambda: list(itertools.islice(it, chunk)), [])
        refs = (pool[n % len(pool)].chunk.remote(c, limit, floor) for n, c in enumerate(chunks))
        for result in _ordered(refs, 2 * len(pool)):
            yield from result
    finally:
        for a in pool:
            ray.kill(a)
