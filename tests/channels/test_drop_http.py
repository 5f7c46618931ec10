"""The drop over HTTP, as a real `kartoteka drop serve` process: pages, headers, refusals, isolation."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kartoteka.channels import codename as cn
from kartoteka.channels.drop_store import NEWSROOM_KEY, Drop, open_submission, read_private_key
from tests.channels.served import ROOT, ServedDrop
from tests.channels.world import make_drop

LIMIT = 256 * 1024


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServedDrop, Path, Path]]:
    drop, key = make_drop(tmp_path_factory.mktemp("drop"), max_upload=LIMIT)
    s = ServedDrop(drop)
    yield s, drop, key
    s.stop()


def test_pages_send_no_tracking_headers_and_a_strict_policy(served: tuple[ServedDrop, Path, Path]) -> None:
    s, _, _ = served
    with httpx.Client() as c:
        for r in (c.get(s.url + "/"), c.post(s.url + "/codename"), c.get(s.url + "/nowhere")):
            h = r.headers
            assert h["content-security-policy"].startswith("default-src 'none'")
            assert "script-src" not in h["content-security-policy"]
            assert h["referrer-policy"] == "no-referrer" and h["cache-control"] == "no-store"
            assert h["x-frame-options"] == "DENY"
            for header in ("server", "date", "set-cookie", "etag", "last-modified", "x-request-id"):
                assert header not in h, header
        page = c.get(s.url + "/").text
        assert "256 KiB in all" in page  # the stated limit is this drop's own
        assert "90.5 bits" in page
        assert "http" not in page.replace(s.url, "")  # nothing from elsewhere, not even a link
        assert c.get(s.url + "/docs").status_code == 404 and c.get(s.url + "/openapi.json").status_code == 404


def test_submit_collect_and_identical_answers_for_a_wrong_and_an_empty_codename(
    served: tuple[ServedDrop, Path, Path],
) -> None:
    s, drop, key = served
    with httpx.Client() as c:
        codename = s.new_codename(c)
        assert len(codename.split()) == 7
        r = c.post(
            s.url + "/submit",
            data={"codename": codename, "message": "Meet at the old bridge."},
            files=[("files", ("../../../etc/report.txt", b"page one", "text/plain"))],
        )
        assert r.status_code == 200 and "Received" in r.text
        right_empty = c.post(s.url + "/replies", data={"codename": codename})
        wrong = c.post(s.url + "/replies", data={"codename": cn.generate()})
        assert right_empty.status_code == wrong.status_code == 200
        assert right_empty.content == wrong.content and dict(right_empty.headers) == dict(wrong.headers)
        assert codename not in right_empty.text
    d = Drop(drop)
    sid = next(x for x in d.source_ids() if d.submissions(x))
    sub = open_submission(d.submissions(sid)[0].read_bytes(), read_private_key(key, NEWSROOM_KEY))
    assert sub.message == "Meet at the old bridge." and sub.files == (("report.txt", b"page one"),)
    d.add_reply(sid, "Received, thank you.")
    with httpx.Client() as c:
        r = c.post(s.url + "/replies", data={"codename": codename.upper()})
        assert "Received, thank you." in r.text


def test_refusals(served: tuple[ServedDrop, Path, Path]) -> None:
    s, _, _ = served
    with httpx.Client() as c:
        codename = s.new_codename(c)
        empty = c.post(s.url + "/submit", data={"codename": codename, "message": "  "}, files=[("files", ("", b""))])
        assert empty.status_code == 422 and "empty" in empty.text
        big = c.post(
            s.url + "/submit", data={"codename": codename}, files=[("files", ("a.bin", b"\0" * (LIMIT + 1), "x/y"))]
        )
        assert big.status_code == 413
        # A body far past the limit is refused from its Content-Length, before it is read.
        huge = c.post(
            s.url + "/submit",
            content=b"x" * (LIMIT + 300 * 1024),
            headers={"content-type": "multipart/form-data; boundary=b"},
        )
        assert huge.status_code == 413
        for bad in ("", "not a codename", "abacus " * 40, codename + " extra"):
            r = c.post(s.url + "/replies", data={"codename": bad})
            assert r.status_code == 422 and "codename" in r.text.lower()
        assert c.post(s.url + "/submit", content=b"garbage", headers={"content-type": "text/plain"}).status_code == 400
        cross = c.post(s.url + "/codename", headers={"sec-fetch-site": "cross-site"})
        assert cross.status_code == 403
        assert c.get(s.url + "/submit").status_code == 405


def test_the_drop_logs_no_client_address(tmp_path: Path) -> None:
    drop, _ = make_drop(tmp_path)
    s = ServedDrop(drop)
    try:
        with httpx.Client() as c:
            codename = s.new_codename(c)
            c.post(s.url + "/submit", data={"codename": codename, "message": "hello"})
            c.get(s.url + "/missing")
    finally:
        out, err = s.stop()
    assert "127.0.0.1" not in out + err and "GET" not in out + err and "POST" not in out + err


def test_the_drop_process_loads_nothing_of_the_archive() -> None:
    probe = (
        "import sys, kartoteka.channels.drop_app as m; m.create_app; "
        "print(sorted(n for n in sys.modules if n.startswith(('kartoteka.archive', 'kartoteka.store', "
        "'kartoteka.access', 'kartoteka.registry', 'kartoteka.cli', 'spacy'))))"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_serve_on_a_missing_drop_is_one_line(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "kartoteka.cli", "drop", "serve", "--drop", str(tmp_path / "none")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "[E135]" in r.stderr
