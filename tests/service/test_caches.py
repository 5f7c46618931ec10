"""What each request costs: `stats` reads the portions table once, not once per
visible portion (issue "Reliability hardening" item 3), and one user's
requests do not throw away another user's caches while writes elsewhere do
(item 5)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kartoteka.archive import Archive
from kartoteka.service.api import create_app
from tests.access.test_policy import _doc
from tests.service.world import HIGH, LOW, as_owner, build, login

PORTION_SCAN = "FROM portions p JOIN documents d"


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Any]:
    return build(tmp_path / "caches.db")


def test_stats_for_a_viewer_scans_the_portions_once(world: dict[str, Any]) -> None:
    arch = Archive(world["path"], user=LOW)
    try:
        db = arch._ctx.store.db
        assert isinstance(db, sqlite3.Connection)
        scans: list[str] = []
        db.set_trace_callback(lambda sql: scans.append(sql) if PORTION_SCAN in sql else None)
        stats = arch.stats()
        db.set_trace_callback(None)
    finally:
        arch.close()
    assert stats["portions"] >= 3  # several visible portions, each once rescanned the table
    assert len(scans) <= 2, f"{len(scans)} scans of the portions table for {stats['portions']} portions"


def _names_of(client: TestClient, user: str) -> object:
    view = client.app.state.views._views[user]
    return view.archive._ctx.names


@pytest.fixture
def client(world: dict[str, Any]) -> Iterator[TestClient]:
    with TestClient(create_app(world["path"])) as c:
        yield c


def test_one_users_reads_leave_another_users_name_index_alone(client: TestClient, world: dict[str, Any]) -> None:
    tom, ulla = login(client, HIGH), login(client, LOW)
    assert client.get("/api/check?name=Boris%20Kovalenko", headers=tom).json()["matches"]
    index = _names_of(client, HIGH)
    assert index is not None
    for q in ("Zorin", "Lisbon", "Mendes", "Moscow"):
        assert client.get(f"/api/search?q={q}", headers=ulla).status_code == 200
        assert client.get(f"/api/check?name={q}", headers=ulla).status_code == 200
    assert client.get("/api/check?name=Oleg%20Sokolov", headers=tom).json()["matches"]
    assert _names_of(client, HIGH) is index  # not rebuilt: nothing it holds changed


def test_a_write_by_another_process_reaches_every_users_cache(client: TestClient, world: dict[str, Any]) -> None:
    tom = login(client, HIGH)
    new_name = "/api/check?name=Vasily%20Gromov"
    assert client.get(new_name, headers=tom).json()["matches"] == []
    with as_owner(world["path"]) as owner:
        list(owner.ingest([_doc("later.txt", "(U) Major Vasily Gromov arrived in Lisbon in 1980.")]))
    assert [m["name"] for m in client.get(new_name, headers=tom).json()["matches"]][:1] == ["Vasily Gromov"]
