"""Drop benchmark: submission latency and throughput over loopback, and collecting 1,000 submissions.

    python3 -m uv run python bench/drop.py [--clients 4] [--submissions 200] [--seconds 120]
                                           [--collect 1000] [--sources 100]

* submit: a real `kartoteka drop serve` process on a free 127.0.0.1 port with
  the drop's default Argon2id cost (t=3, 64 MiB, p=4: every submission hashes
  its codename once). `--sources` codenames are drawn through POST /codename
  first; then `--clients` threads send `--submissions` submissions in all
  (a 2 KiB message, every fourth with a 100 KiB file), round-robin over the
  codenames, bounded by that count and by `--seconds`. Reports p50, p99 and
  submissions per second, and the codename requests' own p50.
* collect: a drop filled in-process with `--collect` submissions (messages of
  about 600 characters from `--sources` sources, cheap hash: the hash is the
  source's cost, not the collector's), collected into a fresh archive by a
  HANDLER user; reports the wall time, per submission, and a second run's
  (idempotent: nothing ingested).

Every request goes to 127.0.0.1 only, and the load stops by itself.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kartoteka.access.roles import HANDLER  # noqa: E402
from kartoteka.archive import Archive  # noqa: E402
from kartoteka.channels.codename import KdfParams  # noqa: E402
from kartoteka.channels.collect import Collector  # noqa: E402
from kartoteka.channels.drop_store import NEWSROOM_KEY, Drop, init_drop, write_key_pair  # noqa: E402
from tests.channels.served import CODENAME, ServedDrop  # noqa: E402

NAMES = ["Arkady Zorin", "Anna Ivanova", "Duarte Mendes", "Oleg Bortnik", "Maria Holloway", "Pyotr Lebedev"]
PLACES = ["Lisbon", "Vienna", "Helsinki", "the port", "the embassy", "Sintra"]
SENTENCES = [
    "{a} met {b} in {p} on the third Tuesday of the month.",
    "The envelope was left behind the radiator at {p}; {a} collected it.",
    "{a} says {b} has been asking about the shipping manifests.",
    "Payments to {b} went through an account opened in {p}.",
    "{a} no longer trusts the courier who travels to {p}.",
]


def _percentile(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def _message(rng: random.Random, chars: int) -> str:
    out: list[str] = []
    while sum(len(x) + 1 for x in out) < chars:
        a, b = rng.sample(NAMES, 2)
        out.append(rng.choice(SENTENCES).format(a=a, b=b, p=rng.choice(PLACES)))
    return " ".join(out)


def bench_submit(tmp: Path, clients: int, submissions: int, seconds: float, sources: int) -> dict[str, Any]:
    key = tmp / "newsroom.key"
    drop = tmp / "drop-http"
    init_drop(drop, write_key_pair(key, NEWSROOM_KEY))  # default cost
    served = ServedDrop(drop)
    rng = random.Random(7)
    message = _message(rng, 2048)
    attachment = bytes(rng.getrandbits(8) for _ in range(100 * 1024))
    try:
        codenames: list[str] = []
        codename_ms: list[float] = []
        with httpx.Client(timeout=60) as c:
            for _ in range(sources):
                t = time.perf_counter()
                r = c.post(served.url + "/codename")
                codename_ms.append((time.perf_counter() - t) * 1000)
                m = CODENAME.search(r.text)
                assert m, r.text
                codenames.append(m.group(1))
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        lock = threading.Lock()
        counter = iter(range(submissions))
        deadline = time.monotonic() + seconds

        def worker() -> None:
            with httpx.Client(timeout=60) as c:
                while time.monotonic() < deadline:
                    with lock:
                        i = next(counter, None)
                    if i is None:
                        return
                    files = [("files", ("notes.bin", attachment, "application/octet-stream"))] if i % 4 == 0 else None
                    t = time.perf_counter()
                    r = c.post(
                        served.url + "/submit",
                        data={"codename": codenames[i % len(codenames)], "message": message},
                        files=files,
                    )
                    ms = (time.perf_counter() - t) * 1000
                    with lock:
                        latencies.append(ms)
                        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1

        threads = [threading.Thread(target=worker) for _ in range(clients)]
        start = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        wall = time.perf_counter() - start
    finally:
        served.stop()
    stored = sum(len(Drop(drop).submissions(s)) for s in Drop(drop).source_ids())
    return {
        "clients": clients,
        "submissions": len(latencies),
        "stored": stored,
        "statuses": statuses,
        "p50_ms": round(statistics.median(latencies), 1),
        "p99_ms": round(_percentile(latencies, 0.99), 1),
        "per_second": round(len(latencies) / wall, 2),
        "codename_p50_ms": round(statistics.median(codename_ms), 1),
    }


def bench_collect(tmp: Path, n: int, sources: int) -> dict[str, Any]:
    key = tmp / "collect.key"
    drop_path = tmp / "drop-collect"
    init_drop(drop_path, write_key_pair(key, NEWSROOM_KEY), params=KdfParams(1, 1024, 1))
    drop = Drop(drop_path)
    rng = random.Random(11)
    codenames = [drop.new_source() for _ in range(sources)]
    t = time.perf_counter()
    for i in range(n):
        drop.submit(codenames[i % sources], _message(rng, 600), [])
    fill = time.perf_counter() - t
    db = tmp / "collect.db"
    owner = Archive(db)
    owner.add_user("handler", "S", ["HUM", HANDLER])
    owner.close()
    runs = []
    for _ in range(2):
        arch = Archive(db, user="handler")
        try:
            t = time.perf_counter()
            c = Collector(arch, drop_path, key, "handler")
            results = list(c.run())
            runs.append((time.perf_counter() - t, c.summary, len(results)))
        finally:
            arch.close()
    (first, s1, docs), (second, s2, _) = runs
    return {
        "submissions": n,
        "sources": sources,
        "fill_seconds": round(fill, 1),
        "collect_seconds": round(first, 1),
        "collect_ms_per_submission": round(first / n * 1000, 1),
        "added": s1.added,
        "errors": s1.errors,
        "documents": docs,
        "again_seconds": round(second, 1),
        "again_added": s2.added,
        "again_unchanged": s2.unchanged,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--submissions", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--sources", type=int, default=20)
    ap.add_argument("--collect", type=int, default=1000)
    ap.add_argument("--collect-sources", type=int, default=100)
    ap.add_argument("--skip-submit", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="kartoteka-bench-drop-") as d:
        tmp = Path(d)
        out: dict[str, Any] = {}
        if not args.skip_submit:
            out["submit"] = bench_submit(tmp, args.clients, args.submissions, args.seconds, args.sources)
            print(json.dumps({"submit": out["submit"]}), flush=True)
        if args.collect:
            out["collect"] = bench_collect(tmp, args.collect, args.collect_sources)
            print(json.dumps({"collect": out["collect"]}), flush=True)


if __name__ == "__main__":
    main()
