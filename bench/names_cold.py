"""A cold `kartoteka check` on an archive of a million names: the persisted name index.

    python3 -m uv run --group bench python bench/names_cold.py [--names 1000000] [--archive PATH]

Makes (once; kept at --archive for later runs) a SQLite archive holding
`--names` person cards with Faker-made multilingual names (the distractors of
bench/names/evalset.py), written through the store as an import writes them.
Then measures, each figure the median of `--runs` runs:

* the first `kartoteka check` (no index file yet: the full build, then the file written);
* a cold `kartoteka check` (a new process, process start included) with the file current,
  in this environment and with bytecode written and read (see `bytecode_env`);
* warm single queries on the loaded index (2,000 queries: labelled evaluation
  queries and index names with one slip): p50, p99;
* the index's memory: the file's size, and the resident-set growth of a
  process that loads it and runs the queries;
* a cold check after one alias (the change read in from the log), and after
  an ingest-sized change of 2,000 cards, twice: the file is rewritten only
  once 1,000 cards and 1% of the archive have changed (11,000 at a million),
  so until then every check reads those cards again;
* a batch of `--batch` names against the loaded index on 2 worker processes.

`--warm-only` measures the warm queries, memory and batch alone (`--batch 0`
skips the batch), on the index file as it is (built first if missing), and
leaves the archive unchanged: for quick iteration on the query path.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

# The repository root, so that `bench.names` is this project's evaluation set.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.names import evalset
from bench.names_speed import latencies, pct, rss_mb, speed_queries
from kartoteka.archive import Archive
from kartoteka.index.name_snapshot import snapshot_path
from kartoteka.names.frozen import Frozen
from kartoteka.names.index import NameIndex
from kartoteka.names.screen import screen

KARTOTEKA = str(Path(sys.executable).with_name("kartoteka"))


def make_archive(path: Path, n: int) -> None:
    names = list(evalset.distractors(n, seed=evalset.SEED + 1))
    arch = Archive(path)
    store = arch._ctx.store
    t0 = time.perf_counter()
    with store.transaction():
        for i, name in enumerate(names):
            eid = f"per-bench{i:08d}"
            store.create_entity(eid, "PERSON", name, "imported")
            store.add_given_names(eid, [(name, "import")])
    arch.close()
    print(f"archive of {n:,} cards written in {time.perf_counter() - t0:.0f} s", file=sys.stderr)


def cold_check(path: Path, name: str, env: dict[str, str] | None = None) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        [KARTOTEKA, "--archive", str(path), "check", name, "--json"], check=True, capture_output=True, env=env
    )
    return time.perf_counter() - t0


def bytecode_env(folder: Path) -> dict[str, str]:
    """The environment with bytecode written and read (to `folder`, not beside the
    sources): as an installed package runs. With PYTHONDONTWRITEBYTECODE set, as
    on the benchmark machine, every process compiles every module it imports."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(folder)
    return env


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--names", type=int, default=1_000_000)
    ap.add_argument("--archive", type=Path, default=Path("/tmp/kartoteka-bench/names-1m.db"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--batch", type=int, default=100_000)
    ap.add_argument("--warm-only", action="store_true", help="only the warm queries, memory and batch")
    args = ap.parse_args()
    path: Path = args.archive
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        make_archive(path, args.names)
    index_file = snapshot_path(path)
    report: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "load_average": os.getloadavg()[0],
        "python_dont_write_bytecode": bool(os.environ.get("PYTHONDONTWRITEBYTECODE")),
    }

    if args.warm_only:
        if not index_file.exists():
            cold_check(path, "Ivan Petrov")
    else:
        cold_part(path, index_file, args.runs, report)

    rng = random.Random(7)
    report["load_average_warm"] = os.getloadavg()[0]
    before = rss_mb()
    t0 = time.perf_counter()
    index = NameIndex(Frozen.load(index_file))
    report["load_ms"] = round((time.perf_counter() - t0) * 1000, 2)
    report["records"] = len(index)
    names = list(evalset.distractors(20_000, seed=evalset.SEED + 1))  # the archive's first names
    lat = latencies(index, speed_queries(names, rng))
    report["warm_p50_ms"] = round(pct(lat, 0.5) * 1000, 3)
    report["warm_p99_ms"] = round(pct(lat, 0.99) * 1000, 3)
    report["index_rss_growth_mb"] = round(rss_mb() - before)

    if args.batch > 0:
        report["load_average_batch"] = os.getloadavg()[0]
        batch_part(index, names, rng, args.batch, report)
    del index
    if not args.warm_only:
        changes_part(path, report)
    print(json.dumps(report, indent=2))


def cold_part(path: Path, index_file: Path, runs: int, report: dict[str, Any]) -> None:
    index_file.unlink(missing_ok=True)
    report["first_check_s"] = round(cold_check(path, "Ivan Petrov"), 2)
    report["file_mb"] = round(index_file.stat().st_size / 2**20)
    queries = ["Arkady Zorin", "Ли Харви Освальд", "Silvia Duran", "J. Lee Rankin", "Kruschev"]
    cold = [cold_check(path, queries[i % len(queries)]) for i in range(runs)]
    report["cold_check_s_median"] = round(statistics.median(cold), 3)
    report["cold_check_s_runs"] = [round(c, 3) for c in cold]
    env = bytecode_env(path.parent / "pycache")
    cold_check(path, queries[0], env)  # writes the bytecode
    cold = [cold_check(path, queries[i % len(queries)], env) for i in range(runs)]
    report["cold_check_bytecode_s_median"] = round(statistics.median(cold), 3)
    report["cold_check_bytecode_s_runs"] = [round(c, 3) for c in cold]
    # Python alone: what the process costs before any archive work.
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    report["python_start_s"] = round(time.perf_counter() - t0, 3)


def batch_part(index: NameIndex, names: list[str], rng: random.Random, size: int, report: dict[str, Any]) -> None:
    batch = [n if rng.random() < 0.5 else evalset.typo(n, rng) for n in rng.sample(names, min(size, len(names)))]
    batch = (batch * (size // len(batch) + 1))[:size]
    t0 = time.perf_counter()
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert sum(1 for _ in screen(index, batch, limit=5, workers=2)) == len(batch)
    report["batch_names"] = len(batch)
    report["batch_s"] = round(time.perf_counter() - t0, 1)
    # The workers' processor time (both, user and system): what the batch
    # costs whatever else the machine runs; half of it is the wall time of an
    # idle 2-core machine.
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    report["batch_worker_cpu_s"] = round(cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime, 1)


def changes_part(path: Path, report: dict[str, Any]) -> None:
    arch = Archive(path)
    try:
        arch.alias("per-bench00000007", "Anton Sorokin")
    finally:
        arch.close()
    report["cold_check_after_alias_s"] = round(cold_check(path, "Anton Sorokin"), 3)
    arch = Archive(path)
    try:
        store = arch._ctx.store
        with store.transaction():
            for i in range(100, 2100):
                store.add_given_names(f"per-bench{i:08d}", [(f"Pyotr Bench{i}", "analyst")])
    finally:
        arch.close()
    report["cold_check_after_2000_changed_s"] = round(cold_check(path, "Pyotr Bench150"), 3)
    report["cold_check_next_s"] = round(cold_check(path, "Pyotr Bench150"), 3)


if __name__ == "__main__":
    main()
