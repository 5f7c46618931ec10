"""Issue "Compartments hardening" item 7: concurrent requests by a U and a TS user.

Every endpoint is asked by both users at once from many threads, in a
different order in each thread; every answer must be byte for byte the one
that user gets when asking alone. Batch screens span several screening
chunks, so a screen that kept its index where another request could swap it
(a module global) answers one user from the other's index, or fails.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kartoteka.service.api import create_app
from tests.service.world import HIGH, LOW, PASSWORDS, build, login

THREADS_PER_USER = 4
ROUNDS = 2
BATCH = [
    {"query_id": str(i), "name": name}
    for i, name in enumerate(["Boris Kovalenko", "Oleg Sokolov", "Arkady Zorin", "Duarte Mendes"] * 150)
]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return build(tmp_path_factory.mktemp("concurrency") / "c.db")


@pytest.fixture(scope="module")
def client(world: dict[str, Any]) -> Iterator[TestClient]:
    with TestClient(create_app(world["path"])) as c:
        yield c


Request = tuple[str, str, dict[str, Any] | None]


def requests_for(world: dict[str, Any]) -> list[Request]:
    z, k, doc, secret = world["zorin"], world["kovalenko"], world["open"], world["secret"]
    return [
        ("GET", "/api/check?name=Boris%20Kovalenko", None),
        ("GET", "/api/check?name=Arkady%20Zorin", None),
        ("POST", "/api/check/batch", {"names": BATCH, "limit": 5}),
        ("GET", "/api/search?q=Kovalenko", None),
        ("GET", "/api/search?q=Zorin", None),
        ("GET", f"/api/dossier/{z}", None),
        ("GET", f"/api/dossier/{k}", None),
        ("GET", "/api/documents", None),
        ("GET", f"/api/documents/{doc}", None),
        ("GET", f"/api/documents/{secret}", None),
        ("GET", f"/api/documents/{doc}/release?for=U", None),
        ("GET", f"/api/links?a={z}&b=Duarte%20Mendes", None),
        ("GET", f"/api/network/{z}", None),
        ("GET", f"/api/cooccur?a={z}&b=Duarte%20Mendes", None),
        ("GET", f"/api/timeline/{z}", None),
        ("GET", "/api/stats", None),
        ("GET", "/api/cards?sort=name&limit=100", None),
    ]


def ask(client: TestClient, headers: dict[str, str], req: Request) -> tuple[int, bytes]:
    method, url, body = req
    r = client.request(method, url, headers=headers, json=body)
    return r.status_code, r.content


def test_every_endpoint_is_in_the_concurrency_test(client: TestClient, world: dict[str, Any]) -> None:
    asked = {url.split("?")[0] for _, url, _ in requests_for(world)}
    for template in client.get("/openapi.json").json()["paths"]:
        if template in ("/api/login", "/api/logout"):
            continue  # every thread below logs in and out
        pattern = re.compile("^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)) + "$")
        assert any(pattern.match(u) for u in asked), f"{template} is not asked concurrently"


def test_two_users_at_once_get_what_each_gets_alone(client: TestClient, world: dict[str, Any]) -> None:
    reqs = requests_for(world)
    alone = {}
    for user in (LOW, HIGH):
        headers = login(client, user)
        alone[user] = [ask(client, headers, r) for r in reqs]
        assert alone[user] == [ask(client, headers, r) for r in reqs], "answers must not vary between runs"
    assert alone[LOW] != alone[HIGH]
    # What the two users see differs where it should: the TS user's batch finds the hidden people.
    batch = reqs.index(("POST", "/api/check/batch", {"names": BATCH, "limit": 5}))
    assert b'"matches":[]' in alone[LOW][batch][1] and alone[HIGH][batch][1].count(b'"matches":[]') == 0

    failures: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(2 * THREADS_PER_USER)

    def worker(user: str, seed: int) -> None:
        order = list(range(len(reqs))) * ROUNDS
        random.Random(seed).shuffle(order)
        start.wait()
        r = client.post("/api/login", json={"user": user, "password": PASSWORDS[user]})
        if r.status_code != 200:
            with lock:
                failures.append(f"{user} login: {r.status_code} {r.text}")
            return
        headers = {"Authorization": f"Bearer {r.json()['token']}"}
        for i in order:
            got = ask(client, headers, reqs[i])
            if got != alone[user][i]:
                with lock:
                    failures.append(f"{user} {reqs[i][1][:60]}: {got[0]} {got[1][:200]!r}")
        if client.post("/api/logout", headers=headers).status_code != 200:
            with lock:
                failures.append(f"{user} logout")
        if client.get("/api/stats", headers=headers).status_code != 401:
            with lock:
                failures.append(f"{user}: session alive after logout")

    threads = [
        threading.Thread(target=worker, args=(user, seed)) for seed in range(THREADS_PER_USER) for user in (LOW, HIGH)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, "\n".join(failures[:10])
