"""Search time as a channel: does a hidden match cost a low viewer anything?

Builds an archive with 50 visible paragraphs and N hidden ones (S:HUM) that
all match one term, then times, for a U user, the median of interleaved
searches for the hidden-only term and for a term found nowhere. For
comparison it times the way search worked before label partitions: one
FTS5 query over every paragraph, hidden ones then filtered out by the policy.

    python3 -m uv run python bench/search_timing.py --hidden 3000
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from kartoteka.archive import Archive
from kartoteka.registry.readers import RawDocument


def median_ms(fn: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hidden", type=int, default=3000, help="hidden paragraphs that match")
    ap.add_argument("--runs", type=int, default=101)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.db"
        owner = Archive(path)
        visible = "\n\n".join(f"(U) Routine report {i} on the weather in the port." for i in range(50))
        hidden = "\n\n".join(f"(S//HUM) Zeppelin sighting {i} over the harbour." for i in range(args.hidden))
        list(owner.ingest([RawDocument("open.txt", "txt", "bench.v1", visible + "\n")]))
        list(owner.ingest([RawDocument("secret.txt", "txt", "bench.v1", hidden + "\n")], label="S:HUM"))
        owner.add_user("ivan", "U", [])
        owner.close()
        ivan = Archive(path, user="ivan")
        db = ivan._store.db  # type: ignore[attr-defined]
        policy = ivan._ctx.policy

        def unpartitioned(term: str) -> list[int]:
            rows = db.execute(
                "SELECT rowid FROM portions_fts WHERE portions_fts MATCH ? ORDER BY bm25(portions_fts)", (term,)
            ).fetchall()
            return [r[0] for r in rows if policy.portion_visible(r[0])]

        ivan.search("warmup")
        unpartitioned("warmup")
        rounds: dict[str, list[float]] = {k: [] for k in ("hidden", "absent", "old hidden", "old absent")}
        for _ in range(3):
            rounds["hidden"].append(median_ms(lambda: ivan.search("zeppelin"), args.runs))
            rounds["absent"].append(median_ms(lambda: ivan.search("qqxyzzy"), args.runs))
            rounds["old hidden"].append(median_ms(lambda: unpartitioned("zeppelin"), args.runs))
            rounds["old absent"].append(median_ms(lambda: unpartitioned("qqxyzzy"), args.runs))
        ivan.close()
    m = {k: statistics.median(v) for k, v in rounds.items()}
    print(f"hidden matching paragraphs: {args.hidden}, runs per median: {args.runs}, rounds: 3")
    print(f"partitioned search (Archive.search, with its audit entry): hidden-only {m['hidden']:.3f} ms, "
          f"absent {m['absent']:.3f} ms, ratio {m['hidden'] / m['absent']:.2f}")  # fmt: skip
    print(f"one FTS5 index, then the policy (before):                  hidden-only {m['old hidden']:.3f} ms, "
          f"absent {m['old absent']:.3f} ms, ratio {m['old hidden'] / m['old absent']:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
