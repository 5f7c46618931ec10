"""Server benchmark: log-in memory under a password-guessing burst, and req/s for one user vs several.

    python3 -m uv run python bench/server.py [--tree PATH] [--records 200] [--archive FILE]
                                             [--seconds 20] [--clients 10]

`--tree` runs the server from another checkout of Kartoteka (for a before/after
figure: `git archive HEAD | tar -x -C /tmp/before`), with this environment's
packages. The archive is built by that tree from the first N JFK records of
../shared/corpus/jfk-records-dev.jsonl.gz, every other one labelled TS, with
users u1..u5 (U) and t1 (TS); `--archive` reuses one built before.

* logins: 40 concurrent log-ins with a wrong password against a fresh
  server; the server's resident set is sampled every 10 ms. Reports the RSS
  before and at its peak, and the status codes returned.
* load: `--clients` threads for `--seconds` each, spread over 1 user and then
  over 5 users, each looping over check, search, dossier, documents and stats.
  Reports req/s, p50, p99 and the status codes.

`--postgres postgresql://USER@HOST/DB` runs the load again on the same archive
in PostgreSQL (exported from the SQLite file and imported into a new schema
of that database, dropped afterwards), for figures side by side. `--save
FILE` keeps the SQLite archive built (with its side files) for `--archive`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "jfk-records-dev.jsonl.gz"
PASSWORD = "bench password"

BUILD = """
import gzip, itertools, json, sys
from kartoteka.archive import Archive
from kartoteka.registry.readers import RawDocument
path, corpus, n, password = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
arch = Archive(path)
with gzip.open(corpus, "rt", encoding="utf-8") as fh:
    rows = [json.loads(line) for line in itertools.islice(fh, n)]
docs = lambda k: (RawDocument(str(r["id"]), "jsonl", "kartoteka.reader.jsonl.v1", r["text"]) for r in rows[k::2])
list(arch.ingest(docs(0)))
list(arch.ingest(docs(1), label="TS"))
for i in range(1, 6):
    arch.add_user(f"u{i}", "U", [], password)
arch.add_user("t1", "TS", [], password)
print(arch.stats())
arch.close()
"""


def _env(tree: Path) -> dict[str, str]:
    # Run from the tree itself too: `python -c` and `-m` put the working directory first on sys.path.
    return {**os.environ, "PYTHONPATH": str(tree)}


def build(tree: Path, path: Path, n: int) -> None:
    subprocess.run(
        [sys.executable, "-c", BUILD, str(path), str(CORPUS), str(n), PASSWORD], env=_env(tree), cwd=tree, check=True
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def to_postgres(tree: Path, archive: Path, database: str, folder: Path) -> str:
    """The archive exported and imported into a new schema of `database`; its URL."""
    schema = f"bench_{os.getpid()}_{int(time.time())}"
    url = f"{database}?schema={schema}&keys={folder / 'keys'}"
    cli = [sys.executable, "-m", "kartoteka.cli"]
    env = _env(tree)
    subprocess.run([*cli, "--archive", str(archive), "export", str(folder / "export")], env=env, cwd=tree, check=True)
    subprocess.run([*cli, "--archive", url, "import", str(folder / "export")], env=env, cwd=tree, check=True)
    return url


def drop_schema(url: str) -> None:
    import psycopg

    database, query = url.split("?", 1)
    schema = dict(kv.split("=", 1) for kv in query.split("&"))["schema"]
    with psycopg.connect(database, autocommit=True) as db:
        for name in (schema, f"{schema}_trail", f"{schema}_sessions"):
            db.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


class Server:
    def __init__(self, tree: Path, archive: Path | str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "kartoteka.cli", "--archive", str(archive), "serve", "--port", str(self.port)]
        self.proc = subprocess.Popen(
            cmd, env=_env(tree), cwd=tree, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/openapi.json", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the server did not start")

    def rss(self) -> int:
        return int(psutil.Process(self.proc.pid).memory_info().rss)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def logins(tree: Path, archive: Path | str, n: int = 40) -> dict[str, object]:
    server = Server(tree, archive)
    try:
        before = server.rss()
        peak = before
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, server.rss())
                time.sleep(0.01)

        codes: Counter[int] = Counter()
        lock = threading.Lock()
        barrier = threading.Barrier(n)

        def attempt() -> None:
            with httpx.Client(base_url=server.url, timeout=120) as c:
                barrier.wait()
                r = c.post("/api/login", json={"user": "u1", "password": "wrong"})
            with lock:
                codes[r.status_code] += 1

        sampler = threading.Thread(target=sample)
        sampler.start()
        start = time.perf_counter()
        threads = [threading.Thread(target=attempt) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        took = time.perf_counter() - start
        done.set()
        sampler.join()
        return {
            "rss_before_mb": round(before / 2**20),
            "rss_peak_mb": round(peak / 2**20),
            "seconds": round(took, 2),
            "codes": dict(sorted(codes.items())),
        }
    finally:
        server.stop()


QUERIES = [
    "/api/check?name=Lee%20Harvey%20Oswald",
    "/api/search?q=Mexico",
    "/api/dossier/Lee%20Harvey%20Oswald",
    "/api/documents?limit=20",
    "/api/stats",
    "/api/check?name=Fidel%20Castro",
    "/api/search?q=embassy",
]


def _quantiles(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    q = statistics.quantiles(ordered, n=100) if len(ordered) > 1 else [ordered[0] if ordered else 0.0] * 99
    return {"p50_ms": round(q[49] * 1000, 1), "p99_ms": round(q[98] * 1000, 1)}


def load(tree: Path, archive: Path | str, users: int, clients: int, seconds: float, stats: bool) -> dict[str, object]:
    queries = [q for q in QUERIES if stats or q != "/api/stats"]
    server = Server(tree, archive)
    try:
        times: list[float] = []
        by_kind: dict[str, list[float]] = {}
        codes: Counter[int] = Counter()
        lock = threading.Lock()
        stop_at = time.monotonic() + seconds
        rss: list[tuple[float, int]] = []  # (seconds since start, resident set) once a second
        done = threading.Event()

        def sample() -> None:
            t0 = time.monotonic()
            while not done.is_set():
                rss.append((time.monotonic() - t0, server.rss()))
                done.wait(1.0)

        def client(k: int) -> None:
            with httpx.Client(base_url=server.url, timeout=300) as c:
                r = c.post("/api/login", json={"user": f"u{k % users + 1}", "password": PASSWORD})
                headers = {"Authorization": f"Bearer {r.json()['token']}"}
                for q in itertools.cycle(queries[k % len(queries) :] + queries[: k % len(queries)]):
                    if time.monotonic() >= stop_at:
                        return
                    t0 = time.perf_counter()
                    status = c.get(q, headers=headers).status_code
                    took_s = time.perf_counter() - t0
                    with lock:
                        times.append(took_s)
                        by_kind.setdefault(q.split("?")[0].split("/")[2], []).append(took_s)
                        codes[status] += 1

        sampler = threading.Thread(target=sample)
        sampler.start()
        start = time.perf_counter()
        threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        took = time.perf_counter() - start
        done.set()
        sampler.join()
        # Memory flat? The median resident set of the first and of the last tenth of the run.
        tenth = max(1, len(rss) // 10)
        first = statistics.median(r for _, r in rss[:tenth]) if rss else 0
        last = statistics.median(r for _, r in rss[-tenth:]) if rss else 0
        return {
            "users": users,
            "clients": clients,
            "requests": len(times),
            "req_per_s": round(len(times) / took, 1),
            **_quantiles(times),
            "per_kind": {k: {"requests": len(v), **_quantiles(v)} for k, v in sorted(by_kind.items())},
            "rss_first_tenth_mb": round(first / 2**20),
            "rss_last_tenth_mb": round(last / 2**20),
            "rss_peak_mb": round(max((r for _, r in rss), default=0) / 2**20),
            "codes": dict(sorted(codes.items())),
        }
    finally:
        server.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tree", type=Path, default=ROOT, help="Kartoteka checkout to run the server from.")
    ap.add_argument("--records", type=int, default=200)
    ap.add_argument("--archive", type=Path, help="An archive built by this script before (copied, not changed).")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--skip-logins", action="store_true")
    ap.add_argument("--postgres", help="Also run the load on PostgreSQL: postgresql://USER@HOST/DB.")
    ap.add_argument("--save", type=Path, help="Keep the SQLite archive built here (and its side files).")
    ap.add_argument(
        "--no-stats", action="store_true", help="Leave /api/stats out of the load (it hangs before the fix)."
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "server.db"
        suffixes = ("", ".audit.sqlite", ".audit-key", ".audit-anchors", ".sources-key")
        if args.archive:
            for suffix in suffixes:
                src = Path(f"{args.archive}{suffix}")
                if src.exists():
                    shutil.copy(src, f"{path}{suffix}")
        else:
            build(args.tree, path, args.records)
            if args.save:
                for suffix in suffixes:
                    if Path(f"{path}{suffix}").exists():
                        shutil.copy(f"{path}{suffix}", f"{args.save}{suffix}")
        out: dict[str, object] = {"tree": str(args.tree)}
        if not args.skip_logins:
            out["logins"] = logins(args.tree, path)
        out["load"] = [load(args.tree, path, u, args.clients, args.seconds, not args.no_stats) for u in (1, 5)]
        if args.postgres:
            url = to_postgres(args.tree, path, args.postgres, Path(tmp))
            try:
                out["load_postgres"] = [
                    load(args.tree, url, u, args.clients, args.seconds, not args.no_stats) for u in (1, 5)
                ]
            finally:
                drop_schema(url)
        print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
