"""Graph questions at scale: a two-entity path query and PageRank over 1,000,000 relations.

    python3 -m uv run python bench/graph.py [--relations 1000000] [--entities 200000] [--queries 200]

A synthetic relation graph: entities joined by relations drawn with
preferential attachment (a few hubs, a long tail), as an archive's card
index grows. The same RelationGraph the `links` and `network` commands use.
Reports build time, path-query p50/p99 (bidirectional BFS, up to 10
shortest paths) and PageRank time (rustworkx).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import time

from kartoteka.analysis.graph import RelationGraph


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--relations", type=int, default=1_000_000)
    ap.add_argument("--entities", type=int, default=200_000)
    ap.add_argument("--queries", type=int, default=200)
    args = ap.parse_args()
    rng = random.Random(11)
    t0 = time.perf_counter()
    graph = RelationGraph()
    ends: list[int] = []  # every relation end: sampling from it is preferential attachment
    relation = {"type": "met", "confidence": 0.8}
    for i in range(args.relations):
        a = rng.randrange(args.entities) if not ends or rng.random() < 0.5 else rng.choice(ends)
        b = rng.randrange(args.entities)
        if a == b:
            continue
        graph.add(f"e{a}", f"e{b}", relation)
        ends.extend((a, b))
        if len(ends) > 4 * args.relations:
            ends = ends[-2 * args.relations :]
        del i
    build_s = time.perf_counter() - t0
    nodes = sorted(graph.index)
    lat: list[float] = []
    lengths: list[int] = []
    for _ in range(args.queries):
        a, b = rng.sample(nodes, 2)
        t = time.perf_counter()
        paths = graph.shortest_paths(a, b)
        lat.append(time.perf_counter() - t)
        if paths:
            lengths.append(len(paths[0]) - 1)
    t = time.perf_counter()
    rank = graph.pagerank()
    pagerank_s = time.perf_counter() - t
    lat.sort()
    print(
        json.dumps(
            {
                "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
                "entities": len(graph.g),
                "relations_added": args.relations,
                "edges": graph.g.num_edges(),
                "build_s": round(build_s, 1),
                "path_query_p50_ms": round(lat[len(lat) // 2] * 1000, 2),
                "path_query_p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000, 2),
                "path_query_mean_ms": round(statistics.mean(lat) * 1000, 2),
                "median_hops": statistics.median(lengths) if lengths else None,
                "pagerank_s": round(pagerank_s, 2),
                "pagerank_sum": round(sum(rank.values()), 6),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
