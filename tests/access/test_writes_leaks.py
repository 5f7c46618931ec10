"""Small leaks around writes and administration: user names, file modes, a
true name on the command line, and the command line's authority over an
archive a server is serving."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kartoteka.access.serving import ServingLock, serving_pid
from kartoteka.archive import Archive
from kartoteka.errors import KartotekaError
from kartoteka.registry.readers import RawDocument

SECRET = "(S) Colonel Arkady Zorin met the journalist Duarte Mendes in Lisbon in March 1977.\n"


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    path = tmp_path / "l.db"
    owner = Archive(path)
    list(owner.ingest([RawDocument(source="s.txt", format="txt", reader="test.v1", text=SECRET)], label="S"))
    owner.add_user("clerk", "S", [])
    owner.add_user("petr", "U", [])
    owner.add_user("handler", "S", ["HUM"])
    owner.close()
    return path


def _cli(path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kartoteka.cli", "--archive", str(path), *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
    )


def test_release_for_another_users_name_does_not_tell_whether_they_exist(archive: Path) -> None:
    clerk = Archive(archive, user="clerk")
    try:
        doc = clerk.documents()[0]["id"]
        answers = []
        for name in ("petr", "nobody"):
            with pytest.raises(KartotekaError) as exc:
                clerk.release(doc, name, "txt")
            answers.append(exc.value.message.replace(name, "NAME"))
        assert answers[0] == answers[1] and "E041" in answers[0]
        # Yourself, and any level, you may name.
        assert b"Zorin" in clerk.release(doc, "clerk", "txt")[0]
        assert b"Zorin" in clerk.release(doc, "S", "txt")[0]
    finally:
        clerk.close()
    owner = Archive(archive)  # the owner, who manages users, may name any
    try:
        with pytest.raises(KartotekaError, match="E041"):
            owner.release(doc, "nobody", "txt")
        assert b"[ ]" in owner.release(doc, "petr", "txt")[0]
    finally:
        owner.close()


def test_an_archive_and_every_file_beside_it_are_private(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    owner = Archive(path)
    try:
        list(owner.ingest([RawDocument(source="s.txt", format="txt", reader="test.v1", text=SECRET)]))
        owner.add_user("handler", "S", ["HUM"])
        owner.source_add("GRANITE", "Someone Else", "handler")
        owner.check("Zorin")
    finally:
        owner.close()
    files = [f for f in tmp_path.rglob("*") if f.is_file()]
    assert path in files and len(files) >= 4, files  # the archive, its keys, anchors, trail ...
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) & 0o077 == 0, f"{f.name} is {oct(f.stat().st_mode)}"


def test_a_true_name_is_read_from_stdin_and_refused_on_the_command_line(archive: Path) -> None:
    refused = _cli(archive, "source", "add", "GRANITE", "--handler", "handler", "--true-name", "Valentin Korzhakov")
    assert refused.returncode == 1 and "E103" in refused.stderr
    assert "Valentin" not in refused.stderr
    owner = Archive(archive)
    try:
        assert owner.sources() == []  # nothing was registered
    finally:
        owner.close()
    added = _cli(
        archive, "source", "add", "GRANITE", "--handler", "handler", "--true-name", "-", stdin="Valentin Korzhakov\n"
    )
    assert added.returncode == 0, added.stderr
    shown = _cli(archive, "source", "show", "GRANITE", "--json")
    assert '"true_name": "Valentin Korzhakov"' in shown.stdout


def test_serving_is_a_lock_held_by_a_live_process(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    Archive(path).close()
    assert serving_pid(path) is None
    with ServingLock(path):
        assert serving_pid(path) == os.getpid()
    assert serving_pid(path) is None  # the file stays; the lock went with its holder
    # A holder killed outright leaves no stale "served" state behind.
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys,time; from pathlib import Path; from kartoteka.access.serving import "
         "ServingLock; l=ServingLock(Path(sys.argv[1])).__enter__(); print('held', flush=True); time.sleep(60)",
         str(path)],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert serving_pid(path) == holder.pid
    finally:
        holder.kill()
        holder.wait()
    assert serving_pid(path) is None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(archive: Path) -> Iterator[subprocess.Popen[bytes]]:
    server = subprocess.Popen(
        [sys.executable, "-m", "kartoteka.cli", "--archive", str(archive), "serve", "--port", str(_free_port())],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while serving_pid(archive) is None:
            assert server.poll() is None and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield server
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root, to make the archive another user's file")
def test_the_command_line_refuses_a_served_archive_to_all_but_its_owner(
    archive: Path, served: subprocess.Popen[bytes]
) -> None:
    # The owner of the file may: it is theirs to read anyway.
    assert _cli(archive, "--as", "petr", "stats", "--json").returncode == 0
    others = 65534  # nobody
    os.chown(archive, others, -1)
    try:
        for args in (("--as", "petr", "stats"), ("--as", "clerk", "search", "Zorin"), ("stats",)):
            refused = _cli(archive, *args)
            assert refused.returncode == 1 and "E104" in refused.stderr and str(served.pid) in refused.stderr
        served.terminate()
        served.wait(timeout=20)
        # Not served any more: the command line is the file's, as before.
        assert _cli(archive, "--as", "petr", "stats", "--json").returncode == 0
    finally:
        os.chown(archive, os.geteuid(), -1)
