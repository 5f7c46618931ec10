"""`kartoteka serve --workers 2`: two processes behind one port share sessions, tokens and the CSRF key,
on a SQLite file (the credentials file beside it) and on PostgreSQL (the credentials schema in its
database)."""

from __future__ import annotations

from pathlib import Path

import httpx
import psutil

from kartoteka.archive import Archive
from tests.backends import Where
from tests.web.conftest import csrf_of, login_client, start_server, stop_server

PASSWORD = "anna's long passphrase"


def test_two_workers_serve_one_session(tmp_path: Path, where: Where) -> None:
    path = where(tmp_path, "a.db")
    arch = Archive(path)
    try:
        arch.add_user("anna", "U", [], PASSWORD)
    finally:
        arch.close()
    owner = Archive(path)
    try:
        made = owner.create_token("anna", "script", "check,read", 1)["token"]
    finally:
        owner.close()
    proc, url = start_server(path, "--workers", "2")  # type: ignore[arg-type]
    try:
        # The supervisor and its two workers (multiprocessing may add a resource tracker).
        workers = [c for c in psutil.Process(proc.pid).children() if "resource_tracker" not in " ".join(c.cmdline())]
        assert len(workers) == 2
        token = httpx.post(url + "/api/login", json={"user": "anna", "password": PASSWORD}).json()["token"]
        for _ in range(40):
            # A new connection each time, so the kernel spreads them over both workers.
            with httpx.Client(base_url=url) as c:
                r = c.get("/api/stats", headers={"Authorization": f"Bearer {token}"})
                assert r.status_code == 200, r.text
        web = login_client(url, "anna", PASSWORD)
        for _ in range(10):
            # A page from one worker, its form posted to whichever answers: one CSRF key.
            home = web.get("/")
            assert home.status_code == 200
        out = web.post("/logout", data={"csrf": csrf_of(home.text)}, headers={"Origin": url})
        assert out.status_code == 303
        assert web.get("/", follow_redirects=False).status_code == 303  # logged out everywhere
        # An API token made by the command line before the server started works on every worker.
        for _ in range(10):
            with httpx.Client(base_url=url) as c:
                r = c.get("/api/stats", headers={"Authorization": f"Bearer {made}"})
                assert r.status_code == 200, r.text
    finally:
        stop_server(proc)
