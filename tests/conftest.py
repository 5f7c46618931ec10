"""Shared fixtures: real archives built by the package's own code, no mocks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kartoteka.archive import Archive
from kartoteka.demo import build
from kartoteka.registry.readers import discover, read_path

# `backend` and `where`: tests that run on SQLite and on PostgreSQL (tests/backends.py).
pytest_plugins = ["tests.backends"]

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SEEDS = SHARED / "seeds"
JFK = SHARED / "corpus" / "jfk-records-dev.jsonl.gz"


def ingest_paths(arch: Archive, *paths: Path | str) -> list[dict[str, object]]:
    items = (d for f in discover([str(p) for p in paths]) for d in ([f] if not isinstance(f, Path) else read_path(f)))
    return [r.as_json() for r in arch.ingest(items)]


@pytest.fixture(scope="session")
def demo_archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    arch = build(tmp_path_factory.mktemp("demo") / "demo.db")
    yield arch
    arch.close()


@pytest.fixture(scope="session")
def seeds_archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    if not SEEDS.is_dir():
        pytest.skip("../shared/seeds not present")
    arch = Archive(tmp_path_factory.mktemp("seeds") / "seeds.db")
    ingest_paths(arch, SEEDS)
    yield arch
    arch.close()


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    arch = Archive(tmp_path / "a.db")
    yield arch
    arch.close()
