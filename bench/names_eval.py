"""Accuracy of the name check on the labelled set, beside nomenklatura's matchers.

    python3 -m uv run --group bench python bench/names_eval.py [--distractors 200000] [--peer]

The labelled people (bench/names/targets.jsonl) are mixed into Faker-made
distractor names that never share their family names, so every positive query
has exactly one right answer. A positive query succeeds when the right person is
ranked first with a score at or above 0.7; a negative query raises a false alert
when any candidate reaches 0.7.

nomenklatura's logic-v1 and logic-v2 compare two entities; they have no index
(yente puts Elasticsearch in front of them). Each peer query is scored against
the union of Kartoteka's top 10, a neutral rapidfuzz top 20 over the whole
index, and, for positives, the right answer itself. That hands the peer a
perfect retrieval, so its table measures its matcher at its best.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

# The repository root, so that `bench.names` is this project's evaluation set,
# not the PyPI package `names` (census name lists) the lexicon depends on.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.names import evalset
from kartoteka.names.compare import LIKELY
from kartoteka.names.index import NameIndex

OUT = Path(__file__).parent / "out"


def build(targets: list[dict[str, Any]], distractor_names: list[str]) -> tuple[NameIndex, float]:
    t0 = time.perf_counter()
    index = NameIndex()
    for t in targets:
        for n in t["names"]:
            index.add(t["id"], n)
    for i, n in enumerate(distractor_names):
        index.add(f"d{i}", n)
    return index, time.perf_counter() - t0


def judge(q: dict[str, Any], ranked: list[tuple[str, float]]) -> bool:
    """True when the system answered this query correctly."""
    alerts = [(e, s) for e, s in ranked if s >= LIKELY]
    if q["expected"] is None:
        return not alerts
    return bool(alerts) and alerts[0][0] == q["expected"]


def kartoteka_run(index: NameIndex, qs: list[dict[str, Any]]) -> tuple[dict[str, list[tuple[str, float]]], list[float]]:
    results: dict[str, list[tuple[str, float]]] = {}
    lat: list[float] = []
    for q in qs:
        t0 = time.perf_counter()
        hits = index.search(q["query"], limit=10)
        lat.append(time.perf_counter() - t0)
        results[q["id"]] = [(h.entity_id, h.score) for h in hits]
    return results, lat


def neutral_candidates(names: list[str], ids: list[str], qs: list[dict[str, Any]], k: int = 20) -> dict[str, list[str]]:
    from rapidfuzz import fuzz, process, utils

    folded = [evalset.ascii_only(str(evalset._icu("Any-Latin").transliterate(n))).lower() for n in names]
    out: dict[str, list[str]] = {}
    for q in qs:
        ql = evalset.ascii_only(str(evalset._icu("Any-Latin").transliterate(q["query"]))).lower()
        found = process.extract(ql, folded, scorer=fuzz.token_sort_ratio, processor=utils.default_process, limit=k)
        out[q["id"]] = [ids[i] for _, _, i in found]
    return out


def peer_run(
    algorithm: str,
    qs: list[dict[str, Any]],
    candidates: dict[str, list[str]],
    names_of: dict[str, list[str]],
) -> tuple[dict[str, list[tuple[str, float]]], list[float]]:
    from followthemoney import model
    from nomenklatura.matching import get_algorithm

    algo = get_algorithm(algorithm)
    assert algo is not None
    config = algo.default_config()
    entities: dict[str, Any] = {}

    def entity(eid: str) -> Any:
        e = entities.get(eid)
        if e is None:
            e = model.make_entity("Person")
            e.id = eid
            for n in names_of[eid]:
                e.add("name", n)
            entities[eid] = e
        return e

    results: dict[str, list[tuple[str, float]]] = {}
    lat: list[float] = []
    for q in qs:
        qe = model.make_entity("Person")
        qe.id = f"query-{algorithm}-{q['id']}"
        qe.add("name", q["query"])
        t0 = time.perf_counter()
        scored = [(c, float(algo.compare(qe, entity(c), config).score)) for c in candidates[q["id"]]]
        lat.append(time.perf_counter() - t0)
        scored.sort(key=lambda x: -x[1])
        results[q["id"]] = scored
    return results, lat


def table(qs: list[dict[str, Any]], systems: dict[str, dict[str, list[tuple[str, float]]]]) -> list[str]:
    cats: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for q in qs:
        cats[q["category"]].append(q)
    names = list(systems)
    head = "| category | kind | n | " + " | ".join(names) + " |"
    lines = [head, "|" + "---|" * (3 + len(names))]
    pos_total = {s: 0 for s in names}
    neg_total = {s: 0 for s in names}
    n_pos = n_neg = 0
    for cat in sorted(cats, key=lambda c: (cats[c][0]["expected"] is None, c)):
        group = cats[cat]
        negative = group[0]["expected"] is None
        cells = []
        for s in names:
            ok = sum(judge(q, systems[s][q["id"]]) for q in group)
            if negative:
                neg_total[s] += len(group) - ok
                cells.append(f"{(len(group) - ok) / len(group):.1%}")
            else:
                pos_total[s] += ok
                cells.append(f"{ok / len(group):.1%}")
        if negative:
            n_neg += len(group)
        else:
            n_pos += len(group)
        kind = "false alerts" if negative else "right first"
        lines.append(f"| {cat} | {kind} | {len(group)} | " + " | ".join(cells) + " |")
    lines.append(
        f"| **all positives** | right first ≥ 0.7 | {n_pos} | "
        + " | ".join(f"**{pos_total[s] / n_pos:.1%}**" for s in names)
        + " |"
    )
    lines.append(
        f"| **all negatives** | false alerts ≥ 0.7 | {n_neg} | "
        + " | ".join(f"**{neg_total[s] / n_neg:.1%}**" for s in names)
        + " |"
    )
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--distractors", type=int, default=200_000)
    ap.add_argument("--peer", action="store_true", help="also run nomenklatura logic-v1 and logic-v2")
    ap.add_argument("--set", type=Path, default=evalset.HERE, help="a set written by evalset.py --out")
    ap.add_argument(
        "--failures", type=Path, default=OUT / "names_eval_failures.jsonl", help="where failures are written"
    )
    ap.add_argument("--answers", type=Path, help="also write every query's ranked answers here (JSON lines)")
    args = ap.parse_args()
    targets, qs = evalset.load(args.set)
    excluded = set(json.loads((args.set / "excluded.json").read_text(encoding="utf-8")))
    t0 = time.perf_counter()
    distractor_names = list(evalset.distractors(args.distractors, excluded))
    print(f"{len(distractor_names):,} distractors in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    index, build_s = build(targets, distractor_names)
    print(f"index: {len(index):,} names, {index.token_count:,} tokens, built in {build_s:.1f} s", file=sys.stderr)
    systems: dict[str, dict[str, list[tuple[str, float]]]] = {}
    latency: dict[str, list[float]] = {}
    systems["Kartoteka"], latency["Kartoteka"] = kartoteka_run(index, qs)
    if args.peer:
        names_of = {t["id"]: t["names"] for t in targets}
        ids = list(
            itertools.chain(
                (t["id"] for t in targets for _ in t["names"]), (f"d{i}" for i in range(len(distractor_names)))
            )
        )
        all_names = [n for t in targets for n in t["names"]] + distractor_names
        for i, n in enumerate(distractor_names):
            names_of[f"d{i}"] = [n]
        t0 = time.perf_counter()
        neutral = neutral_candidates(all_names, ids, qs)
        print(f"neutral retrieval in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        cands: dict[str, list[str]] = {}
        for q in qs:
            pool = [e for e, _ in systems["Kartoteka"][q["id"]]] + neutral[q["id"]]
            if q["expected"]:
                pool.append(q["expected"])
            cands[q["id"]] = list(dict.fromkeys(pool))
        for algo in ("logic-v1", "logic-v2"):
            t0 = time.perf_counter()
            systems[algo], latency[algo] = peer_run(algo, qs, cands, names_of)
            print(f"{algo} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        mean_c = statistics.mean(len(c) for c in cands.values())
        print(f"peer candidates per query: mean {mean_c:.1f}", file=sys.stderr)
    lines = table(qs, systems)
    lines.append("")
    for s, lat in latency.items():
        lat = sorted(lat)
        lines.append(
            f"- {s}: per query p50 {lat[len(lat) // 2] * 1000:.2f} ms, p99 {lat[int(len(lat) * 0.99)] * 1000:.2f} ms"
            + (" (scoring the given candidates only)" if s != "Kartoteka" else " (retrieval and scoring)")
        )
    print("\n".join(lines))
    args.failures.parent.mkdir(parents=True, exist_ok=True)
    if args.answers is not None:
        # To compare two engines' answers query by query (same set, same distractors).
        with args.answers.open("w", encoding="utf-8") as fh:
            for q in qs:
                got = systems["Kartoteka"][q["id"]]
                fh.write(json.dumps({**q, "got": got[:10]}, ensure_ascii=False) + "\n")
    with args.failures.open("w", encoding="utf-8") as fh:
        for q in qs:
            for s, res in systems.items():
                if not judge(q, res[q["id"]]):
                    fh.write(json.dumps({"system": s, **q, "got": res[q["id"]][:3]}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
