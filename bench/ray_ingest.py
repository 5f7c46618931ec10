"""Ingest throughput on a local Ray cluster with 1 and with 2 CPUs (issue 15).

    python3 -m uv run python bench/ray_ingest.py --records 300

Reads N records of the JFK development corpus (../shared/corpus), writes
them as one text file each (so that reading is a Ray task per file), and
ingests them into a fresh archive with `--ray` on a local cluster of 1 and of
2 CPUs (one NER actor per CPU), `--repeat` times each, in alternation. Prints
the median seconds, records per second, and the speed-up of 2 over 1.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "jfk-records-dev.jsonl.gz"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if not CORPUS.exists():
        sys.exit(f"{CORPUS} is missing")
    work = Path(tempfile.mkdtemp(prefix="ray-bench-"))
    folder = work / "records"
    folder.mkdir()
    with gzip.open(CORPUS, "rt", encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            if n >= args.records:
                break
            rec = json.loads(line)
            (folder / f"{n:05d}.txt").write_text(rec["text"], encoding="utf-8")
    times: dict[int, list[float]] = {1: [], 2: []}
    env = {**os.environ, "RAY_ENABLE_UV_RUN_RUNTIME_ENV": "0"}
    for r in range(args.repeat):
        for cpus in (1, 2):
            db = work / f"a-{cpus}-{r}.db"
            # A fresh local cluster of `cpus` CPUs per run (the CLI starts one: --workers sets its CPUs).
            cmd = [sys.executable, "-m", "kartoteka.cli", "--archive", str(db), "ingest", "--ray", "auto",
                   "--workers", str(cpus), str(folder), "--json"]  # fmt: skip
            start = time.perf_counter()
            done = subprocess.run(cmd, capture_output=True, text=True, env=env)
            elapsed = time.perf_counter() - start
            if done.returncode != 0:
                sys.exit(done.stderr[-2000:])
            times[cpus].append(elapsed)
            print(f"run {r + 1}, {cpus} CPU: {elapsed:.1f} s", file=sys.stderr)
    one, two = statistics.median(times[1]), statistics.median(times[2])
    print(json.dumps({
        "records": args.records, "repeat": args.repeat,
        "median_s_1cpu": round(one, 1), "median_s_2cpu": round(two, 1),
        "records_per_s_1cpu": round(args.records / one, 2), "records_per_s_2cpu": round(args.records / two, 2),
        "speedup": round(one / two, 2),
    }, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
