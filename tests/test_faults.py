"""Faults (issue "A team server on PostgreSQL ..."): a full disk, kill -9 of an ingest on either
backend, kill -9 of the server in the middle of requests, and PostgreSQL restarted mid-ingest. After each, nothing stored is lost,
nothing is stored twice or half, the audit log verifies, and running the work again finishes it.

The full disk is a small tmpfs, and the restarted PostgreSQL a server of the test's own, made
with initdb: both need root, and skip with the reason otherwise. The two-ingests-at-once case is
in tests/store/test_concurrency.py.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from kartoteka.archive import Archive
from kartoteka.store.location import Location
from tests.backends import Where, pg_location
from tests.store.test_concurrency import _corpus
from tests.web.conftest import free_port, start_server, stop_server

ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}
PASSWORD = "anna's long passphrase"


def _cli(db: Location, *args: str) -> list[str]:
    return [sys.executable, "-m", "kartoteka.cli", "--archive", str(db), *args]


def _sound(db: Location, documents: int) -> None:
    """The archive opens, holds `documents` documents each once, and its audit log verifies."""
    arch = Archive(db)
    try:
        assert arch.stats()["documents"] == documents
        assert len({d["id"] for d in arch.documents(limit=10_000)}) == documents
        result = arch.audit_verify()
        assert result["ok"], result["problems"]
    finally:
        arch.close()


def _resumes(db: Location, folder: Path, printed: list[str], total: int) -> None:
    """After an ingest of `folder` was cut off: what it reported added is stored and sound, and
    running it again adds exactly the rest."""
    arch = Archive(db)
    try:
        stored = {d["id"] for d in arch.documents(limit=10_000)}
    finally:
        arch.close()
    assert set(printed) <= stored and len(stored) < total
    _sound(db, len(stored))
    again = subprocess.run(_cli(db, "ingest", str(folder), "--json"), capture_output=True, text=True, env=ENV)
    assert again.returncode == 0, again.stderr
    statuses = [json.loads(line)["status"] for line in again.stdout.splitlines()]
    assert statuses.count("unchanged") == len(stored) and statuses.count("added") == total - len(stored)
    _sound(db, total)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1.5 MB tmpfs, unmounted after the test."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1500k", "tmpfs", str(mount)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"can't mount a tmpfs here: {made.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_stops_the_ingest_in_one_line_and_loses_nothing(small_disk: Path, tmp_path: Path) -> None:
    _corpus(tmp_path / "docs", 0, 60)  # about 3 MB of archive: more than the disk holds
    db = small_disk / "k.db"
    run = subprocess.run(_cli(db, "ingest", str(tmp_path / "docs"), "--json"), capture_output=True, text=True, env=ENV)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    [error] = [json.loads(line) for line in run.stderr.splitlines() if line.startswith("{")]
    assert error["error"] == "E118" and "is full" in error["message"]
    added = [json.loads(line)["document_id"] for line in run.stdout.splitlines()]
    assert 0 < len(added) < 60
    # Even a read needs room (SQLite makes the trail's -wal and -shm files): the same one line.
    read = subprocess.run(_cli(db, "stats", "--json"), capture_output=True, text=True, env=ENV)
    assert read.returncode == 1 and json.loads(read.stderr)["error"] == "E118"
    # With room again, what was reported added is there, whole, and the ingest finishes.
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
    _sound(db, len(added))
    again = subprocess.run(
        _cli(db, "ingest", str(tmp_path / "docs"), "--json"), capture_output=True, text=True, env=ENV
    )
    assert again.returncode == 0, again.stderr
    statuses = [json.loads(line)["status"] for line in again.stdout.splitlines()]
    assert statuses.count("unchanged") == len(added) and statuses.count("added") == 60 - len(added)
    _sound(db, 60)
    doctor = subprocess.run(_cli(db, "doctor", "--json"), capture_output=True, text=True, env=ENV)
    assert doctor.returncode == 0 and json.loads(doctor.stdout)["ok"] is True


def test_kill_9_of_an_ingest_then_resume(where: Where, tmp_path: Path) -> None:
    """On SQLite and on PostgreSQL: what was reported added is stored, and the re-run adds only the rest."""
    _corpus(tmp_path / "docs", 0, 60)
    db = where(tmp_path, "k.db")
    proc = subprocess.Popen(
        _cli(db, "ingest", str(tmp_path / "docs"), "--json"),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=ENV,
    )
    assert proc.stdout is not None
    printed: list[str] = []
    for line in proc.stdout:
        printed.append(json.loads(line)["document_id"])
        if len(printed) == 20:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait()
    _resumes(db, tmp_path / "docs", printed, 60)


def test_kill_9_of_the_server_mid_request_then_resume(where: Where, tmp_path: Path) -> None:
    """Batch checks and a correction in flight when the server is killed: the next server serves the
    same sessions, the correction is there or not (never half), and the audit log verifies."""
    _corpus(tmp_path / "docs", 0, 12)
    db = where(tmp_path, "k.db")
    assert subprocess.run(_cli(db, "ingest", str(tmp_path / "docs")), capture_output=True, env=ENV).returncode == 0
    arch = Archive(db)
    try:
        arch.add_user("anna", "S", [], PASSWORD)
        zorin = arch.check("Arkady Zorin")["matches"][0]["entity_id"]
    finally:
        arch.close()
    proc, url = start_server(db)  # type: ignore[arg-type]
    try:
        token = httpx.post(url + "/api/login", json={"user": "anna", "password": PASSWORD}).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        names = [
            {"query_id": f"q{i}", "name": n} for i, n in enumerate(["Arkady Zorin", "Yelena Vetrova", "Nobody"] * 3000)
        ]
        answers: list[object] = []

        def batch() -> None:
            try:
                answers.append(httpx.post(url + "/api/check/batch", json={"names": names}, headers=auth, timeout=60))
            except httpx.HTTPError as exc:
                answers.append(exc)

        threads = [threading.Thread(target=batch) for _ in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        for t in threads:
            t.join()
        assert any(isinstance(a, httpx.HTTPError) for a in answers)  # cut off, not answered
    finally:
        stop_server(proc)
    # A correction by the command line meanwhile, then a new server on the same archive.
    alias = subprocess.run(_cli(db, "alias", zorin, "Arkasha"), capture_output=True, text=True, env=ENV)
    assert alias.returncode == 0, alias.stderr
    proc, url = start_server(db)  # type: ignore[arg-type]
    try:
        r = httpx.get(url + "/api/check", params={"name": "Arkasha"}, headers=auth)
        assert r.status_code == 200, r.text  # the session outlived the killed server
        assert [m["entity_id"] for m in r.json()["matches"]][:1] == [zorin]
    finally:
        stop_server(proc)
    _sound(db, 12)


PG_BIN = Path("/usr/lib/postgresql/15/bin")


@pytest.fixture
def own_postgres() -> Iterator[tuple[str, Callable[[str], None]]]:
    """A PostgreSQL server of this test's own (initdb in a temporary folder, run as the
    postgres user), so that restarting it touches nothing else; (URL, pg_ctl ACTION)."""
    if os.geteuid() != 0 or not (PG_BIN / "initdb").exists():
        pytest.skip("a private PostgreSQL server needs root (to run it as postgres) and PostgreSQL 15's binaries")
    # Outside pytest's folders, which only root may walk through.
    home = Path(tempfile.mkdtemp(prefix="kartoteka-pg-"))
    os.chmod(home, 0o755)
    data, sockets = home / "data", home / "sockets"
    for folder in (data, sockets):
        folder.mkdir()
        shutil.chown(folder, "postgres", "postgres")

    def as_postgres(*argv: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *argv], check=True, capture_output=True)

    as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "--auth=trust", "-U", "postgres", "-E", "UTF8")
    port = free_port()
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
    ctl = [str(PG_BIN / "pg_ctl"), "-D", str(data), "-w", "-o", options, "-l", str(sockets / "server.log")]
    as_postgres(*ctl, "start")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres", lambda action: as_postgres(*ctl, "-m", "fast", action)
    finally:
        from kartoteka.store.postgres_pool import close_pool

        close_pool(f"postgresql://postgres@127.0.0.1:{port}/postgres")
        subprocess.run(["runuser", "-u", "postgres", "--", *ctl, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


def test_postgresql_restarted_mid_ingest_then_resume(
    own_postgres: tuple[str, Callable[[str], None]], tmp_path: Path
) -> None:
    server, pg_ctl = own_postgres
    _corpus(tmp_path / "docs", 0, 60)
    db = pg_location(server, tmp_path / "keys", "k.db")
    proc = subprocess.Popen(
        _cli(db, "ingest", str(tmp_path / "docs"), "--json"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    assert proc.stdout is not None and proc.stderr is not None
    printed: list[str] = []
    for line in proc.stdout:
        printed.append(json.loads(line)["document_id"])
        if len(printed) == 15:
            pg_ctl("restart")
            break
    printed.extend(json.loads(line)["document_id"] for line in proc.stdout)
    err = proc.stderr.read()
    proc.wait()
    # The connection the ingest held is gone: it stops with one line, not a traceback.
    assert proc.returncode == 1 and "Traceback" not in err, err
    assert any(code in err for code in ("E161", "E162")), err
    _resumes(db, tmp_path / "docs", printed, 60)


def test_the_server_outlives_a_postgresql_restart(
    own_postgres: tuple[str, Callable[[str], None]], tmp_path: Path
) -> None:
    """A restart of PostgreSQL under a running server costs the requests in flight at most:
    the next ones are answered, on the sessions made before it."""
    server, pg_ctl = own_postgres
    _corpus(tmp_path / "docs", 0, 6)
    db = pg_location(server, tmp_path / "keys", "k.db")
    assert subprocess.run(_cli(db, "ingest", str(tmp_path / "docs")), capture_output=True, env=ENV).returncode == 0
    arch = Archive(db)
    try:
        arch.add_user("anna", "S", [], PASSWORD)
    finally:
        arch.close()
    proc, url = start_server(db)  # type: ignore[arg-type]
    try:
        token = httpx.post(url + "/api/login", json={"user": "anna", "password": PASSWORD}).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        assert httpx.get(url + "/api/search", params={"q": "Lisbon"}, headers=auth).status_code == 200
        pg_ctl("restart")
        codes = [httpx.get(url + "/api/search", params={"q": "Lisbon"}, headers=auth).status_code for _ in range(3)]
        assert codes[0] in (200, 503) and codes[1:] == [200, 200], codes  # the first may find the connection lost
        assert httpx.get(url + "/api/check", params={"name": "Arkady Zorin"}, headers=auth).status_code == 200
        # While the database is down: 503 with Retry-After, and nothing of where it is, even
        # to a request with a forged token.
        pg_ctl("stop")
        for headers in (auth, {"Authorization": "Bearer forged-token"}):
            down = httpx.get(url + "/api/stats", headers=headers, timeout=90)
            assert down.status_code == 503 and down.headers["Retry-After"], down.text
            assert (
                down.json()["error"] in ("E087", "E083")
                and "postgresql" not in down.text
                and "127.0.0.1" not in down.text
            )
        pg_ctl("start")
        codes = [httpx.get(url + "/api/stats", headers=auth, timeout=90).status_code for _ in range(3)]
        assert codes[1:] == [200, 200], codes
    finally:
        stop_server(proc)
    _sound(db, 6)
