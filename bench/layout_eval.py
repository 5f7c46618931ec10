"""Paragraph boundaries on real OCR records against hand labels.

Gold: `bench/layout/gold-A.jsonl` and `gold-B.jsonl`, written by two labellers
reading the first 120 raw lines of 50 JFK development records (a seeded
sample, `random.Random(2026).sample(records, 50)`), each deciding for every
non-blank line whether it starts a block. Labeller A read files 00-29,
labeller B files 20-49: files 20-29 were read by both (agreement), 00-19 by A
only, 30-49 by B only. Development is A's files 00-29 (the only ones whose
errors were looked at while writing the rules); held out is B's 30-49,
measured once the rules were written. The gold files
hold record ids and line numbers only, never the records' text.

A break is predicted before a line when it lies in another portion than the
non-blank line before it. Also counted: name cuts (a labelled name split over
a line end that the portions cut apart).

    python bench/layout_eval.py [--corpus ../shared/corpus/jfk-records-dev.jsonl.gz] [--json]
    python bench/layout_eval.py --errors   # dev files only: every wrong break, with its lines

`--errors` never shows a held-out file: looking at held-out errors while
tuning would make the held-out figure meaningless.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from kartoteka.registry.structure import analyse  # noqa: E402

LINES = 120
DEV = range(0, 30)  # A's files: the only ones whose errors may be looked at
PARTS = {
    "development (A, 00-29)": DEV,
    "development (A, 00-19)": range(0, 20),
    "agreement (A∩B, 20-29)": range(20, 30),
    "held out (B, 30-49)": range(30, 50),
}


def load_gold(who: str) -> dict[int, dict[str, object]]:
    with (HERE / "layout" / f"gold-{who}.jsonl").open() as fh:
        return {int(o["file"]): o for o in map(json.loads, fh)}


def predicted(text: str) -> tuple[dict[int, int], list[int]]:
    """For each non-blank raw line number, the index of the portion holding it."""
    st = analyse(text)
    starts: list[int] = []
    pos = 0
    for line in text.split("\n"):
        starts.append(pos)
        pos += len(line) + 1
    owner: dict[int, int] = {}
    nonblank = [i for i, ln in enumerate(text.split("\n")) if ln.strip()]
    for i in nonblank:
        at = starts[i] + (len(text.split("\n")[i]) - len(text.split("\n")[i].lstrip()))
        for k, p in enumerate(st.portions):
            if p.start <= at < max(p.end, p.start + 1):
                owner[i] = k
                break
        else:
            owner[i] = -1 - i
    return owner, nonblank


def breaks(gold: dict[str, object], nonblank: list[int]) -> set[int]:
    s = set(gold["starts"])  # type: ignore[arg-type]
    return {i for i in nonblank[1:] if i in s}


def show_errors(a: dict[int, dict[str, object]], texts: dict[str, str]) -> None:
    """Each false break (+) and false join (-) of the development files, with
    the line before it, so a rule can be written against what a reader saw."""
    for f in DEV:
        gold = a[f]
        raw = texts[str(gold["record"])].split("\n")
        owner, nonblank = predicted(texts[str(gold["record"])])
        want = breaks(gold, nonblank)
        cuts = set(gold["name_cuts"])  # type: ignore[arg-type]
        for j, i in enumerate(nonblank[1:], start=1):
            prev = nonblank[j - 1]
            got = owner[i] != owner[prev]
            if got != (i in want):
                tag = "+break" if got else "-join "
                name = " NAME-CUT" if prev in cuts else ""
                print(f"{f:02d}:{i:3d} {tag}{name}\n      {raw[prev][:110]!r}\n   -> {raw[i][:110]!r}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=str(HERE.parent.parent / "shared" / "corpus" / "jfk-records-dev.jsonl.gz"))
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--errors", action="store_true", help="print the wrong breaks of the development files (A, 00-29)")
    ap.add_argument("--dev", action="store_true", help="score the development files only (while tuning)")
    args = ap.parse_args()
    a, b = load_gold("A"), load_gold("B")
    wanted = {str(g["record"]) for g in [*a.values(), *b.values()]}
    texts: dict[str, str] = {}
    with gzip.open(args.corpus, "rt", encoding="utf-8") as fh:
        for line in fh:
            o = json.loads(line)
            if o["id"] in wanted:
                texts[o["id"]] = "\n".join(o["text"].splitlines()[:LINES])
    if args.errors:
        show_errors(a, texts)
        return
    report: dict[str, dict[str, float]] = {}
    for part, files in PARTS.items():
        if args.dev and not set(files) <= set(DEV):
            continue
        tp = fp = fn = cuts = cut_total = 0
        agree_tp = agree_fp = agree_fn = 0
        for f in files:
            gold = a.get(f) or b[f]
            text = texts[str(gold["record"])]
            owner, nonblank = predicted(text)
            pred = {i for j, i in enumerate(nonblank[1:], start=1) if owner[i] != owner[nonblank[j - 1]]}
            want = breaks(gold, nonblank)
            tp += len(pred & want)
            fp += len(pred - want)
            fn += len(want - pred)
            for c in gold["name_cuts"]:  # type: ignore[attr-defined]
                nxt = next((i for i in nonblank if i > c), None)
                if nxt is not None and c in owner:
                    cut_total += 1
                    cuts += owner[c] != owner[nxt]
            if f in a and f in b:
                other = breaks(b[f], nonblank)
                agree_tp += len(want & other)
                agree_fp += len(other - want)
                agree_fn += len(want - other)
        row = {
            "files": len(files),
            "breaks_labelled": tp + fn,
            "precision": round(tp / (tp + fp), 3) if tp + fp else 0.0,
            "recall": round(tp / (tp + fn), 3) if tp + fn else 0.0,
            "name_cuts_labelled": cut_total,
            "name_cuts_cut": cuts,
        }
        if agree_tp + agree_fp + agree_fn:
            # B's breaks measured against A's: how far two careful readers agree.
            row["labellers_precision"] = round(agree_tp / (agree_tp + agree_fp), 3)
            row["labellers_recall"] = round(agree_tp / (agree_tp + agree_fn), 3)
        report[part] = row
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return
    for part, row in report.items():
        print(f"{part}: " + ", ".join(f"{k} {v}" for k, v in row.items()))


if __name__ == "__main__":
    main()
