"""`kartoteka serve` as a real process: the audit head is anchored on a timer
(issue "Compartments hardening" item 8, the server's part), and SIGTERM stops
the server while requests are in flight (issue "Reliability hardening" item 3)."""

from __future__ import annotations

import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kartoteka.archive import Archive
from tests.service.world import LOW, PASSWORDS, build

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    def __init__(self, path: Path, *options: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "kartoteka.cli", "--archive", str(path), "serve", "--port", str(self.port)]
        self.proc = subprocess.Popen(
            [*cmd, *options], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/openapi.json", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                if self.proc.poll() is not None:
                    raise RuntimeError(self.proc.stderr.read() if self.proc.stderr else "server died") from None
                time.sleep(0.1)
        self.proc.kill()
        raise RuntimeError("the server did not start")

    def token(self) -> dict[str, str]:
        r = httpx.post(f"{self.url}/api/login", json={"user": LOW, "password": PASSWORDS[LOW]}, timeout=30)
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['token']}"}

    def end(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    yield build(tmp_path / "served.db")


def _verify(path: Path) -> dict[str, Any]:
    arch = Archive(path)
    try:
        return arch.audit_verify()
    finally:
        arch.close()


def _entries(path: Path) -> int:
    db = sqlite3.connect(f"{path}.audit.sqlite")
    try:
        return int(db.execute("SELECT max(seq) FROM audit").fetchone()[0])
    finally:
        db.close()


def test_the_server_anchors_on_a_timer_so_a_kill_cannot_hide_deletions(world: dict[str, Any]) -> None:
    path = world["path"]
    before = _entries(path)
    server = Served(path, "--anchor-every", "0.5")
    try:
        headers = server.token()
        for q in ("Zorin", "Lisbon", "Mendes"):
            assert httpx.get(f"{server.url}/api/search?q={q}", headers=headers, timeout=30).status_code == 200
        time.sleep(1.5)  # at least two ticks of the timer
        server.proc.send_signal(signal.SIGKILL)  # no shutdown, no close: only the timer anchored
    finally:
        server.end()
    after = _entries(path)
    assert after >= before + 3
    found = _verify(path)
    assert found["ok"] and found["unanchored"] == 0, found
    # Deleting the server's entries is now caught: an anchor signs an entry the log no longer holds.
    db = sqlite3.connect(f"{path}.audit.sqlite")
    with db:
        db.execute("DELETE FROM audit WHERE seq > ?", (before,))
    db.close()
    assert not _verify(path)["ok"]


def test_sigterm_stops_the_server_with_requests_in_flight(world: dict[str, Any]) -> None:
    path = world["path"]
    server = Served(path, "--request-timeout", "300")
    try:
        headers = server.token()
        names = [{"query_id": str(i), "name": f"Arkady Zorin{i}"} for i in range(10_000)]
        answers: list[int] = []

        def batch() -> None:
            try:
                r = httpx.post(f"{server.url}/api/check/batch", json={"names": names}, headers=headers, timeout=300)
                answers.append(r.status_code)
            except httpx.HTTPError:
                answers.append(0)  # the connection closed by the shutdown

        clients = [threading.Thread(target=batch) for _ in range(6)]
        for t in clients:
            t.start()
        time.sleep(1.0)  # the first batch is being screened, the others wait for the user's archive
        assert not answers, "the batches finished before the signal; make them longer"
        sent = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        server.proc.wait(timeout=30)
        took = time.monotonic() - sent
        for t in clients:
            t.join(timeout=30)
    finally:
        server.end()
    print(f"stopped in {took:.2f} s; answers {answers}")
    assert took < 8, f"the server took {took:.1f} s to stop"
    assert all(code in (0, 503) for code in answers), answers
    found = _verify(path)
    assert found["ok"] and found["unanchored"] == 0, found  # anchored at shutdown


def test_serve_refuses_a_deadline_that_is_not_positive(world: dict[str, Any]) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "kartoteka.cli", "--archive", str(world["path"]), "serve", "--request-timeout", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 1
    assert "E086" in r.stderr and "request-timeout" in r.stderr and len(r.stderr.strip().splitlines()) == 1
