"""Fixtures for the CLI's reliability tests: a small real archive, copied per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kartoteka.cli import app
from kartoteka.demo import corpus_path

runner = CliRunner()


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("built") / "archive.db"
    r = runner.invoke(app, ["--archive", str(path), "ingest", str(corpus_path())])
    assert r.exit_code == 0, r.output
    return path


@pytest.fixture
def db(built: Path, tmp_path: Path) -> Path:
    """A fresh copy of the built archive (with its key and anchors) that a test may damage."""
    target = tmp_path / "copy.db"
    for src in built.parent.iterdir():
        if src.name.startswith(built.name) and not src.name.endswith("-shm"):
            shutil.copy(src, tmp_path / src.name.replace(built.name, target.name))
    return target
