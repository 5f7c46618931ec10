"""The relation graph, with rustworkx as the engine.

Nodes are entities, edges carry every relation between two entities (their
evidence, types and dates). Paths, neighbourhoods, centrality (degree,
betweenness, PageRank) and communities are computed here; exports to
GraphML, GEXF (with time), STIX 2.1 and FollowTheMoney live in `export.py`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import rustworkx as rx


@dataclass
class Edge:
    """Everything known between two entities."""

    relations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def best(self) -> dict[str, Any]:
        return max(self.relations, key=lambda r: r["confidence"])


class RelationGraph:
    """`key` orders nodes wherever an order is chosen (frontiers, ties between
    paths, the sweep that finds communities). The archive passes a key made
    of what the viewer sees (a card's shown name, then its id), so no answer
    depends on the order in which nodes happened to be added, which follows
    the order of stored relations, hidden ones included."""

    def __init__(self, key: Callable[[str], Any] | None = None) -> None:
        self.g: rx.PyGraph = rx.PyGraph(multigraph=False)
        self.index: dict[str, int] = {}
        self.key: Callable[[str], Any] = key or (lambda e: e)

    def _by_key(self, nodes: Iterable[int]) -> list[int]:
        return sorted(nodes, key=lambda i: self.key(self.g[i]))

    def node(self, entity_id: str) -> int:
        i = self.index.get(entity_id)
        if i is None:
            i = self.g.add_node(entity_id)
            self.index[entity_id] = i
        return i

    def add(self, a: str, b: str, relation: dict[str, Any]) -> None:
        ia, ib = self.node(a), self.node(b)
        found = self.g.get_edge_data(ia, ib) if self.g.has_edge(ia, ib) else None
        if found is None:
            self.g.add_edge(ia, ib, Edge([relation]))
        else:
            found.relations.append(relation)

    def edge(self, a: str, b: str) -> Edge:
        data: Edge = self.g.get_edge_data(self.index[a], self.index[b])
        return data

    def shortest_paths(self, a: str, b: str, limit: int = 10) -> list[list[str]]:
        """Up to `limit` shortest paths, in a stable order.

        Bidirectional breadth-first search: each side expands its smaller
        frontier until they meet, so a query touches thousands of nodes, not
        the whole graph, and enumerating paths never explodes (the number of
        equal shortest paths in a dense graph can be astronomical).
        """
        if a not in self.index or b not in self.index or a == b:
            return []
        src, dst = self.index[a], self.index[b]
        preds: list[dict[int, list[int]]] = [{src: []}, {dst: []}]
        depth: list[dict[int, int]] = [{src: 0}, {dst: 0}]
        frontiers: list[list[int]] = [[src], [dst]]
        meet: list[int] = []
        while frontiers[0] and frontiers[1] and not meet:
            side = 0 if len(frontiers[0]) <= len(frontiers[1]) else 1
            mine, other = preds[side], preds[1 - side]
            nxt: dict[int, list[int]] = {}
            for u in frontiers[side]:
                for v in self.g.neighbors(u):
                    if v in mine:
                        continue
                    nxt.setdefault(v, []).append(u)
            mine.update(nxt)
            level = depth[side][frontiers[side][0]] + 1 if frontiers[side] else 0
            for v in nxt:
                depth[side][v] = level
            frontiers[side] = self._by_key(nxt)
            touching = [v for v in nxt if v in other]
            if touching:
                # Meeting nodes can sit at different depths on the other side:
                # only those on a shortest path count.
                best = min(depth[1 - side][v] for v in touching)
                meet = self._by_key(v for v in touching if depth[1 - side][v] == best)
        paths: list[list[int]] = []

        def back(node: int, side: int) -> list[list[int]]:
            out: list[list[int]] = []
            stack: list[tuple[int, list[int]]] = [(node, [node])]
            while stack and len(out) < limit:
                n, path = stack.pop()
                ps = preds[side][n]
                if not ps:
                    out.append(path)
                for p in reversed(self._by_key(ps)):
                    stack.append((p, [*path, p]))
            return out

        for m in meet:
            for left in back(m, 0):
                for right in back(m, 1):
                    paths.append([*reversed(left), *right[1:]])
                    if len(paths) >= limit:
                        break
                if len(paths) >= limit:
                    break
            if len(paths) >= limit:
                break
        named = [[self.g[i] for i in p] for p in paths]
        return sorted(named, key=lambda p: [self.key(e) for e in p])[:limit]

    def neighbourhood(self, entity_id: str, depth: int) -> set[str]:
        if entity_id not in self.index:
            return set()
        seen = {self.index[entity_id]}
        frontier = [self.index[entity_id]]
        for _ in range(depth):
            nxt = []
            for u in frontier:
                for v in self.g.neighbors(u):
                    if v not in seen:
                        seen.add(v)
                        nxt.append(v)
            frontier = nxt
        return {self.g[i] for i in seen}

    def subgraph(self, entity_ids: Iterable[str]) -> RelationGraph:
        keep = set(entity_ids)
        sub = RelationGraph(self.key)
        for e in sorted(keep, key=self.key):
            sub.node(e)
        for ia, ib, data in self.g.weighted_edge_list():
            a, b = self.g[ia], self.g[ib]
            if a in keep and b in keep:
                for r in data.relations:
                    sub.add(a, b, r)
        return sub

    def centrality(self) -> dict[str, dict[str, float]]:
        n = len(self.g)
        if n == 0:
            return {}
        degree = {self.g[i]: (self.g.degree(i) / (n - 1) if n > 1 else 0.0) for i in self.g.node_indices()}
        between = rx.graph_betweenness_centrality(self.g, normalized=True)
        rank = rx.pagerank(self.g.to_directed())
        return {
            self.g[i]: {"degree": degree[self.g[i]], "betweenness": between[i], "pagerank": rank[i]}
            for i in self.g.node_indices()
        }

    def pagerank(self) -> dict[str, float]:
        rank = rx.pagerank(self.g.to_directed())
        return {self.g[i]: rank[i] for i in self.g.node_indices()}

    def communities(self, rounds: int = 20) -> dict[str, int]:
        """Communities by modularity: the local-moving phase of Louvain
        (rustworkx has no community detection). Each node, in a fixed order,
        joins the neighbouring community that raises modularity most; repeated
        until nothing moves, so the result is repeatable."""
        order = self._by_key(self.g.node_indices())
        m2 = 2.0 * self.g.num_edges()
        if m2 == 0:
            return {self.g[i]: k for k, i in enumerate(order)}
        comm = {i: i for i in order}
        degree = {i: self.g.degree(i) for i in order}
        total = dict(degree)
        for _ in range(rounds):
            moved = False
            for i in order:
                ki, old = degree[i], comm[i]
                total[old] -= ki
                links = Counter(comm[j] for j in self.g.neighbors(i))
                best, best_gain = old, links.get(old, 0) - total[old] * ki / m2
                for c in sorted(links, key=lambda c: self.key(self.g[c])):
                    gain = links[c] - total[c] * ki / m2
                    if gain > best_gain + 1e-12:
                        best, best_gain = c, gain
                comm[i] = best
                total[best] += ki
                moved |= best != old
            if not moved:
                break
        renumber = {c: k for k, c in enumerate(self._by_key(set(comm.values())))}
        return {self.g[i]: renumber[comm[i]] for i in order}
