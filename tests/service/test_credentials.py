"""Sessions and API tokens in the credentials file (a PostgreSQL archive: the credentials schema of its
database): shared by server processes, scoped, revocable, hashed."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from kartoteka.access.credentials import CredentialStore, sessions_path
from kartoteka.archive import Archive
from kartoteka.errors import InvalidInput, NotFound
from kartoteka.service.api import create_app
from kartoteka.store.location import parse
from tests.backends import Where

PASSWORD = "anna's long passphrase"


@pytest.fixture
def served(tmp_path: Path, where: Where) -> Path:
    path = where(tmp_path, "a.db")
    arch = Archive(path)
    try:
        arch.add_user("anna", "U", [], PASSWORD)
        arch.add_user("nopass", "U", [])
    finally:
        arch.close()
    return path  # type: ignore[return-value]


def _login(client: TestClient) -> dict[str, str]:
    r = client.post("/api/login", json={"user": "anna", "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def test_a_session_made_by_one_server_process_works_in_another(served: Path) -> None:
    with TestClient(create_app(served)) as one, TestClient(create_app(served)) as two:
        auth = _login(one)
        assert two.get("/api/stats", headers=auth).status_code == 200
        assert one.post("/api/logout", headers=auth).status_code == 200
        # Logged out in the first process: ended in the second at once.
        assert two.get("/api/stats", headers=auth).status_code == 401


def test_a_session_survives_a_server_restart(served: Path) -> None:
    with TestClient(create_app(served)) as first:
        auth = _login(first)
    with TestClient(create_app(served)) as again:
        assert again.get("/api/stats", headers=auth).status_code == 200


def test_only_hashes_of_tokens_are_stored(served: Path) -> None:
    with TestClient(create_app(served)) as client:
        token = _login(client)["Authorization"].removeprefix("Bearer ")
    if isinstance(served, str):
        libpq, schema, _ = parse(served)
        with psycopg.connect(libpq) as pg:
            rows = pg.execute(f'SELECT hash, "user" FROM "{schema}_sessions".credentials').fetchall()
            tables = pg.execute(
                "SELECT table_schema FROM information_schema.tables WHERE table_name='credentials'"
                " AND table_schema IN (%s, %s)",
                (schema, f"{schema}_trail"),
            ).fetchall()
        assert rows and all(token not in str(r) for r in rows)
        assert tables == []  # not in the archive's schema, so never in its export
        return
    data = b"".join(p.read_bytes() for p in served.parent.glob("a.db.sessions.sqlite*"))
    assert token.encode() not in data
    assert sessions_path(served).stat().st_mode & 0o077 == 0


def test_an_api_token_is_limited_to_its_scopes(served: Path) -> None:
    arch = Archive(served)
    try:
        made = arch.create_token("anna", "screening script", "check", days=1)
    finally:
        arch.close()
    auth = {"Authorization": f"Bearer {made['token']}"}
    with TestClient(create_app(served)) as client:
        assert client.get("/api/check", params={"name": "Zorin"}, headers=auth).status_code == 200
        refused = client.get("/api/search", params={"q": "Lisbon"}, headers=auth)
        assert refused.status_code == 403
        assert refused.json()["error"] == "E121"
        assert client.get("/api/stats", headers=auth).status_code == 403
        # Pages are for people who log in: a token in the session cookie is sent to the log-in form.
        client.cookies.set("kartoteka_session", made["token"])
        page = client.get("/", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"].startswith("/login")


def test_a_revoked_token_ends_at_once(served: Path) -> None:
    arch = Archive(served)
    try:
        made = arch.create_token("anna", "", "read", days=1)
        auth = {"Authorization": f"Bearer {made['token']}"}
        with TestClient(create_app(served)) as client:
            assert client.get("/api/stats", headers=auth).status_code == 200
            assert [t["id"] for t in arch.tokens()] == [made["id"]]
            arch.revoke_token(made["id"])
            assert client.get("/api/stats", headers=auth).status_code == 401
        with pytest.raises(NotFound, match="E122"):
            arch.revoke_token(made["id"])
    finally:
        arch.close()


def test_a_changed_password_ends_the_users_tokens(served: Path) -> None:
    arch = Archive(served)
    try:
        made = arch.create_token("anna", "", "read", days=1)
        auth = {"Authorization": f"Bearer {made['token']}"}
        with TestClient(create_app(served)) as client:
            assert client.get("/api/stats", headers=auth).status_code == 200
            arch.add_user("anna", "U", [], "a new long passphrase")
            assert client.get("/api/stats", headers=auth).status_code == 401
    finally:
        arch.close()


def test_tokens_are_the_owners_to_make_and_need_a_password_user(served: Path) -> None:
    arch = Archive(served)
    try:
        with pytest.raises(InvalidInput, match="E041"):
            arch.create_token("nopass", "", "read")
        with pytest.raises(InvalidInput, match="E071"):
            arch.create_token("anna", "", "write")
    finally:
        arch.close()
    anna = Archive(served, user="anna")
    try:
        with pytest.raises(Exception, match="owner"):
            anna.create_token("anna", "", "read")
    finally:
        anna.close()


def test_an_expired_session_is_refused_and_pruned(served: Path) -> None:
    store = CredentialStore(served, seconds=0.05)
    try:
        token = store.open("anna", "fp")
        assert store.find(token) is not None
        time.sleep(0.1)
        assert store.find(token) is None
        assert store.prune() == 1
    finally:
        store.close()
