"""A request's deadline holds on PostgreSQL too: a statement still running at the deadline is
cancelled by the server (statement_timeout), and a request that finds the connection pool
exhausted waits for a connection only until its deadline, then answers 503 E080, not 30 s
later with a lost-server E087."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kartoteka.service.api import create_app
from kartoteka.store import postgres_pool
from kartoteka.store.postgres import PostgresStore
from tests.backends import pg_location
from tests.service.world import HIGH, LOW, build, login


@pytest.fixture
def url(pg_database: str, tmp_path: Path) -> str:
    location = pg_location(pg_database, tmp_path, "deadline.db")
    build(location)  # type: ignore[arg-type]
    return location


@pytest.fixture
def slow_counts(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """`stats` made slow in SQL, as a large archive would make it: five seconds of pg_sleep first."""
    rows = PostgresStore.entity_portions

    def slow(self: PostgresStore) -> Any:
        self.db.execute("SELECT pg_sleep(5)")
        return rows(self)

    monkeypatch.setattr(PostgresStore, "entity_portions", slow)
    yield


def test_a_statement_past_the_deadline_is_cancelled_and_answered_503(url: str, slow_counts: None) -> None:
    with TestClient(create_app(url, request_seconds=0.5)) as client:
        ulla = login(client, LOW)
        start = time.monotonic()
        r = client.get("/api/stats", headers=ulla)
        took = time.monotonic() - start
        assert r.status_code == 503 and r.json()["error"] == "E080", r.text
        assert took < 3, f"the statement ran on for {took:.1f} s"
        # The server goes on, and the cancelled statement left the archive usable.
        assert client.get("/api/documents", headers=ulla).status_code == 200


def test_the_statement_timeout_does_not_outlive_the_request(url: str) -> None:
    with TestClient(create_app(url, request_seconds=0.5)) as client:
        ulla = login(client, LOW)
        assert client.get("/api/stats", headers=ulla).status_code == 200
        views = client.app.state.views  # type: ignore[attr-defined]
        arch: Any = next(v.archive for v in views._views.values() if v.archive is not None)
        row = arch._ctx.store.db.execute("SHOW statement_timeout").fetchone()
        assert row[0] == "0"


def test_an_exhausted_pool_is_waited_for_only_until_the_deadline(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with TestClient(create_app(url, request_seconds=0.5)) as client:
        tess = login(client, HIGH)  # logged in; her archive is opened at her first request
        pool = postgres_pool._pool(url)
        held = []
        try:
            while True:  # every connection the pool may make, taken
                try:
                    held.append(pool.getconn(timeout=0.2))
                except postgres_pool.PoolTimeout:
                    break
            start = time.monotonic()
            r = client.get("/api/stats", headers=tess)
            took = time.monotonic() - start
        finally:
            for conn in held:
                pool.putconn(conn)
        assert r.status_code == 503 and r.json()["error"] == "E080", r.text
        assert took < 3, f"waited {took:.1f} s for a connection"
        assert client.get("/api/stats", headers=tess).status_code == 200
