"""Issue "Reliability hardening" item 4, the server's part: a database that is
locked, or fails, answers one JSON line (503 with Retry-After when a retry
may succeed), never a 500 with a traceback; reads need no write lock."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kartoteka.service.api import create_app
from tests.service.world import LOW, build, login


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    # Every connection the server opens waits 0.2 s for a lock, not 30 s.
    monkeypatch.setenv("KARTOTEKA_BUSY_TIMEOUT", "0.2")
    return build(tmp_path / "errors.db")


def _assert_retry_later(r: Any) -> None:
    assert r.status_code == 503, r.text
    assert r.json() == {"error": "E082", "message": r.json()["message"]}
    assert "busy" in r.json()["message"] and str(r.json()["message"]).count("\n") == 0
    assert int(r.headers["Retry-After"]) > 0
    assert "errors.db" not in r.text  # the server's file path is not the user's business


def test_a_locked_audit_trail_answers_503(world: dict[str, Any]) -> None:
    with TestClient(create_app(world["path"]), raise_server_exceptions=False) as client:
        ulla = login(client, LOW)
        holder = sqlite3.connect(f"{world['path']}.audit.sqlite", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process holds the trail's write lock
        try:
            _assert_retry_later(client.get("/api/check?name=Arkady%20Zorin", headers=ulla))
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert client.get("/api/check?name=Arkady%20Zorin", headers=ulla).status_code == 200


def test_reads_go_on_while_another_process_holds_the_archive_write_lock(world: dict[str, Any]) -> None:
    """An ingest holds the archive's write lock; the server's reads need none."""
    with TestClient(create_app(world["path"]), raise_server_exceptions=False) as client:
        ulla = login(client, LOW)
        holder = sqlite3.connect(world["path"], isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        holder.execute("UPDATE users SET created_at=created_at")
        try:
            for url in ("/api/stats", "/api/search?q=Zorin", "/api/check?name=Arkady%20Zorin", "/api/documents"):
                assert client.get(url, headers=ulla).status_code == 200, url
        finally:
            holder.execute("ROLLBACK")
            holder.close()


def test_a_damaged_archive_answers_one_json_line(world: dict[str, Any]) -> None:
    with TestClient(create_app(world["path"]), raise_server_exceptions=False) as client:
        ulla = login(client, LOW)
        assert client.get("/api/stats", headers=ulla).status_code == 200
        db = sqlite3.connect(world["path"], isolation_level=None)
        db.execute("DROP TABLE dates")
        db.close()
        r = client.get("/api/stats", headers=ulla)
        assert r.status_code == 500
        assert r.json()["error"] == "E085" and "Traceback" not in r.text
