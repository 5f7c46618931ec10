"""Precision and recall of relation extraction on the hand-labelled sentences.

    python3 -m uv run python bench/relations_eval.py [--failures]

Entities are given (their spans found in each sentence by their text), so
the figures measure relation extraction, not named-entity recognition. A
predicted relation counts as right when its type, subject and object match a
labelled one (either way round for met, communicated_with, married_to).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import yaml

from kartoteka.analysis.relations import Ent, extract, load_parser, vocab

HERE = Path(__file__).parent / "relations"


def _key(t: str, a: str, b: str) -> tuple[str, str, str]:
    if t in vocab().symmetric and b < a:
        a, b = b, a
    return t, a, b


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--failures", action="store_true", help="print every miss and every false relation")
    args = ap.parse_args()
    items = yaml.safe_load((HERE / "sentences.yml").read_text(encoding="utf-8"))["sentences"]
    nlp = load_parser()
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for text, ents, rels in items:
        spans = []
        for name, kind in ents:
            i = text.find(name)
            if i < 0:
                sys.exit(f"entity {name!r} not in {text!r}")
            spans.append(Ent(i, i + len(name), kind, name))
        gold = {_key(t, a, b) for a, t, b in rels}
        pred = {_key(r.type, r.subject, r.object) for r in extract(nlp(text), spans)}
        for g in gold:
            (tp if g in pred else fn)[g[0]] += 1
        for p in pred - gold:
            fp[p[0]] += 1
        if args.failures and pred != gold:
            print(f"{text}\n   missed {sorted(gold - pred)}\n   wrong  {sorted(pred - gold)}", file=sys.stderr)
    print("| type | gold | found right | wrong | precision | recall |")
    print("|---|---|---|---|---|---|")
    for t in sorted(set(tp) | set(fn) | set(fp)):
        p = tp[t] / (tp[t] + fp[t]) if tp[t] + fp[t] else 0.0
        r = tp[t] / (tp[t] + fn[t]) if tp[t] + fn[t] else 0.0
        print(f"| {t} | {tp[t] + fn[t]} | {tp[t]} | {fp[t]} | {p:.2f} | {r:.2f} |")
    TP, FP, FN = sum(tp.values()), sum(fp.values()), sum(fn.values())
    P, R = TP / (TP + FP), TP / (TP + FN)
    print(f"| **all** ({len(items)} sentences) | {TP + FN} | {TP} | {FP} | **{P:.2f}** | **{R:.2f}** |")
    print(f"\nF1 {2 * P * R / (P + R):.2f}")


if __name__ == "__main__":
    main()
