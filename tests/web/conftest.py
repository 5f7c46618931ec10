"""Fixtures for the web application: a real `kartoteka serve` over the demo archive, and Debian's Chromium.

The server is the command users run (a subprocess on a free port), the
browser is /usr/bin/chromium driven by Playwright from PyPI (its own browser
download is not possible here). Two users: `admin`, an owner who logs in,
and `clerk`, cleared for U. Screenshots go to $KARTOTEKA_SCREENSHOTS, by
default artifacts/screenshots/ at the root of the checkout (CI keeps it).

Without Chromium the browser tests skip, unless KARTOTEKA_REQUIRE_BROWSER=1
(set by .ci/run), where they fail: CI has a browser.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from kartoteka.archive import Archive
from kartoteka.demo import build

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(os.environ.get("KARTOTEKA_SCREENSHOTS") or ROOT / "artifacts" / "screenshots")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

OWNER, OWNER_PASSWORD = "admin", "admin's long passphrase"
CLERK, CLERK_PASSWORD = "clerk", "clerk's long passphrase"


@dataclass(frozen=True)
class Server:
    url: str
    archive: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(archive: Path, *extra: str) -> tuple[subprocess.Popen[bytes], str]:
    """`kartoteka serve` on a free port, once its log-in page answers."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kartoteka.cli", "--archive", str(archive), "serve", "--port", str(port), *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"kartoteka serve exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            if httpx.get(url + "/login", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("kartoteka serve did not answer within 60 s")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


def web_users(path: Path) -> None:
    arch = Archive(path)
    try:
        arch.add_user(OWNER, "OWNER", [], OWNER_PASSWORD)
        arch.add_user(CLERK, "U", [], CLERK_PASSWORD)
    finally:
        arch.close()


@pytest.fixture(scope="session")
def web_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("web") / "demo.db"
    build(path).close()
    web_users(path)
    return path


@pytest.fixture(scope="session")
def web_server(web_archive: Path) -> Iterator[Server]:
    proc, url = start_server(web_archive)
    try:
        yield Server(url, web_archive)
    finally:
        stop_server(proc)


def login_client(url: str, user: str, password: str) -> httpx.Client:
    """An HTTP client logged in through the log-in form, as a browser is."""
    import re

    client = httpx.Client(base_url=url, follow_redirects=False, timeout=30)
    form = client.get("/login")
    token = re.search(r'name="login_token" value="([^"]+)"', form.text)
    assert token, form.text
    r = client.post(
        "/login",
        data={"user": user, "password": password, "login_token": token.group(1), "next": "/"},
        headers={"Origin": url},
    )
    assert r.status_code == 303, r.text
    return client


def csrf_of(html: str) -> str:
    import re

    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


# Browser ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("KARTOTEKA_REQUIRE_BROWSER") == "1":
            pytest.fail("Chromium is required (KARTOTEKA_REQUIRE_BROWSER=1) but /usr/bin/chromium is missing")
        pytest.skip("Debian's chromium is not installed (bin/setup installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def browser_login(browser: Any, url: str, user: str, password: str) -> Any:
    """A new browser context logged in through the form; returns its page."""
    context = browser.new_context(base_url=url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(url + "/")
    return page


@pytest.fixture
def owner_page(browser: Any, web_server: Server) -> Iterator[Any]:
    page = browser_login(browser, web_server.url, OWNER, OWNER_PASSWORD)
    yield page
    page.context.close()


@pytest.fixture
def clerk_page(browser: Any, web_server: Server) -> Iterator[Any]:
    page = browser_login(browser, web_server.url, CLERK, CLERK_PASSWORD)
    yield page
    page.context.close()


def shot(page: Any, name: str) -> Path:
    """Save a full-page screenshot for people to look at (CI keeps the folder)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def console_errors(page: Any) -> list[str]:
    """A list that fills with the page's console errors from now on: among them
    every refusal by the Content-Security-Policy ("Refused to apply inline
    style ..."), which Chromium reports there and nowhere else."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    return errors


def axe_violations(page: Any, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict[str, Any]]:
    """axe-core (from npm) on the page as shown, WCAG 2.1 A and AA rules; the violations of these impacts.

    Evaluated through the DevTools protocol, which the page's CSP does not
    govern, so the page needs no exception for a test script."""
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: bin/setup installs the front-end packages with npm ci")
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in impacts
    ]


__all__ = ["CLERK", "CLERK_PASSWORD", "OWNER", "OWNER_PASSWORD", "Server"]
