"""Print sampled windows for a labeller to read (to a file outside the repository).

    python3 -m uv run python bench/cards/packet.py --from 0 --to 100 > /tmp/packet.txt

Each window is printed with its number, record, split and text; the text is
the record's own, cut at the sampled offsets, and checked against its hash.
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

from sample import CORPUS, window_hash  # type: ignore[import-not-found]

HERE = Path(__file__).parent


def windows(corpus: Path) -> list[tuple[dict[str, object], str]]:
    rows = [json.loads(line) for line in (HERE / "sample.jsonl").open(encoding="utf-8")]
    wanted = {int(r["line"]) for r in rows}
    texts: dict[int, str] = {}
    with gzip.open(corpus, "rt", encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            if n in wanted:
                texts[n] = json.loads(line)["text"]
    out = []
    for r in rows:
        text = texts[int(r["line"])][int(r["start"]) : int(r["end"])]
        if window_hash(text) != r["sha"]:
            raise SystemExit(f"window {r['window']}: the corpus text changed (hash mismatch)")
        out.append((r, text))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--from", dest="first", type=int, default=0)
    ap.add_argument("--to", dest="last", type=int, default=10**9, help="exclusive")
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    args = ap.parse_args()
    for r, text in windows(args.corpus):
        if args.first <= int(r["window"]) < args.last:  # type: ignore[call-overload]
            print(f"=== window {r['window']} · record {r['record']} · {r['agency']} · release {r['release']}")
            print(text)
            print()


if __name__ == "__main__":
    main()
