"""The sample of JFK development records the card-index gold set labels.

Seeded and stratified: records are drawn by agency (the first part of the
record id: 104 CIA, 124 FBI, 180 HSCA, 157 SSCI, docid NARA, the rest
pooled) and release, and from each up to five paragraphs as the layout of
the time cut them (40–1,200 characters of mostly letters). Each record goes
whole to one split, train, dev or test (60/20/20 by a hash of its id), before
anyone looks at a label: tune on train and dev, measure on test once.

The corpus holds some ids twice (different releases of one record), so a
record is named by its id and its line in the corpus file. The sample holds
record ids and character offsets into the record's text,
with a hash of each window, never the text itself (the corpus is not ours
to copy). `packet.py` prints the windows for a labeller to read.

    python3 -m uv run python bench/cards/sample.py > bench/cards/sample.jsonl
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parents[1]))

from kartoteka.registry.structure import analyse  # noqa: E402

CORPUS = HERE.parents[2] / "shared" / "corpus" / "jfk-records-dev.jsonl.gz"
SEED = 2027
QUOTAS = {"104": 200, "docid": 50, "124": 30, "180": 20, "other": 30}
PER_RECORD = 5


def agency(record_id: str) -> str:
    head = record_id.split("-")[0]
    return head if head in QUOTAS else "other"


def split_of(record_id: str) -> str:
    bucket = int(hashlib.sha256(record_id.encode()).hexdigest(), 16) % 10
    return "train" if bucket < 6 else "dev" if bucket < 8 else "test"


def window_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def eligible(text: str) -> bool:
    letters = sum(c.isalpha() for c in text)
    return 40 <= len(text) <= 1200 and letters >= 0.6 * len(text.replace(" ", "").replace("\n", ""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    args = ap.parse_args()
    by_agency: dict[str, list[dict[str, Any]]] = defaultdict(list)
    with gzip.open(args.corpus, "rt", encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            rec = json.loads(line)
            if len(rec["text"]) >= 200:
                by_agency[agency(rec["id"])].append({**rec, "line": n})
    rng = random.Random(SEED)
    out = []
    for ag, quota in QUOTAS.items():
        pool = sorted(by_agency[ag], key=lambda r: (r["id"], r["line"]))
        for rec in rng.sample(pool, min(quota, len(pool))):
            text = rec["text"]
            windows = [p for p in analyse(text).portions if p.kind == "text" and eligible(text[p.start : p.end])]
            for p in sorted(rng.sample(windows, min(PER_RECORD, len(windows))), key=lambda p: p.start):
                out.append(
                    {
                        "record": rec["id"],
                        "line": rec["line"],
                        "release": rec["release"],
                        "agency": ag,
                        "split": split_of(rec["id"]),
                        "start": p.start,
                        "end": p.end,
                        "sha": window_hash(text[p.start : p.end]),
                    }
                )
    for n, row in enumerate(out):
        print(json.dumps({"window": n, **row}, ensure_ascii=False))


if __name__ == "__main__":
    main()
