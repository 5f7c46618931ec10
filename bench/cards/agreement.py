"""How far two labellers agree on the windows both read.

    python3 -m uv run python bench/cards/agreement.py bench/cards/gold-A.jsonl bench/cards/gold-B.jsonl

Span agreement is F1 of one labeller's spans against the other's (exact
offsets and kind; also with overlap instead of exact offsets, and ignoring
kind); person agreement is the share of person spans both labelled whose
person keys group the spans the same way (pairwise, within the shared
windows). Relations are compared by count only: each labeller writes their
own person keys, so relations cannot be matched without first matching keys.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path
from typing import Any


def load(path: Path) -> dict[int, dict[str, Any]]:
    return {int(r["window"]): r for r in (json.loads(line) for line in path.open(encoding="utf-8"))}


def f1(a: set[Any], b: set[Any]) -> tuple[float, float, float]:
    if not a and not b:
        return 1.0, 1.0, 1.0
    both = len(a & b)
    p = both / len(b) if b else 1.0
    r = both / len(a) if a else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def overlap_f1(a: list[tuple[int, int, str]], b: list[tuple[int, int, str]], kinds: bool) -> float:
    def hits(x: list[tuple[int, int, str]], y: list[tuple[int, int, str]]) -> int:
        return sum(any(s < e2 and s2 < e and (not kinds or k == k2) for s2, e2, k2 in y) for s, e, k in x)

    p = hits(b, a) / len(b) if b else 1.0
    r = hits(a, b) / len(a) if a else 1.0
    return 2 * p * r / (p + r) if p + r else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("first", type=Path)
    ap.add_argument("second", type=Path)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    a, b = load(args.first), load(args.second)
    shared = sorted(set(a) & set(b))
    sa = [(s["start"], s["end"], s["label"]) for w in shared for s in a[w]["spans"]]
    sb = [(s["start"], s["end"], s["label"]) for w in shared for s in b[w]["spans"]]
    out: dict[str, Any] = {"windows": len(shared), "spans_first": len(sa), "spans_second": len(sb)}
    out["exact_f1"] = round(f1(set(sa), set(sb))[2], 3)
    out["exact_f1_any_kind"] = round(f1({x[:2] for x in sa}, {x[:2] for x in sb})[2], 3)
    out["overlap_f1"] = round(overlap_f1(sa, sb, kinds=True), 3)
    for kind in ("PERSON", "ORG", "PLACE", "CRYPTONYM"):
        out[f"exact_f1_{kind}"] = round(f1({x for x in sa if x[2] == kind}, {x for x in sb if x[2] == kind})[2], 3)
    # Person grouping: over person spans both labelled (same offsets), do the
    # two labellers put each pair of spans in the same person or not?
    pa = {(s["start"], s["end"]): s["person"] for w in shared for s in a[w]["spans"] if s["label"] == "PERSON"}
    pb = {(s["start"], s["end"]): s["person"] for w in shared for s in b[w]["spans"] if s["label"] == "PERSON"}
    common = sorted(set(pa) & set(pb))
    pairs = list(itertools.combinations(common, 2))
    same = sum((pa[x] == pa[y]) == (pb[x] == pb[y]) for x, y in pairs)
    out["person_spans_both"] = len(common)
    out["person_pairs_agree"] = round(same / len(pairs), 4) if pairs else None
    out["relations_first"] = sum(len(a[w]["relations"]) for w in shared)
    out["relations_second"] = sum(len(b[w]["relations"]) for w in shared)
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k:>22}: {v}")


if __name__ == "__main__":
    main()
