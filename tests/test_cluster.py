"""Ingest on a local Ray cluster (num_cpus=2): the same archive as a plain ingest, a killed worker retried."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from kartoteka import cluster
from kartoteka.archive import Archive
from kartoteka.demo import corpus_path
from kartoteka.index.extract import NerRunner
from kartoteka.registry.readers import discover, read_path

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_ray() -> Iterator[int]:
    actors = cluster.connect("auto", num_cpus=2)
    yield actors
    ray.shutdown()


def _answers(path: Path) -> dict[str, Any]:
    arch = Archive(path)
    try:
        stats = arch.stats()
        stats.pop("archive")
        cards = arch.cards(sort="name", limit=500)
        return {"stats": stats, "cards": [(c["kind"], c["name"], c["mentions"]) for c in cards["cards"]]}
    finally:
        arch.close()


def test_a_ray_ingest_stores_what_a_plain_ingest_does(local_ray: int, tmp_path: Path) -> None:
    files = list(discover([str(corpus_path())]))
    plain = tmp_path / "plain.db"
    arch = Archive(plain)
    try:
        items = (d for f in files if isinstance(f, Path) for d in read_path(f))
        assert all(r.status == "added" for r in arch.ingest(items))
    finally:
        arch.close()
    spread = tmp_path / "ray.db"
    arch = Archive(spread)
    try:
        runner = cluster.RayNerRunner(local_ray, batch_size=4)  # small batches: many tasks over both actors
        results = list(arch.ingest(cluster.read_files(files), ner=runner))
        assert [r.status for r in results] == ["added"] * len(results)
        # Again: idempotent by content hash, nothing stored twice.
        again = list(arch.ingest(cluster.read_files(files), ner=cluster.RayNerRunner(local_ray)))
        assert {r.status for r in again} == {"unchanged"}
    finally:
        arch.close()
    assert _answers(spread) == _answers(plain)


def test_a_worker_killed_mid_run_is_retried_without_loss(local_ray: int) -> None:
    texts = [(f"Colonel Arkady Zorin met Duarte Mendes in Lisbon in 19{n:02d}.", n) for n in range(60)]
    expected = list(NerRunner(1).run(texts))
    runner = cluster.RayNerRunner(local_ray, batch_size=2)
    got = []
    killed = False
    for item in runner.run(texts):
        got.append(item)
        if not killed:
            workers = [p for p in psutil.process_iter(["cmdline"]) if "ray::_Ner" in " ".join(p.info["cmdline"] or [])]
            assert workers, "no NER actor process found"
            os.kill(workers[0].pid, signal.SIGKILL)
            killed = True
    assert killed
    assert got == expected


def test_ingest_cli_with_ray(tmp_path: Path) -> None:
    path = tmp_path / "cli.db"
    done = subprocess.run(
        [sys.executable, "-m", "kartoteka.cli", "--archive", str(path), "ingest", "--ray", "auto", "--workers", "2",
         str(corpus_path()), "--json"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count('"status": "added"') == len(list(discover([str(corpus_path())])))


def test_a_batch_screen_on_ray_answers_as_one_here(local_ray: int, demo_archive: Archive) -> None:
    names = ["Zorin", "Зорин", "Arkadij Sorin", "Wetrowa", "Nobody Atall", "", "Grigory Ilyich"] * 20
    rows = [(str(i), n) for i, n in enumerate(names)]
    here = list(demo_archive.check_batch(rows, limit=5))
    spread = list(demo_archive.check_batch(rows, limit=5, ray_actors=local_ray))
    assert spread == here
    assert any(r["matches"] for r in here) and any("error" in r for r in here)


def test_a_clerks_screen_on_ray_holds_only_what_the_clerk_may_see(local_ray: int, demo_archive: Archive) -> None:
    demo_archive.add_user("ray-clerk", "U", [])
    clerk = Archive(demo_archive.path, user="ray-clerk")
    try:
        rows = [("1", "Zorin"), ("2", "Vetrova"), ("3", "Kalmykov")]
        assert list(clerk.check_batch(rows, ray_actors=local_ray)) == list(clerk.check_batch(rows))
    finally:
        clerk.close()
