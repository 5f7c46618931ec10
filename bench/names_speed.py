"""Speed and size of the name check at a million names, beside nomenklatura's per-query cost.

    python3 -m uv run --group bench python bench/names_speed.py [--names 1000000] [--batch 100000]

Builds a NameIndex of `--names` Faker-made multilingual person names (Russian
and Ukrainian ones in Cyrillic and in Latin, with patronymics and in Russian
order, as archives hold them), then measures:

* build time and resident memory of the index;
* single queries on one core: p50 and p99 over 2,000 queries, half the
  labelled evaluation queries and half names from the index with one slip;
* batch screening of `--batch` names with 2 worker processes;
* the peer: nomenklatura logic-v1 and logic-v2 scoring each of 200 queries
  against that query's Kartoteka top 20, i.e. with a free retrieval.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import psutil

# The repository root, so that `bench.names` is this project's evaluation set,
# not the PyPI package `names` (census name lists) the lexicon depends on.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.names import evalset
from kartoteka.names.index import NameIndex
from kartoteka.names.screen import screen


def rss_mb() -> float:
    gc.collect()
    return float(psutil.Process().memory_info().rss) / 2**20


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def speed_queries(names: list[str], rng: random.Random) -> list[str]:
    """1,000 labelled evaluation queries and 1,000 index names with one slip, shuffled."""
    _, labelled = evalset.load()
    queries = [q["query"] for q in rng.sample(labelled, 1000)]
    for n in rng.sample(names, 1000):
        words = n.split()
        words[-1] = evalset.typo(words[-1], rng)
        queries.append(" ".join(words))
    rng.shuffle(queries)
    return queries


def latencies(index: NameIndex, queries: list[str], warm: int = 200) -> list[float]:
    """Seconds per query (limit 10), after `warm` queries fill the parse caches as a running service has them."""
    for q in queries[:warm]:
        index.search(q)
    lat: list[float] = []
    for q in queries:
        t0 = time.perf_counter()
        index.search(q, limit=10)
        lat.append(time.perf_counter() - t0)
    return lat


def peer_cost(queries: list[str], index: NameIndex, algorithm: str) -> list[float]:
    import itertools

    from followthemoney import model
    from nomenklatura.matching import get_algorithm

    algo = get_algorithm(algorithm)
    assert algo is not None
    config = algo.default_config()
    counter = itertools.count()
    out: list[float] = []
    for q in queries:
        hits = index.search(q, limit=20, floor=0.0)
        qe = model.make_entity("Person")
        qe.id = f"q{next(counter)}"
        qe.add("name", q)
        cands = []
        for h in hits:
            e = model.make_entity("Person")
            e.id = f"c{next(counter)}"
            e.add("name", h.matched)
            cands.append(e)
        t0 = time.perf_counter()
        for c in cands:
            algo.compare(qe, c, config)
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--names", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--peer-queries", type=int, default=200)
    args = ap.parse_args()
    rng = random.Random(7)
    t0 = time.perf_counter()
    names = list(evalset.distractors(args.names, seed=evalset.SEED + 1))
    print(f"generated {len(names):,} names in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    before = rss_mb()
    t0 = time.perf_counter()
    index = NameIndex()
    for i, n in enumerate(names):
        index.add(f"p{i}", n)
    build_s = time.perf_counter() - t0
    index_mb = rss_mb() - before
    print(
        f"built {len(index):,} records, {index.token_count:,} tokens in {build_s:.1f} s, +{index_mb:.0f} MB",
        file=sys.stderr,
    )

    queries = speed_queries(names, rng)
    lat = latencies(index, queries)

    batch = [n if rng.random() < 0.5 else evalset.typo(n, rng) for n in rng.sample(names, args.batch)]
    t0 = time.perf_counter()
    results = sum(1 for _ in screen(index, batch, limit=5, workers=args.workers))
    batch_s = time.perf_counter() - t0
    assert results == len(batch)
    peak_mb = float(psutil.Process().memory_info().rss) / 2**20

    peers: dict[str, list[float]] = {}
    for algo in ("logic-v1", "logic-v2"):
        peers[algo] = peer_cost(queries[: args.peer_queries], index, algo)

    report: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "names": len(index),
        "tokens": index.token_count,
        "build_s": round(build_s, 1),
        "index_mb": round(index_mb),
        "process_rss_mb": round(peak_mb),
        "query_p50_ms": round(pct(lat, 0.5) * 1000, 3),
        "query_p99_ms": round(pct(lat, 0.99) * 1000, 3),
        "query_mean_ms": round(statistics.mean(lat) * 1000, 3),
        "batch_names": len(batch),
        "batch_workers": args.workers,
        "batch_s": round(batch_s, 1),
        "batch_per_s": round(len(batch) / batch_s),
    }
    for algo, times in peers.items():
        report[f"{algo}_query_p50_ms"] = round(pct(times, 0.5) * 1000, 2)
        report[f"{algo}_query_p99_ms"] = round(pct(times, 0.99) * 1000, 2)
        report[f"{algo}_ratio_p50"] = round(pct(times, 0.5) / pct(lat, 0.5), 1)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
