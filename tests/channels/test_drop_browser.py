"""The drop's pages in Debian's Chromium (Playwright): no request leaves the drop's origin, no cookie,
and a wrong codename and a right one without replies give byte-identical answers.

Without Chromium these tests skip, unless KARTOTEKA_REQUIRE_BROWSER=1 (set by CI), where they fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kartoteka.channels import codename as cn
from kartoteka.channels.drop_store import NEWSROOM_KEY, Drop, open_submission, read_private_key
from tests.channels.served import ROOT, ServedDrop
from tests.channels.world import make_drop

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(os.environ.get("KARTOTEKA_SCREENSHOTS") or ROOT / "artifacts" / "screenshots")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("KARTOTEKA_REQUIRE_BROWSER") == "1":
            pytest.fail("Chromium is required (KARTOTEKA_REQUIRE_BROWSER=1) but /usr/bin/chromium is missing")
        pytest.skip("Debian's chromium is not installed (bin/setup installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServedDrop, Path, Path]]:
    drop, key = make_drop(tmp_path_factory.mktemp("drop"))
    s = ServedDrop(drop)
    yield s, drop, key
    s.stop()


def _shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _replies(page: Any, url: str, codename: str) -> bytes:
    page.goto(url + "/")
    page.fill("#r-codename", codename)
    with page.expect_response(lambda r: r.url == url + "/replies") as info:
        page.get_by_role("button", name="Read replies").click()
    body: bytes = info.value.body()
    page.wait_for_load_state()
    return body


def test_a_source_in_chromium(browser: Any, served: tuple[ServedDrop, Path, Path]) -> None:
    s, drop_path, key = served
    context = browser.new_context()
    page = context.new_page()
    requests: list[str] = []
    violations: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(s.url + "/")
    _shot(page, "drop-index")
    page.get_by_role("button", name="Get a codename").click()
    codename = page.inner_text(".codename").strip()
    assert cn.normalise(codename) == codename
    _shot(page, "drop-codename")
    page.fill("#s-codename", codename)
    page.fill("#message", "The ledger is in the second drawer.")
    page.set_input_files(
        "#files", files=[{"name": "../../ledger.txt", "mimeType": "text/plain", "buffer": b"Account 17: 4,000"}]
    )
    page.get_by_role("button", name="Send").click()
    page.wait_for_selector("text=Thank you")
    _shot(page, "drop-received")

    empty = _replies(page, s.url, codename)
    shown_empty = page.content()
    wrong = _replies(page, s.url, cn.generate())
    shown_wrong = page.content()
    assert empty == wrong and shown_empty == shown_wrong
    assert b"no replies" in empty and codename.encode() not in empty
    _shot(page, "drop-replies-none")

    # Nothing but the drop itself was asked for: no font, script, image or beacon from elsewhere.
    assert requests and all(u.startswith(s.url + "/") for u in requests), requests
    assert any(u.endswith("/static/drop.css") for u in requests)  # the one stylesheet, from the drop
    assert context.cookies() == [] and violations == []

    # What the browser sent arrived sealed, its file name made harmless.
    d = Drop(drop_path)
    sid = next(x for x in d.source_ids() if d.submissions(x))
    sub = open_submission(d.submissions(sid)[0].read_bytes(), read_private_key(key, NEWSROOM_KEY))
    assert sub.message == "The ledger is in the second drawer." and sub.files == (("ledger.txt", b"Account 17: 4,000"),)

    # A reply appears for the right codename only.
    d.add_reply(sid, "Understood. Do nothing more this week.")
    assert b"Do nothing more this week." in _replies(page, s.url, codename)
    _shot(page, "drop-replies")
    assert b"no replies" in _replies(page, s.url, cn.generate())
    context.close()
