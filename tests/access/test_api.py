"""The HTTP API: authentication, the same policy as the CLI, and existence
probes on every endpoint (a hidden item and a missing item answer alike);
on a SQLite file and on PostgreSQL (`where`: tests/backends.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kartoteka.archive import Archive
from kartoteka.service.api import create_app
from tests.access.test_policy import OPEN_REPORT, SECRET_CABLE, _doc
from tests.backends import Where

PASSWORDS = {"ivan": "correct horse", "sveta": "battery staple"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, where: Where) -> dict[str, Any]:
    path = where(tmp_path_factory.mktemp("api"), "api.db")
    arch = Archive(path)
    [open_doc] = list(arch.ingest([_doc("open.txt", OPEN_REPORT)]))
    [secret_doc] = list(arch.ingest([_doc("secret.txt", SECRET_CABLE)], label="S:HUM"))
    arch.add_user("ivan", "U", [], PASSWORDS["ivan"])
    arch.add_user("sveta", "S", ["HUM"], PASSWORDS["sveta"])
    kovalenko = arch.check("Boris Kovalenko")["matches"][0]["entity_id"]
    arch.close()
    return {"path": path, "open": open_doc.document_id, "secret": secret_doc.document_id, "kovalenko": kovalenko}


@pytest.fixture(scope="module")
def client(world: dict[str, Any]) -> Iterator[TestClient]:
    with TestClient(create_app(world["path"])) as c:
        yield c


def _token(client: TestClient, user: str) -> dict[str, str]:
    r = client.post("/api/login", json={"user": user, "password": PASSWORDS[user]})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def test_login_is_required_and_wrong_passwords_fail_alike(client: TestClient) -> None:
    assert client.get("/api/stats").status_code == 401
    assert client.get("/api/stats", headers={"Authorization": "Bearer forged"}).status_code == 401
    wrong = client.post("/api/login", json={"user": "ivan", "password": "nope"})
    nobody = client.post("/api/login", json={"user": "mallory", "password": "nope"})
    assert wrong.status_code == nobody.status_code == 401
    assert wrong.content == nobody.content  # no hint which user names exist


def test_openapi_lists_the_endpoints(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for p in ("/api/check", "/api/check/batch", "/api/search", "/api/dossier/{ref}", "/api/documents/{document_id}"):
        assert p in paths


MISSING_DOC = "doc-0000000000000000"
MISSING_ENTITY = "per-000000000000"


def _probe_pairs(world: dict[str, Any]) -> list[tuple[str, str]]:
    """(URL with a hidden item, the same URL with a missing one)."""
    return [
        (f"/api/documents/{world['secret']}", f"/api/documents/{MISSING_DOC}"),
        (f"/api/documents/{world['secret']}/release?for=U", f"/api/documents/{MISSING_DOC}/release?for=U"),
        (f"/api/dossier/{world['kovalenko']}", f"/api/dossier/{MISSING_ENTITY}"),
        (f"/api/network/{world['kovalenko']}", f"/api/network/{MISSING_ENTITY}"),
        (f"/api/timeline/{world['kovalenko']}", f"/api/timeline/{MISSING_ENTITY}"),
        (f"/api/cooccur?a={world['kovalenko']}&b=Arkady%20Zorin", f"/api/cooccur?a={MISSING_ENTITY}&b=Arkady%20Zorin"),
        (f"/api/links?a={world['kovalenko']}&b=Arkady%20Zorin", f"/api/links?a={MISSING_ENTITY}&b=Arkady%20Zorin"),
        ("/api/dossier/Boris%20Kovalenko", "/api/dossier/Quentin%20Nobodyson"),
    ]


def test_hidden_and_missing_items_give_byte_identical_responses(client: TestClient, world: dict[str, Any]) -> None:
    ivan = _token(client, "ivan")
    for hidden, missing in _probe_pairs(world):
        a, b = client.get(hidden, headers=ivan), client.get(missing, headers=ivan)
        assert a.status_code == b.status_code == 404, hidden
        assert a.content == b.content, hidden
    sveta = _token(client, "sveta")
    assert client.get(f"/api/documents/{world['secret']}", headers=sveta).status_code == 200
    assert client.get(f"/api/dossier/{world['kovalenko']}", headers=sveta).status_code == 200


def _without_query(body: bytes) -> Any:
    data = json.loads(body)
    data.pop("query", None)
    for r in data.get("results", []):
        r.pop("query", None)
        r.pop("query_id", None)
    return data


@pytest.mark.parametrize(
    ("hidden", "missing"),
    [
        ("/api/check?name=Boris%20Kovalenko", "/api/check?name=Quentin%20Nobodyson"),
        ("/api/check?name=Oleg%20Sokolov", "/api/check?name=Quentin%20Nobodyson"),
        ("/api/search?q=Kovalenko", "/api/search?q=Xyzzyplugh"),
        ("/api/search?q=Vienna", "/api/search?q=Xyzzyplugh"),
    ],
)
def test_queries_about_hidden_things_answer_like_queries_about_nothing(
    client: TestClient, hidden: str, missing: str
) -> None:
    ivan = _token(client, "ivan")
    a, b = client.get(hidden, headers=ivan), client.get(missing, headers=ivan)
    assert a.status_code == b.status_code == 200
    assert _without_query(a.content) == _without_query(b.content)
    sveta = _token(client, "sveta")
    assert _without_query(client.get(hidden, headers=sveta).content) != _without_query(b.content)


def test_batch_check_hides_like_single_check(client: TestClient) -> None:
    ivan = _token(client, "ivan")
    body = {"names": [{"query_id": "1", "name": "Boris Kovalenko"}, {"query_id": "2", "name": "Quentin Nobodyson"}]}
    results = client.post("/api/check/batch", json=body, headers=ivan).json()["results"]
    assert results[0]["matches"] == results[1]["matches"] == []


def test_lists_and_counts_differ_only_by_what_is_visible(client: TestClient, world: dict[str, Any]) -> None:
    ivan, sveta = _token(client, "ivan"), _token(client, "sveta")
    low = client.get("/api/documents", headers=ivan).json()["documents"]
    high = client.get("/api/documents", headers=sveta).json()["documents"]
    assert [d["id"] for d in low] == [world["open"]]
    assert {d["id"] for d in high} == {world["open"], world["secret"]}
    s_low, s_high = client.get("/api/stats", headers=ivan).json(), client.get("/api/stats", headers=sveta).json()
    assert s_low["documents"] == 1 and s_high["documents"] == 2
    assert "archive" not in s_low
    # The open document as each sees it: the HUM portion exists only for sveta.
    d_low = client.get(f"/api/documents/{world['open']}", headers=ivan).json()
    d_high = client.get(f"/api/documents/{world['open']}", headers=sveta).json()
    assert len(d_low["portions"]) < len(d_high["portions"])
    assert d_low["banner"] == "UNCLASSIFIED" and d_high["banner"] == "SECRET//HUM"


def test_release_over_http(client: TestClient, world: dict[str, Any]) -> None:
    sveta = _token(client, "sveta")
    r = client.get(f"/api/documents/{world['open']}/release?for=U&format=txt", headers=sveta)
    assert r.status_code == 200
    assert "Kovalenko" not in r.text and "[ ]  50X1-HUM" in r.text
    assert 'filename="release-' in r.headers["content-disposition"]


def test_sessions_end_at_logout(client: TestClient) -> None:
    ivan = _token(client, "ivan")
    assert client.post("/api/logout", headers=ivan).status_code == 200
    assert client.get("/api/stats", headers=ivan).status_code == 401


def test_server_sees_writes_made_by_another_process(client: TestClient, world: dict[str, Any]) -> None:
    ivan = _token(client, "ivan")
    before = client.get("/api/stats", headers=ivan).json()["documents"]
    arch = Archive(world["path"])
    list(arch.ingest([_doc("later.txt", "(U) Colonel Arkady Zorin retired in 1991.")]))
    arch.close()
    assert client.get("/api/stats", headers=ivan).json()["documents"] == before + 1
