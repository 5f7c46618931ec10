"""Dossier time as a channel: do an entity's hidden mentions cost a low viewer anything?

Builds two archives with the same visible document, in which Arkady Zorin
is named with Duarte Mendes in 20 dated paragraphs; one of them also holds
an S:HUM document of N paragraphs naming Zorin (with Ivan Petrov, in
Vienna, on a date). For a U user it times, as medians of interleaved runs,
`dossier`, `timeline`, `associates` and `cooccur` of Zorin in the archive
with the hidden mentions and in the one without, where the answers are
byte for byte the same. For comparison it times the way these reads worked
before label partitions (`kartoteka.store.partitions`): every mention of
the entity read, hidden ones then filtered out by the policy.

    python3 -m uv run python bench/dossier_timing.py --hidden 2000 [--http]

With `--http` it also times `GET /api/dossier/{id}` and `/api/timeline/{id}`
through the API (FastAPI's test client, no network), partitioned only.
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from search_timing import median_ms  # type: ignore[import-not-found]  # bench/, run as a script

from kartoteka.archive import Archive
from kartoteka.registry.readers import RawDocument

READS = ("dossier", "timeline", "associates", "cooccur")
PASSWORD = "bench-password-1"
_ID = re.compile(r"\b[a-z]{2,4}-[0-9a-f]{16}\b")


def renamed(answer: object) -> str:
    """An answer as text, ids renamed in order of first appearance (each archive keys its own)."""
    names: dict[str, str] = {}
    return _ID.sub(lambda m: names.setdefault(m.group(0), f"#{len(names)}"), json.dumps(answer, sort_keys=True))


VISIBLE = "\n\n".join(
    f"(U) Report {i}: Colonel Arkady Zorin met the journalist Duarte Mendes in Lisbon on {i % 28 + 1} March 1977."
    for i in range(20)
)


def hidden_text(n: int) -> str:
    return "\n\n".join(
        f"(S//HUM) Sighting {i}: Arkady Zorin was seen with Ivan Petrov in Vienna on {i % 28 + 1} May 1978."
        for i in range(n)
    )


def build(path: Path, hidden: int) -> None:
    owner = Archive(path)
    list(owner.ingest([RawDocument("open.txt", "txt", "bench.v1", VISIBLE + "\n")]))
    if hidden:
        list(owner.ingest([RawDocument("secret.txt", "txt", "bench.v1", hidden_text(hidden) + "\n")], label="S:HUM"))
    owner.add_user("ivan", "U", [], PASSWORD)
    owner.close()


def readers(arch: Archive) -> dict[str, Callable[[], Any]]:
    zorin = arch.check("Arkady Zorin")["matches"][0]["entity_id"]
    mendes = arch.check("Duarte Mendes")["matches"][0]["entity_id"]
    return {
        "dossier": lambda: arch.dossier(zorin),
        "timeline": lambda: arch.timeline(zorin),
        "associates": lambda: arch.associates(zorin),
        "cooccur": lambda: arch.cooccur(zorin, mendes),
    }


def unpartitioned(arch: Archive) -> None:
    """Make a viewer's reads ask for every mention and portion, as before partitions; the policy filters."""
    ctx = arch._ctx

    def documents() -> int:
        visible = ctx.policy.visible_portions()
        return len({d for p, d in ctx.doc_of_portion().items() if visible is None or p in visible})

    ctx.visible_partitions = lambda: None  # type: ignore[method-assign]
    ctx.visible_document_count = documents  # type: ignore[method-assign]


def http_medians(paths: dict[str, Path], runs: int) -> dict[tuple[str, str], float]:
    from fastapi.testclient import TestClient

    from kartoteka.service.api import create_app

    rounds: dict[tuple[str, str], list[float]] = {}
    with TestClient(create_app(paths["plain"])) as a, TestClient(create_app(paths["hidden"])) as b:
        calls: dict[str, dict[str, Callable[[], Any]]] = {}
        for name, client in (("plain", a), ("hidden", b)):
            token = client.post("/api/login", json={"user": "ivan", "password": PASSWORD}).json()["token"]
            auth = {"Authorization": f"Bearer {token}"}
            zorin = client.get("/api/check", params={"name": "Arkady Zorin"}, headers=auth).json()
            eid = zorin["matches"][0]["entity_id"]
            calls[name] = {
                read: functools.partial(client.get, f"/api/{read}/{eid}", headers=auth)
                for read in ("dossier", "timeline")
            }
            for call in calls[name].values():
                assert call().status_code == 200
        for _ in range(3):
            for read in ("dossier", "timeline"):
                for name in ("plain", "hidden"):
                    rounds.setdefault((name, read), []).append(median_ms(calls[name][read], runs))
    return {k: statistics.median(v) for k, v in rounds.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hidden", type=int, default=2000, help="hidden paragraphs naming the entity")
    ap.add_argument("--runs", type=int, default=51)
    ap.add_argument("--http", action="store_true", help="time the API's dossier and timeline too")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        build(Path(tmp) / "plain.db", 0)
        build(Path(tmp) / "hidden.db", args.hidden)
        plain, hidden = Archive(Path(tmp) / "plain.db", user="ivan"), Archive(Path(tmp) / "hidden.db", user="ivan")
        old_plain, old_hidden = (
            Archive(Path(tmp) / "plain.db", user="ivan"),
            Archive(Path(tmp) / "hidden.db", user="ivan"),
        )
        unpartitioned(old_plain)
        unpartitioned(old_hidden)
        fns = {"plain": readers(plain), "hidden": readers(hidden), "old plain": readers(old_plain),
               "old hidden": readers(old_hidden)}  # fmt: skip
        for read in READS:  # the same answers, byte for byte, and every path warmed once
            answers = {k: renamed(f[read]()) for k, f in fns.items()}
            assert len(set(answers.values())) == 1, read
        rounds: dict[tuple[str, str], list[float]] = {(k, r): [] for k in fns for r in READS}
        for _ in range(3):
            for read in READS:
                for k, f in fns.items():
                    rounds[(k, read)].append(median_ms(f[read], args.runs))
        for arch in (plain, hidden, old_plain, old_hidden):
            arch.close()
        http = (
            http_medians({"plain": Path(tmp) / "plain.db", "hidden": Path(tmp) / "hidden.db"}, args.runs)
            if args.http
            else {}
        )
    m = {k: statistics.median(v) for k, v in rounds.items()}
    print(f"hidden paragraphs naming the entity: {args.hidden}, runs per median: {args.runs}, rounds: 3")
    print(f"{'read (U user)':<12} {'partitioned: none':>18} {'hidden':>9} {'ratio':>6}"
          f"   {'before: none':>13} {'hidden':>9} {'ratio':>6}")  # fmt: skip
    for read in READS:
        a, h, oa, oh = (m[(k, read)] for k in ("plain", "hidden", "old plain", "old hidden"))
        print(f"{read:<12} {a:>15.3f} ms {h:>6.3f} ms {h / a:>6.2f}   {oa:>10.3f} ms {oh:>6.3f} ms {oh / oa:>6.2f}")
    for read in ("dossier", "timeline") if http else ():
        a, h = http[("plain", read)], http[("hidden", read)]
        print(f"{'GET ' + read:<12} {a:>15.3f} ms {h:>6.3f} ms {h / a:>6.2f}")


if __name__ == "__main__":
    main()
