"""Soak benchmark (issue "Reliability hardening"): the server under load while ingests and CLI reads run.

    python3 -m uv run python bench/soak.py [--minutes 10] [--records 200] [--archive FILE] [--tree DIR]
                                           [--ingests 2] [--workdir DIR] [--out FILE] [--json]

`--tree` runs every process (server, ingests, CLI reads) from another
checkout, with this environment's packages: in a shared working tree, code
edited during a run would otherwise reach the processes started after the
edit (`git archive HEAD | tar -x -C DIR` freezes it). `--ingests 0` is a
control run whose archive does not grow.

Builds an archive from the first `--records` JFK records of
../shared/corpus/jfk-records-dev.jsonl.gz (every other one labelled TS, as
bench/server.py does; relations extracted so that links and network have
edges) with three users of different clearances and passwords: `uma` (U),
`sam` (S:HUM), `tess` (TS). `--archive` reuses one built before (copied, not
changed); `--build FILE` only builds one.

Then, for `--minutes`, at the same time:

* a real `kartoteka serve` on a free port, and 3 users x 4 client threads
  (httpx, one session per thread, logged in again on a 401) looping over
  check, batch check (20 names), search, dossier, documents, one document,
  links, network, cooccur, timeline and stats, with ids taken from what that
  user was shown; and two probes whose 404 is expected (see EXPECTED_404);
* two `kartoteka ingest --json` processes, each writing a fresh JSONL slice
  of further JFK records (`--slice` records, from record 1,000 and from
  record 6,000; the first U, the second TS) and ingesting it, in a loop;
* a third process loop of CLI reads: `kartoteka --archive A search/check/
  stats/dossier --json`.

Nothing new starts once the time is up; ingests in flight finish. Then the
server is stopped (SIGTERM, which anchors the audit head) and `kartoteka
audit verify --json` is run.

Reports req/s, p50/p99 (overall and per endpoint), status codes, every
non-2xx that is not an expected 404, transport errors, failed CLI reads and
ingests, the server's resident set (at launch, after the warm-up, at the end,
peak, and every 10 s), the load average, and the verify result.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "jfk-records-dev.jsonl.gz"
PASSWORD = "soak password"
USERS = {"uma": "U", "sam": "S:HUM", "tess": "TS"}
CLIENTS_PER_USER = 4
# Where the two ingest loops take their records from (record numbers in the corpus).
INGEST_FROM = (1000, 6000)
INGEST_LABELS = ("U", "TS")
NAMES = ["Lee Harvey Oswald", "Fidel Castro", "Jack Ruby", "John F. Kennedy", "Richard Helms", "Allen Dulles"]
TERMS = ["Mexico", "embassy", "Oswald", "Cuba", "passport", "Havana"]
# A 404 is expected only from these probes: a document id that only TS may
# see, asked by uma and sam, and a dossier for an id that does not exist.
# Every other 404 (an id the user was shown) counts as an error.
EXPECTED_404 = ("hidden-document", "missing-dossier")
MISSING_ID = "E-no-such-entity"

BUILD = """
import gzip, itertools, json, sys
from kartoteka.archive import Archive
from kartoteka.registry.readers import RawDocument
path, corpus, n, password, relations = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5] == "1"
users = json.loads(sys.argv[6])
arch = Archive(path)
with gzip.open(corpus, "rt", encoding="utf-8") as fh:
    rows = [json.loads(line) for line in itertools.islice(fh, n)]
docs = lambda k: (RawDocument(str(r["id"]), "jsonl", "kartoteka.reader.jsonl.v1", r["text"]) for r in rows[k::2])
list(arch.ingest(docs(0)))
list(arch.ingest(docs(1), label="TS"))
if relations:
    print(arch.build_relations())
for name, clearance in users.items():
    level, _, tokens = clearance.partition(":")
    arch.add_user(name, level, [t for t in tokens.split(",") if t], password)
print(arch.stats())
arch.close()
"""


def build(path: Path, n: int, relations: bool) -> None:
    subprocess.run(
        [sys.executable, "-c", BUILD, str(path), str(CORPUS), str(n), PASSWORD, "1" if relations else "0",
         json.dumps(USERS)],
        cwd=TREE, env=_env(), check=True,
    )  # fmt: skip


def copy_archive(src: Path, dst: Path) -> None:
    for suffix in ("", "-wal", ".audit.sqlite", ".audit.sqlite-wal", ".audit-key", ".audit-anchors", ".sources-key"):
        s = Path(f"{src}{suffix}")
        if s.exists():
            shutil.copy(s, f"{dst}{suffix}")
    segments = Path(f"{src}.audit-segments")
    if segments.is_dir():
        shutil.copytree(segments, f"{dst}.audit-segments")


# The checkout every process runs from (`--tree`). The shared working tree
# changes while a soak runs; a frozen copy (`git archive HEAD | tar -x -C DIR`)
# keeps every process on the same code.
TREE = ROOT


def _env() -> dict[str, str]:
    # `python -m` puts the working directory first on sys.path; PYTHONPATH makes sure.
    return {**os.environ, "PYTHONPATH": str(TREE)}


def cli(archive: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "kartoteka.cli", "--archive", str(archive), *args]
    return subprocess.run(cmd, cwd=TREE, env=_env(), capture_output=True, text=True, timeout=timeout)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def quantiles(xs: list[float]) -> tuple[float, float]:
    if len(xs) < 2:
        return (xs[0], xs[0]) if xs else (0.0, 0.0)
    q = statistics.quantiles(xs, n=100)
    return q[49], q[98]


class Server:
    """`kartoteka serve` as a process; its stderr goes to `log`."""

    def __init__(self, archive: Path, log: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        cmd = [sys.executable, "-m", "kartoteka.cli", "--archive", str(archive), "serve", "--port", str(self.port)]
        with log.open("wb") as fh:
            self.proc = subprocess.Popen(cmd, cwd=TREE, env=_env(), stdout=subprocess.DEVNULL, stderr=fh)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/openapi.json", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("the server did not start")

    def rss(self) -> int:
        return int(psutil.Process(self.proc.pid).memory_info().rss)

    def stop(self) -> tuple[int, float]:
        t0 = time.perf_counter()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        return rc, time.perf_counter() - t0


@dataclass
class Tally:
    """What every client thread saw, under one lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    codes: Counter[int] = field(default_factory=Counter)
    bad: Counter[str] = field(default_factory=Counter)  # "endpoint status" of unexpected non-2xx
    bodies: dict[str, str] = field(default_factory=dict)  # one body of each
    transport: Counter[str] = field(default_factory=Counter)
    expected_404: int = 0
    logins: int = 0
    relogins: int = 0

    def add(self, endpoint: str, seconds: float, status: int, body: str) -> None:
        with self.lock:
            self.times[endpoint].append(seconds)
            self.codes[status] += 1
            if status == 404 and endpoint in EXPECTED_404:
                self.expected_404 += 1
            elif not 200 <= status < 300:
                key = f"{endpoint} {status}"
                self.bad[key] += 1
                self.bodies.setdefault(key, body[:300])


class Client(threading.Thread):
    def __init__(self, url: str, user: str, k: int, hidden: list[str], stop_at: float, tally: Tally) -> None:
        super().__init__(name=f"{user}-{k}", daemon=True)
        self.url, self.user, self.k, self.hidden, self.stop_at, self.tally = url, user, k, hidden, stop_at, tally
        self.headers: dict[str, str] = {}

    def login(self, c: httpx.Client) -> None:
        while True:
            r = c.post("/api/login", json={"user": self.user, "password": PASSWORD})
            if r.status_code == 200:
                self.headers = {"Authorization": f"Bearer {r.json()['token']}"}
                with self.tally.lock:
                    self.tally.logins += 1
                return
            with self.tally.lock:
                self.tally.bad[f"login {r.status_code}"] += 1
                self.tally.bodies.setdefault(f"login {r.status_code}", r.text[:300])
            if time.monotonic() >= self.stop_at:
                raise TimeoutError("could not log in")
            time.sleep(float(r.headers.get("Retry-After", "1")))

    def call(self, c: httpx.Client, endpoint: str, method: str, url: str, body: Any = None) -> Any:
        for attempt in range(2):
            t0 = time.perf_counter()
            try:
                r = c.request(method, url, headers=self.headers, json=body)
            except httpx.HTTPError as exc:
                with self.tally.lock:
                    self.tally.transport[f"{endpoint} {type(exc).__name__}"] += 1
                return None
            took = time.perf_counter() - t0
            if r.status_code == 401 and attempt == 0:
                with self.tally.lock:
                    self.tally.relogins += 1
                    self.tally.bad[f"{endpoint} 401"] += 1
                self.login(c)
                continue
            self.tally.add(endpoint, took, r.status_code, r.text)
            return r.json() if r.status_code == 200 and "json" in r.headers.get("content-type", "") else None
        return None

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=120) as c:
            try:
                self.login(c)
            except TimeoutError:
                return
            docs = self.call(c, "documents", "GET", "/api/documents?limit=100") or {"documents": []}
            doc_ids = [d["id"] for d in docs["documents"]]
            eids: list[str] = []
            for name in NAMES:
                found = self.call(c, "check", "GET", f"/api/check?name={name}") or {"matches": []}
                eids += [m["entity_id"] for m in found["matches"][:2] if m["score"] >= 0.7]
            eids = list(dict.fromkeys(eids)) or [MISSING_ID]
            batch = {"names": [{"query_id": str(i), "name": n} for i, n in enumerate(NAMES * 4)][:20]}
            steps: list[tuple[str, Callable[[int], tuple[str, str, Any]]]] = [
                ("check", lambda i: ("GET", f"/api/check?name={NAMES[i % len(NAMES)]}", None)),
                ("check-batch", lambda i: ("POST", "/api/check/batch", batch)),
                ("search", lambda i: ("GET", f"/api/search?q={TERMS[i % len(TERMS)]}&limit=20", None)),
                ("dossier", lambda i: ("GET", f"/api/dossier/{eids[i % len(eids)]}", None)),
                ("documents", lambda i: ("GET", f"/api/documents?limit=50&offset={(i * 10) % 50}", None)),
                ("links", lambda i: ("GET", f"/api/links?a={eids[i % len(eids)]}&b={eids[(i + 1) % len(eids)]}", None)),
                ("network", lambda i: ("GET", f"/api/network/{eids[i % len(eids)]}?depth={1 + i % 2}", None)),
                ("cooccur", lambda i: ("GET", f"/api/cooccur?a={eids[i % len(eids)]}&b={eids[(i + 1) % len(eids)]}", None)),
                ("timeline", lambda i: ("GET", f"/api/timeline/{eids[i % len(eids)]}", None)),
                ("stats", lambda i: ("GET", "/api/stats", None)),
                ("missing-dossier", lambda i: ("GET", f"/api/dossier/{MISSING_ID}", None)),
            ]  # fmt: skip
            if doc_ids:
                steps.append(("document", lambda i: ("GET", f"/api/documents/{doc_ids[i % len(doc_ids)]}", None)))
            if self.hidden:
                steps.append(("hidden-document", lambda i: ("GET", f"/api/documents/{self.hidden[i % len(self.hidden)]}", None)))  # fmt: skip
            # Each thread starts at another step, so the endpoints are mixed at every moment.
            order = steps[self.k :] + steps[: self.k]
            for i in itertools.count():
                for endpoint, make in order:
                    if time.monotonic() >= self.stop_at:
                        return
                    self.call(c, endpoint, *make(i))


@dataclass
class Loop:
    """A process loop (ingest or CLI reads): runs, failures and what they said."""

    runs: int = 0
    failures: int = 0
    seconds: list[float] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # the first few, one line each
    counts: Counter[str] = field(default_factory=Counter)

    def fail(self, what: str) -> None:
        self.failures += 1
        if len(self.failed) < 10:
            self.failed.append(what[:400])


def ingest_loop(archive: Path, tmp: Path, k: int, size: int, stop_at: float, out: Loop) -> None:
    first, label = INGEST_FROM[k], INGEST_LABELS[k]
    with gzip.open(CORPUS, "rt", encoding="utf-8") as fh:
        lines = iter(itertools.islice(fh, first, None))
        for n in itertools.count():
            if time.monotonic() >= stop_at:
                return
            chunk = list(itertools.islice(lines, size))
            if not chunk:
                return
            path = tmp / f"slice-{k}-{n}.jsonl"
            path.write_text("".join(chunk), encoding="utf-8")
            t0 = time.perf_counter()
            p = cli(archive, "ingest", str(path), "--json", "--label", label)
            out.seconds.append(time.perf_counter() - t0)
            out.runs += 1
            statuses = []
            for line in p.stdout.splitlines():
                try:
                    statuses.append(json.loads(line)["status"])
                except (ValueError, KeyError):
                    out.fail(f"slice {n}: not JSON: {line}")
            out.counts.update(statuses)
            if p.returncode != 0 or "error" in statuses or len(statuses) != len(chunk):
                tail = p.stderr.strip().splitlines()[-1:] or ["(no stderr)"]
                out.fail(f"slice {n}: exit {p.returncode}, {Counter(statuses)}: {tail[0]}")
            path.unlink()


def cli_loop(archive: Path, stop_at: float, out: Loop) -> None:
    eid: str | None = None
    for i in itertools.count():
        commands: list[list[str]] = [
            ["search", TERMS[i % len(TERMS)], "--json"],
            ["check", NAMES[i % len(NAMES)], "--json"],
            ["stats", "--json"],
        ]
        if eid:
            commands.append(["dossier", eid, "--json"])
        for args in commands:
            if time.monotonic() >= stop_at:
                return
            t0 = time.perf_counter()
            p = cli(archive, *args)
            out.seconds.append(time.perf_counter() - t0)
            out.runs += 1
            out.counts[args[0]] += 1
            try:
                answer = json.loads(p.stdout)
            except ValueError:
                answer = None
            if p.returncode != 0 or answer is None:
                tail = p.stderr.strip().splitlines()[-1:] or ["(no stderr)"]
                out.fail(f"{' '.join(args)}: exit {p.returncode}: {tail[0]}")
                continue
            if args[0] == "check" and answer["matches"]:
                eid = answer["matches"][0]["entity_id"]


def hidden_documents(url: str) -> list[str]:
    """Document ids tess (TS) sees and uma (U) does not: probes whose 404 is expected."""
    seen: dict[str, set[str]] = {}
    with httpx.Client(base_url=url, timeout=120) as c:
        for user in ("uma", "tess"):
            token = c.post("/api/login", json={"user": user, "password": PASSWORD}).json()["token"]
            headers = {"Authorization": f"Bearer {token}"}
            ids: set[str] = set()
            for offset in range(0, 100_000, 500):
                page = c.get(f"/api/documents?limit=500&offset={offset}", headers=headers).json()["documents"]
                ids |= {d["id"] for d in page}
                if len(page) < 500:
                    break
            c.post("/api/logout", headers=headers)
            seen[user] = ids
    return sorted(seen["tess"] - seen["uma"])[:20]


def soak(archive: Path, tmp: Path, minutes: float, size: int, n_ingests: int = 2) -> dict[str, Any]:
    load_samples: list[float] = [os.getloadavg()[0]]
    server = Server(archive, tmp / "server.log")
    try:
        return _soak(server, archive, tmp, minutes, size, n_ingests, load_samples)
    finally:
        if server.proc.poll() is None:  # the run failed: leave no server behind
            server.stop()


def _soak(
    server: Server, archive: Path, tmp: Path, minutes: float, size: int, n_ingests: int, load_samples: list[float]
) -> dict[str, Any]:
    rss: list[tuple[float, int]] = [(0.0, server.rss())]
    hidden = hidden_documents(server.url)
    seconds = minutes * 60
    warmup = min(60.0, seconds / 4)
    start = time.monotonic()
    stop_at = start + seconds
    tally = Tally()
    clients = [
        Client(server.url, user, k, hidden if USERS[user] != "TS" else [], stop_at, tally)
        for user in USERS
        for k in range(CLIENTS_PER_USER)
    ]
    ingests = [Loop() for _ in range(n_ingests)]
    reads = Loop()
    workers = [
        *clients,
        *(
            threading.Thread(target=ingest_loop, args=(archive, tmp, k, size, stop_at, ingests[k]))
            for k in range(n_ingests)
        ),
        threading.Thread(target=cli_loop, args=(archive, stop_at, reads)),
    ]
    for w in workers:
        w.start()
    warm_rss: int | None = None
    next_sample = 10.0
    while any(w.is_alive() for w in clients):
        time.sleep(0.5)
        now = time.monotonic() - start
        if now >= next_sample:
            rss.append((round(now), server.rss()))
            load_samples.append(os.getloadavg()[0])
            next_sample += 10.0
        if warm_rss is None and now >= warmup:
            warm_rss = server.rss()
    took = time.monotonic() - start
    end_rss = server.rss()
    for w in workers:
        w.join()  # ingests in flight finish
    drained = time.monotonic() - start
    stop_rc, stop_seconds = server.stop()
    verify = cli(archive, "audit", "verify", "--json")
    try:
        verified: dict[str, Any] = json.loads(verify.stdout)
    except ValueError:
        verified = {"ok": False, "problems": [verify.stderr.strip()[-400:]]}
    if not verified.get("ok"):
        # Say whether the failure lasts, and what the doctor finds.
        again = cli(archive, "audit", "verify", "--json")
        verified["again"] = again.stdout.strip()[-400:] or again.stderr.strip()[-400:]
        doctor = cli(archive, "doctor", "--json")
        verified["doctor"] = doctor.stdout.strip()[-2000:] or doctor.stderr.strip()[-400:]
    stats = json.loads(cli(archive, "stats", "--json").stdout or "{}")
    log_lines = (tmp / "server.log").read_text(encoding="utf-8", errors="replace").splitlines()

    all_times = [t for ts in tally.times.values() for t in ts]
    p50, p99 = quantiles(all_times)
    per_endpoint = {}
    for endpoint, ts in sorted(tally.times.items()):
        e50, e99 = quantiles(ts)
        per_endpoint[endpoint] = {"n": len(ts), "p50_ms": round(e50 * 1000, 1), "p99_ms": round(e99 * 1000, 1)}

    def loop_json(lp: Loop) -> dict[str, Any]:
        l50, l99 = quantiles(lp.seconds)
        return {"runs": lp.runs, "failures": lp.failures, "failed": lp.failed, "counts": dict(lp.counts),
                "p50_s": round(l50, 2), "p99_s": round(l99, 2)}  # fmt: skip

    warm = warm_rss or rss[0][1]
    mb = 2**20
    return {
        "minutes": minutes,
        "seconds": round(took, 1),
        "drained_seconds": round(drained, 1),
        "users": USERS,
        "clients": len(clients),
        "requests": len(all_times),
        "req_per_s": round(len(all_times) / took, 1),
        "p50_ms": round(p50 * 1000, 1),
        "p99_ms": round(p99 * 1000, 1),
        "codes": dict(sorted(tally.codes.items())),
        "expected_404": tally.expected_404,
        "unexpected": dict(sorted(tally.bad.items())),
        "unexpected_bodies": tally.bodies,
        "transport_errors": dict(tally.transport),
        "logins": tally.logins,
        "relogins": tally.relogins,
        "endpoints": per_endpoint,
        "ingests": [loop_json(lp) for lp in ingests],
        "cli_reads": loop_json(reads),
        "rss_mb": {
            "launch": round(rss[0][1] / mb),
            "after_warmup": round(warm / mb),
            "warmup_seconds": warmup,
            "end": round(end_rss / mb),
            "peak": round(max(r for _, r in rss) / mb),
            "end_over_warmup": round(end_rss / warm, 3),
            "samples": [(t, round(r / mb)) for t, r in rss],
        },
        "load_average_1min": {
            "min": min(load_samples),
            "mean": round(statistics.mean(load_samples), 2),
            "max": max(load_samples),
        },
        "server_stop": {"exit": stop_rc, "seconds": round(stop_seconds, 2)},
        "server_log_errors": [line[:300] for line in log_lines if "ERROR" in line or "Traceback" in line][:20],
        "audit_verify": verified,
        "archive_after": stats,
        "hidden_probe_ids": len(hidden),
    }


def summary(r: dict[str, Any]) -> str:
    rs = r["rss_mb"]
    ing = r["ingests"]
    v = r["audit_verify"]
    lines = [
        f"soak: {r['minutes']:g} min ({r['seconds']} s, drained at {r['drained_seconds']} s), "
        f"{r['clients']} clients over {len(r['users'])} users, load average {r['load_average_1min']}",
        f"HTTP: {r['requests']} requests, {r['req_per_s']} req/s, p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms",
        f"  codes {r['codes']}; expected 404s (probes) {r['expected_404']}",
        f"  unexpected non-2xx: {r['unexpected'] or 'none'}; transport errors: {r['transport_errors'] or 'none'}",
        f"  log-ins {r['logins']}, re-log-ins after 401 {r['relogins']}",
        "  per endpoint (n, p50, p99 ms): "
        + ", ".join(f"{k} {e['n']}/{e['p50_ms']}/{e['p99_ms']}" for k, e in r["endpoints"].items()),
    ]
    for k, lp in enumerate(ing):
        lines.append(
            f"ingest {k + 1} ({INGEST_LABELS[k]}): {lp['runs']} runs, {dict(lp['counts'])}, "
            f"{lp['failures']} failed, p50 {lp['p50_s']} s a slice"
        )
    cr = r["cli_reads"]
    lines.append(f"CLI reads: {cr['runs']} runs {dict(cr['counts'])}, {cr['failures']} failed, p50 {cr['p50_s']} s")
    for what in [*(f for lp in ing for f in lp["failed"]), *cr["failed"]][:6]:
        lines.append(f"  ! {what}")
    lines += [
        f"server RSS: launch {rs['launch']} MB, after {rs['warmup_seconds']:g} s {rs['after_warmup']} MB, "
        f"end {rs['end']} MB (end/warm-up {rs['end_over_warmup']}), peak {rs['peak']} MB",
        f"server stop: exit {r['server_stop']['exit']} in {r['server_stop']['seconds']} s; "
        f"log errors: {len(r['server_log_errors'])}",
        f"audit verify: ok={v.get('ok')} entries={v.get('entries')} anchors={v.get('anchors')} "
        f"unanchored={v.get('unanchored')} problems={v.get('problems')}",
        f"archive after: {r['archive_after'].get('documents')} documents",
    ]
    for key, body in list(r["unexpected_bodies"].items())[:4]:
        lines.append(f"  {key}: {body}")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--records", type=int, default=200)
    ap.add_argument("--slice", type=int, default=4, help="Records per ingest run.")
    ap.add_argument(
        "--ingests", type=int, choices=(0, 1, 2), default=2, help="Ingest loops (0: a control run, the archive fixed)."
    )
    ap.add_argument("--archive", type=Path, help="An archive built by this script before (copied, not changed).")
    ap.add_argument("--build", type=Path, help="Only build an archive here, for --archive.")
    ap.add_argument("--no-relations", action="store_true", help="Build without relation extraction.")
    ap.add_argument("--json", action="store_true", help="Print the full result as JSON.")
    ap.add_argument("--out", type=Path, help="Also write the JSON result here.")
    ap.add_argument(
        "--workdir", type=Path, help="Work (and leave the archive and server log) here, not in a temporary folder."
    )
    ap.add_argument("--tree", type=Path, default=ROOT, help="Kartoteka checkout every process runs from.")
    args = ap.parse_args()
    global TREE
    TREE = args.tree.resolve()
    if args.build:
        build(args.build, args.records, not args.no_relations)
        return
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if args.workdir:
            tmp = args.workdir
            tmp.mkdir(parents=True, exist_ok=True)
        path = tmp / "soak.db"
        if args.archive:
            copy_archive(args.archive, path)
        else:
            build(path, args.records, not args.no_relations)
        result = soak(path, tmp, args.minutes, args.slice, args.ingests)
        result["tree"] = str(TREE)
    if args.out:
        args.out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(json.dumps(result, indent=1) if args.json else summary(result))


if __name__ == "__main__":
    main()
