"""Web page render times: search, dossier and link chart, over loopback, on an archive of JFK records.

    python3 -m uv run python bench/web_pages.py [--records 10000] [--workers 1] [--runs 40]

Builds (once, cached under bench/out/web-pages-N/) an archive of the first N
records of ../shared/corpus/jfk-records-dev.jsonl.gz with the command line a
user runs: `kartoteka ingest` (resumable: an interrupted build goes on where
it stopped), `kartoteka relations`, and two users, an owner `admin` and a
clerk `clerk` cleared for U. Use `--workers 2` only on an idle machine.
Skips cleanly (exit 0, a message) without the corpus.

Then runs a real `kartoteka serve` on a free loopback port, logs in through
the log-in form as each user, and times whole page loads with one client
(request sent to last byte read): `/search?q=WORD` for a handful of words,
`/dossier/ID` and `/chart/ID` (the page) and `/chart/ID.json` (what its
script loads, which is also what expanding a node fetches) for the 10 people
with the most visible mentions. Each URL is fetched once to warm the
server's caches, then `--runs` times in rotation; p50 and p99 per page kind
and user, and the largest neighbourhood's node count beside its JSON time.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import re
import socket
import statistics
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "jfk-records-dev.jsonl.gz"
OUT = ROOT / "bench" / "out"
USERS = {"admin": ("OWNER", "bench owner passphrase"), "clerk": ("U", "bench clerk passphrase")}
WORDS = ["Oswald", "Mexico City", "Cuba", "Ruby", "embassy", "Dallas"]
PEOPLE = 10


def kartoteka(archive: Path, *args: str, stdin: str | None = None) -> None:
    cmd = [sys.executable, "-m", "kartoteka.cli", "--archive", str(archive), *args]
    subprocess.run(cmd, input=stdin, text=True, check=True)


def build(records: int, workers: int) -> Path:
    """The cached archive of the first `records` records; built (or finished) if its marker is missing."""
    folder = OUT / f"web-pages-{records}"
    archive = folder / "archive.db"
    done = folder / "built.json"
    if done.is_file():
        return archive
    folder.mkdir(parents=True, exist_ok=True)
    sample = folder / f"jfk-first-{records}.jsonl.gz"
    if not sample.is_file():
        part = sample.with_suffix(".partial")
        with gzip.open(CORPUS, "rt", encoding="utf-8") as src, gzip.open(part, "wt", encoding="utf-8") as dst:
            for line in itertools.islice(src, records):
                dst.write(line)
        part.rename(sample)
    started = time.monotonic()
    kartoteka(archive, "ingest", str(sample), "--workers", str(workers))
    ingest_s = time.monotonic() - started
    kartoteka(archive, "relations")
    for user, (clearance, password) in USERS.items():
        kartoteka(archive, "user", "add", user, "--clearance", clearance, "--password-stdin", stdin=password + "\n")
    done.write_text(json.dumps({"records": records, "ingest_seconds": round(ingest_s, 1), "workers": workers}))
    return archive


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(archive: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    cmd = [sys.executable, "-m", "kartoteka.cli", "--archive", str(archive), "serve", "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    until = time.monotonic() + 120
    while time.monotonic() < until:
        try:
            if httpx.get(url + "/login", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("kartoteka serve did not answer within 120 s")


def login(url: str, user: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=120)
    form = client.get("/login").text
    token = re.search(r'name="login_token" value="([^"]+)"', form)
    assert token, "no log-in token"
    r = client.post(
        "/login",
        data={"user": user, "password": USERS[user][1], "login_token": token.group(1), "next": "/"},
        headers={"Origin": url},
    )
    assert r.status_code == 303, r.status_code
    return client


def people(archive: Path) -> list[str]:
    from kartoteka.archive import Archive

    arch = Archive(archive, user="clerk")
    try:
        return [c["entity_id"] for c in arch.cards(kind="person", limit=PEOPLE)["cards"]]
    finally:
        arch.close()


def stored(archive: Path) -> int:
    from kartoteka.archive import Archive

    arch = Archive(archive)
    try:
        return int(arch.stats()["documents"])
    finally:
        arch.close()


def timed(client: httpx.Client, path: str) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    r = client.get(path)
    _ = r.content
    return (time.perf_counter() - started) * 1000, r


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(client: httpx.Client, kinds: dict[str, list[str]], runs: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind, paths in kinds.items():
        for p in paths:  # warm the server's caches (name index, graphs) once per URL
            _, r = timed(client, p)
            assert r.status_code == 200, (p, r.status_code)
        times = [timed(client, p)[0] for _, p in zip(range(runs), itertools.cycle(paths), strict=False)]
        out[kind] = {
            "n": len(times),
            "p50_ms": round(statistics.median(times), 1),
            "p99_ms": round(pct(times, 0.99), 1),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=10_000)
    ap.add_argument("--workers", type=int, default=1, help="ingest workers (2 only on an idle machine)")
    ap.add_argument("--runs", type=int, default=40, help="timed requests per page kind and user")
    ap.add_argument("--build-only", action="store_true")
    args = ap.parse_args()
    if not CORPUS.is_file():
        print(f"skipped: {CORPUS} is missing (the JFK development records live in ../shared)")
        return
    archive = build(args.records, args.workers)
    if args.build_only:
        return
    ids = people(archive)
    kinds = {
        "search": [f"/search?q={w}" for w in WORDS],
        "dossier": [f"/dossier/{e}" for e in ids],
        "chart": [f"/chart/{e}" for e in ids],
        "chart.json": [f"/chart/{e}.json" for e in ids],
    }
    proc, url = serve(archive)
    try:
        report: dict[str, Any] = {
            "records": args.records,
            "documents": stored(archive),  # what the archive holds: a build stopped early holds fewer
            "built": json.loads((archive.parent / "built.json").read_text()),
        }
        for user in USERS:
            with closing(login(url, user)) as client:
                report[user] = measure(client, kinds, args.runs)
                sizes = {e: len(client.get(f"/chart/{e}.json").json()["nodes"]) for e in ids}
                biggest = max(sizes, key=lambda e: sizes[e])
                times = [timed(client, f"/chart/{biggest}.json")[0] for _ in range(args.runs)]
                report[user]["largest_chart"] = {"nodes": sizes[biggest], "p50_ms": round(statistics.median(times), 1)}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
