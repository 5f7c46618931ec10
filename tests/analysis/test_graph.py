"""The relation graph: bidirectional shortest paths against rustworkx's own, communities."""

from __future__ import annotations

import random

import rustworkx as rx

from kartoteka.analysis.graph import RelationGraph


def test_shortest_paths_equal_rustworkx_all_shortest_paths() -> None:
    rng = random.Random(1)
    checked = 0
    for _ in range(300):
        g = RelationGraph()
        n = rng.randint(2, 30)
        for _ in range(rng.randint(1, 60)):
            a, b = rng.randrange(n), rng.randrange(n)
            if a != b:
                g.add(f"n{a:02d}", f"n{b:02d}", {"confidence": 1.0})
        nodes = sorted(g.index)
        if len(nodes) < 2:
            continue
        a, b = rng.sample(nodes, 2)
        ref = sorted([g.g[i] for i in p] for p in rx.graph_all_shortest_paths(g.g, g.index[a], g.index[b]))
        assert g.shortest_paths(a, b, limit=10**6) == ref
        few = g.shortest_paths(a, b, limit=3)
        assert len(few) == min(3, len(ref)) and all(p in ref for p in few)
        checked += 1
    assert checked > 250


def test_communities_split_two_cliques_joined_by_one_edge() -> None:
    g = RelationGraph()
    for group in ("a", "b"):
        members = [f"{group}{i}" for i in range(5)]
        for i, x in enumerate(members):
            for y in members[i + 1 :]:
                g.add(x, y, {"confidence": 1.0})
    g.add("a0", "b0", {"confidence": 1.0})
    labels = g.communities()
    assert len({labels[f"a{i}"] for i in range(5)}) == 1
    assert len({labels[f"b{i}"] for i in range(5)}) == 1
    assert labels["a1"] != labels["b1"]
    central = g.centrality()
    assert central["a0"]["betweenness"] > central["a1"]["betweenness"]
