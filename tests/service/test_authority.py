"""Issue "Compartments hardening" item 6: the server keeps no stale authority.

A clearance or password changed by the CLI (here: another `Archive` on the
same file, with its own connection, as another process would have) takes
effect on the user's next request, and ends every session of that user.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from kartoteka.service.api import create_app
from kartoteka.store.location import parse
from tests.backends import Where
from tests.service.world import HIGH, LOW, PASSWORDS, as_owner, build, login


@pytest.fixture
def world(tmp_path: Path, where: Where) -> dict[str, Any]:
    return build(where(tmp_path, "authority.db"))  # type: ignore[arg-type]


@pytest.fixture
def client(world: dict[str, Any]) -> Iterator[TestClient]:
    with TestClient(create_app(world["path"])) as c:
        yield c


def test_a_downgraded_clearance_ends_the_session_at_once(client: TestClient, world: dict[str, Any]) -> None:
    tom = login(client, HIGH)
    other = login(client, HIGH)
    secret = f"/api/documents/{world['secret']}"
    assert client.get(secret, headers=tom).status_code == 200
    with as_owner(world["path"]) as owner:
        owner.add_user(HIGH, "U", [])
    # Both of tom's sessions end on the next request, not only the one used.
    assert client.get(secret, headers=tom).status_code == 401
    assert client.get("/api/stats", headers=other).status_code == 401
    # A fresh log-in gets the new clearance: the secret cable no longer exists.
    tom = login(client, HIGH)
    assert client.get(secret, headers=tom).status_code == 404
    body = client.get(f"/api/documents/{world['open']}", headers=tom).json()
    assert body["banner"] == "UNCLASSIFIED"
    assert "Kovalenko" not in " ".join(p["text"] for p in body["portions"])


def test_a_raised_clearance_is_seen_after_log_in_again(client: TestClient, world: dict[str, Any]) -> None:
    ulla = login(client, LOW)
    check = "/api/check?name=Boris%20Kovalenko"
    assert client.get(check, headers=ulla).json()["matches"] == []  # builds ulla's name index
    with as_owner(world["path"]) as owner:
        owner.add_user(LOW, "S", ["HUM"])
    assert client.get(check, headers=ulla).status_code == 401
    ulla = login(client, LOW)
    # The archive the server kept for ulla (and its name index) was opened at U;
    # it is reopened at her new clearance.
    assert [m["entity_id"] for m in client.get(check, headers=ulla).json()["matches"]] == [world["kovalenko"]]
    assert client.get(f"/api/documents/{world['secret']}", headers=ulla).status_code == 200


def test_a_changed_password_ends_old_sessions_and_the_old_password(client: TestClient, world: dict[str, Any]) -> None:
    ulla = login(client, LOW)
    assert client.get("/api/stats", headers=ulla).status_code == 200
    with as_owner(world["path"]) as owner:
        owner.add_user(LOW, "U", [], "ulla's new passphrase")
    assert client.get("/api/stats", headers=ulla).status_code == 401
    old = client.post("/api/login", json={"user": LOW, "password": PASSWORDS[LOW]})
    assert old.status_code == 401
    ulla = login(client, LOW, "ulla's new passphrase")
    assert client.get("/api/stats", headers=ulla).status_code == 200


def test_other_users_sessions_survive_a_change_to_one_user(client: TestClient, world: dict[str, Any]) -> None:
    ulla, tom = login(client, LOW), login(client, HIGH)
    with as_owner(world["path"]) as owner:
        owner.add_user(HIGH, "S", ["HUM"])
    assert client.get("/api/stats", headers=tom).status_code == 401
    assert client.get("/api/stats", headers=ulla).status_code == 200


def test_clearance_is_read_on_every_request_not_once_per_session(client: TestClient, world: dict[str, Any]) -> None:
    """Even an unchanged session re-reads the stored user: a user removed from the
    file by hand (no CLI command removes users) has no session left."""
    ulla = login(client, LOW)
    if isinstance(world["path"], str):  # PostgreSQL: by hand in its schema
        libpq, schema, _ = parse(world["path"])
        with psycopg.connect(libpq) as pg:
            pg.execute(f'DELETE FROM "{schema}".users WHERE name=%s', (LOW,))
    else:
        db = sqlite3.connect(world["path"])
        with db:
            db.execute("DELETE FROM users WHERE name=?", (LOW,))
        db.close()
    assert client.get("/api/stats", headers=ulla).status_code == 401
