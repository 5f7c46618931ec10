"""Issue "Reliability hardening" items 3 and 10, issue "Compartments hardening" item 10:
what one client can make the server spend.

Log-ins are limited per user name and per client address (429 with
Retry-After), at most two Argon2 hashes run at once, and every request has
a deadline past which it is stopped and answered 503.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from fastapi.testclient import TestClient

from kartoteka.archive import Archive
from kartoteka.service.api import create_app
from kartoteka.service.auth import LoginLimits
from tests.access.test_policy import _doc
from tests.service.world import HIGH, LOW, PASSWORDS, build, login


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return build(tmp_path_factory.mktemp("limits") / "l.db")


def _attempt(client: TestClient, user: str, password: str = "wrong") -> Any:
    return client.post("/api/login", json={"user": user, "password": password})


def test_log_ins_are_limited_per_user_name_alike_for_names_that_do_not_exist(world: dict[str, Any]) -> None:
    with TestClient(create_app(world["path"], limits=LoginLimits(per_user=3, per_address=100))) as client:
        for user in (LOW, "nobody-by-this-name"):
            assert [_attempt(client, user).status_code for _ in range(3)] == [401, 401, 401]
            limited = _attempt(client, user)
            assert limited.status_code == 429
            assert limited.json()["error"] == "E081"
            assert 1 <= int(limited.headers["Retry-After"]) <= 60
        # The same answer for a user who exists and one who does not (the seconds
        # to wait count from each name's own first attempt).
        a, b = _attempt(client, LOW), _attempt(client, "nobody-by-this-name")
        assert re.sub(rb"\d+", b"N", a.content) == re.sub(rb"\d+", b"N", b.content)
        # Even the right password waits: the limit is counted before any hash.
        assert _attempt(client, LOW, PASSWORDS[LOW]).status_code == 429
        # Another user is not limited by ulla's attempts.
        assert _attempt(client, HIGH, PASSWORDS[HIGH]).status_code == 200


def test_log_ins_are_limited_per_client_address(world: dict[str, Any]) -> None:
    with TestClient(create_app(world["path"], limits=LoginLimits(per_user=100, per_address=4))) as client:
        codes = [_attempt(client, f"guess{i}").status_code for i in range(5)]
        assert codes == [401, 401, 401, 401, 429]


def test_a_successful_log_in_is_not_counted(world: dict[str, Any]) -> None:
    with TestClient(create_app(world["path"], limits=LoginLimits(per_user=2, per_address=2))) as client:
        for _ in range(4):
            login(client, LOW)
        assert _attempt(client, LOW).status_code == 401
        assert _attempt(client, LOW).status_code == 401
        assert _attempt(client, LOW).status_code == 429


def test_many_clients_of_one_user_log_in_at_once(world: dict[str, Any]) -> None:
    """Attempts are counted under the hashing slot, so correct log-ins from more
    clients than the limit (a user's scripts) are all served."""
    with TestClient(create_app(world["path"], limits=LoginLimits(per_user=3, per_address=3))) as client:
        codes: list[int] = []
        barrier = threading.Barrier(10)

        def log_in() -> None:
            barrier.wait()
            codes.append(_attempt(client, LOW, PASSWORDS[LOW]).status_code)

        threads = [threading.Thread(target=log_in) for _ in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert codes == [200] * 10


def test_a_burst_of_guesses_is_cut_at_the_limit(world: dict[str, Any]) -> None:
    with TestClient(create_app(world["path"], limits=LoginLimits(per_user=5, per_address=100))) as client:
        codes: list[int] = []
        barrier = threading.Barrier(20)

        def guess() -> None:
            barrier.wait()
            codes.append(_attempt(client, LOW).status_code)

        threads = [threading.Thread(target=guess) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(codes) == [401] * 5 + [429] * 15


def test_limits_forget_old_attempts(world: dict[str, Any]) -> None:
    limits = LoginLimits(per_user=1, per_address=10, window=1.5)
    with TestClient(create_app(world["path"], limits=limits)) as client:
        first = time.monotonic()
        assert _attempt(client, LOW).status_code == 401
        assert _attempt(client, LOW).status_code == 429
        time.sleep(max(0.0, first + 1.6 - time.monotonic()))
        assert _attempt(client, LOW).status_code == 401


def _peak_rss_during(work: Iterator[None] | Any) -> int:
    proc = psutil.Process()
    peak = base = proc.memory_info().rss
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, proc.memory_info().rss)
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        work()
    finally:
        done.set()
        sampler.join()
    return peak - base


def test_concurrent_wrong_passwords_hash_two_at_a_time(world: dict[str, Any]) -> None:
    """20 guesses at once, none limited: Argon2 takes 64 MiB each, so unbounded
    they would take over a gigabyte; two at a time stay near 128 MiB."""
    limits = LoginLimits(per_user=1000, per_address=1000)
    with TestClient(create_app(world["path"], limits=limits)) as client:
        codes: list[int] = []
        barrier = threading.Barrier(20)

        def guess() -> None:
            barrier.wait()
            codes.append(_attempt(client, LOW).status_code)

        def burst() -> None:
            threads = [threading.Thread(target=guess) for _ in range(20)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()

        grown = _peak_rss_during(burst)
    assert codes == [401] * 20
    assert grown < 400 * 2**20, f"log-ins grew the process by {grown / 2**20:.0f} MiB"


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An archive whose portions table takes SQLite more than a few hundred thousand steps to scan."""
    path = tmp_path_factory.mktemp("big") / "big.db"
    arch = Archive(path)
    text = "\n\n".join(f"(U) Paragraph {i} of the long report." for i in range(3000))
    list(arch.ingest([_doc("long.txt", text)]))
    arch.add_user(LOW, "U", [], PASSWORDS[LOW])
    arch.close()
    return path


def test_a_request_past_its_deadline_is_stopped_and_answered_503(big: Path) -> None:
    with TestClient(create_app(big, request_seconds=0.001)) as client:
        ulla = login(client, LOW)
        r = client.get("/api/stats", headers=ulla)
        assert r.status_code == 503
        assert r.json()["error"] == "E080" and "deadline of 0.001 s" in r.json()["message"]
        assert int(r.headers["Retry-After"]) > 0
        # The server goes on answering (small requests fit in any deadline).
        assert client.get("/openapi.json").status_code == 200
    with TestClient(create_app(big, request_seconds=30)) as client:
        r = client.get("/api/stats", headers=login(client, LOW))
        assert r.status_code == 200 and r.json()["portions"] >= 3000


def test_a_long_batch_stops_at_its_deadline(world: dict[str, Any]) -> None:
    names = [{"query_id": str(i), "name": f"Person Number{i}"} for i in range(10_000)]
    with TestClient(create_app(world["path"], request_seconds=0.5)) as client:
        ulla = login(client, LOW)
        start = time.monotonic()
        r = client.post("/api/check/batch", json={"names": names}, headers=ulla)
        took = time.monotonic() - start
        assert r.status_code == 503 and r.json()["error"] == "E080"
        assert took < 3, took
        # The user's next request is served.
        assert client.get("/api/stats", headers=ulla).status_code == 200
