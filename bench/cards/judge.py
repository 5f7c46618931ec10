"""Person cards judged by reading, on records no one tuned on.

    python3 -m uv run python bench/cards/judge.py packet --out /tmp/judge
    python3 -m uv run python bench/cards/judge.py score /tmp/judge verdicts-X.jsonl [...]

`packet` ingests 300 records of the test split (by the record hash of
`sample.py`; seeded draw, none of them read while tuning) into
`OUT/archive.db` and writes `OUT/packet.txt` for a judge to read: the 50
most-mentioned person cards the index lists and 100 more drawn at random
(seeded) from the rest, each with its names and up to four passages. The
packet quotes the corpus, so it stays outside the repository; `OUT/key.json`
ties each card number to its card.

A judge answers one JSON line per card: `{"n": 7, "person": true,
"merges_two": false, "same_as": [3]}` (is it a person; does it hold two or
more different people; which other card numbers of the packet are the same
person). `score` reads the answers and prints, per judge and together:
person-card precision over the random 100 and over the top 50, merges and
duplicates among the top 50, and, for two judges, their agreement.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE))

from sample import CORPUS, split_of  # type: ignore[import-not-found]  # noqa: E402

from kartoteka.archive import Archive  # noqa: E402
from kartoteka.registry.readers import RawDocument  # noqa: E402

SEED = 4711
RECORDS = 300
TOP = 50
RANDOM = 100


def draw(corpus: Path) -> list[tuple[int, dict[str, str]]]:
    rows = []
    with gzip.open(corpus, "rt", encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            r = json.loads(line)
            if split_of(r["id"]) == "test" and len(r["text"]) > 200:
                rows.append((n, r))
    random.Random(SEED).shuffle(rows)
    return sorted(rows[:RECORDS], key=lambda x: x[0])


def packet(out: Path, corpus: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    db = out / "archive.db"
    if db.exists():
        raise SystemExit(f"{db}: exists; choose a new --out")
    arch = Archive(db)
    raws = [RawDocument(f"{r['id']}#{n}", "jsonl", "bench.v1", r["text"]) for n, r in draw(corpus)]
    for res in arch.ingest(raws, workers=2, markings="record"):
        if res.error:
            print(res.error, file=sys.stderr)
    cards = arch.cards("person", limit=10**9)["cards"]
    top = cards[:TOP]
    rest = cards[TOP:]
    chosen = top + random.Random(SEED).sample(rest, min(RANDOM, len(rest)))
    key = []
    with (out / "packet.txt").open("w", encoding="utf-8") as fh:
        for n, card in enumerate(chosen, start=1):
            d = arch.dossier(card["entity_id"])
            names = [str(x) for x in d.get("aliases", [])]
            fh.write(f"=== card {n} · {card['name']} · {card['mentions']} mentions in {card['records']} records\n")
            fh.write(f"names: {'; '.join(names[:12])}\n")
            shown = 0
            for doc in d["documents"]:
                for p in doc.get("snippets", [])[:2]:
                    if shown >= 4:
                        break
                    text = " ".join(str(p.get("text", "")).split())
                    fh.write(f"  [{doc['document_id'][-6:]}] ({p.get('mention')}) {text[:400]}\n")
                    shown += 1
            fh.write("\n")
            key.append({"n": n, "entity_id": card["entity_id"], "top": n <= TOP})
    (out / "key.json").write_text(json.dumps(key, indent=1), encoding="utf-8")
    arch.close()
    print(f"{len(chosen)} cards ({len(cards)} listed) → {out / 'packet.txt'}", file=sys.stderr)


def _load(path: Path) -> dict[int, dict[str, Any]]:
    out = {}
    for line in path.open(encoding="utf-8"):
        if line.strip():
            v = json.loads(line)
            out[int(v["n"])] = v
    return out


def _scores(v: dict[int, dict[str, Any]]) -> dict[str, Any]:
    top = [x for n, x in v.items() if n <= TOP]
    rnd = [x for n, x in v.items() if n > TOP]
    dup_people = set()
    for n, x in v.items():
        if n <= TOP:
            for m in x.get("same_as", []):
                if int(m) <= TOP:
                    dup_people.add(tuple(sorted((n, int(m)))))
    return {
        "random_cards": len(rnd),
        "random_precision": round(sum(bool(x["person"]) for x in rnd) / len(rnd), 3) if rnd else None,
        "top_cards": len(top),
        "top_not_people": sum(not x["person"] for x in top),
        "top_merging_two": sum(bool(x.get("merges_two")) for x in top),
        "top_pairs_same_person": len(dup_people),
    }


def score(answers: list[Path]) -> None:
    judged = [_load(p) for p in answers]
    result: dict[str, Any] = {p.name: _scores(v) for p, v in zip(answers, judged, strict=True)}
    if len(judged) == 2:
        a, b = judged
        both = sorted(set(a) & set(b))
        agree = sum(bool(a[n]["person"]) == bool(b[n]["person"]) for n in both)
        result["agreement_person"] = round(agree / len(both), 3) if both else None
        result["both_read"] = len(both)
    print(json.dumps(result, indent=1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("packet")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--corpus", type=Path, default=CORPUS)
    s = sub.add_parser("score")
    s.add_argument("answers", type=Path, nargs="+")
    args = ap.parse_args()
    if args.cmd == "packet":
        packet(args.out, args.corpus)
    else:
        score(args.answers)


if __name__ == "__main__":
    main()
