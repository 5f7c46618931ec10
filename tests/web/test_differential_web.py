"""Compartments in the browser's pages, differentially: a U user crawling the web
application of two archives that differ only in hidden material gets the same
pages, byte for byte (up to a consistent renaming of ids).

The crawl starts at the pages a user would open (home, documents, a search
for each word, a name check for each name) and follows every link on this
site the pages hold, and every JSON or page address they name in a data-*
attribute (what their scripts load), breadth first. So a page added later
is crawled too, as soon as any page links to it. Log-out and forms that
change something are not followed; the CSRF and log-in tokens, which differ
per session, are blanked.
"""

from __future__ import annotations

import re
from collections import deque
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import pytest
from fastapi.testclient import TestClient

from kartoteka.service.api import create_app
from kartoteka.store.location import Location
from tests.access.differential import LOW, PASSWORD, build, canonical, first_difference, make_base
from tests.access.test_differential import NAMES, SCENARIOS, WORDS
from tests.backends import pg_location

MAX_PAGES = 400
_LINK = re.compile(r'(?:href|data-[a-z-]+)="(/[^"#]*)"')
_TOKENS = re.compile(r'(name="(?:csrf|login_token)" value=")[^"]*(")|(<meta name="csrf-token" content=")[^"]*(")')
_SKIP = ("/logout", "/static/", "/login", "/docs", "/redoc", "/openapi.json", "/api/")


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Location:
    return make_base(tmp_path_factory.mktemp("base-web"))


@pytest.fixture(scope="module")
def pg_base(pg_database: str, tmp_path_factory: pytest.TempPathFactory) -> Location:
    """The same on PostgreSQL: the pages are the same templates over either
    store, but what reaches them is each store's own SQL."""
    return make_base(
        tmp_path_factory.mktemp("base-web-pg"), lambda folder, name: pg_location(pg_database, folder, name)
    )


# On PostgreSQL a crawl costs about twice what it does on SQLite, so CI crawls
# there the worlds that reach each kind of hidden material once: a paragraph,
# a document, a page, a speaker behind "I", a name stored on a visible card.
# Every world runs on both backends at the API level (tests/access).
ON_POSTGRES = [
    "hidden paragraph in a visible document",
    "hidden document naming visible people",
    "hidden page",
    "hidden speaker behind 'I'",
    "hidden full name stored on a visible card",
]


def _login(client: TestClient) -> None:
    form = client.get("/login")
    token = re.search(r'name="login_token" value="([^"]+)"', form.text)
    assert token, form.text
    r = client.post(
        "/login",
        data={"user": LOW, "password": PASSWORD, "login_token": token.group(1), "next": "/"},
        headers={"Origin": "http://testserver"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


def _blank(text: str) -> str:
    return _TOKENS.sub(lambda m: (m.group(1) or m.group(3)) + "TOKEN" + (m.group(2) or m.group(4)), text)


def crawl(path: Location) -> str:
    answers: list[tuple[str, Any]] = []
    with TestClient(create_app(path), base_url="http://testserver") as client:
        _login(client)
        start = ["/", "/documents"]
        start += [f"/search?q={quote(w)}" for w in WORDS]
        start += [f"/check?name={quote(n)}" for n in NAMES]
        start += [f"/dossier?name={quote(n)}" for n in NAMES]
        queue = deque(start)
        seen = set(start)
        while queue and len(answers) < MAX_PAGES:
            url = queue.popleft()
            r = client.get(url, follow_redirects=False)
            ctype = r.headers.get("content-type", "")
            body = _blank(r.text) if ctype.startswith(("text/", "application/json")) else r.content.hex()
            answers.append((f"GET {url}", [r.status_code, ctype, r.headers.get("location"), body]))
            if not ctype.startswith(("text/html", "application/json")):
                continue
            for link in _LINK.findall(r.text.replace("&amp;", "&")):
                target = urljoin(url, link)
                parts = urlsplit(target)
                if parts.path.startswith(_SKIP) or target in seen:
                    continue
                seen.add(target)
                queue.append(target)
    return canonical(answers, path)


def _same_pages(scenario: str, base: Location, tmp_path: Path) -> None:
    plain, hidden = SCENARIOS[scenario]
    a = crawl(build(base, tmp_path / "a", plain))
    b = crawl(build(base, tmp_path / "b", hidden))
    assert a.count("\n") >= len(WORDS) + 2, "the crawl reached too few pages to mean anything"
    assert a == b, first_difference(a, b)


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_every_page_looks_the_same_to_a_low_user(scenario: str, base: Location, tmp_path: Path) -> None:
    _same_pages(scenario, base, tmp_path)


@pytest.mark.parametrize("scenario", ON_POSTGRES)
def test_every_page_looks_the_same_to_a_low_user_on_postgres(scenario: str, pg_base: Location, tmp_path: Path) -> None:
    _same_pages(scenario, pg_base, tmp_path)


def test_the_crawl_reaches_document_and_search_pages(base: Location, tmp_path: Path) -> None:
    # The harness must see what it claims to: a world with a visible document
    # gives document pages and hits, so an empty crawl cannot pass the test above.
    plain, _ = SCENARIOS[next(iter(SCENARIOS))]
    text = crawl(build(base, tmp_path / "a", plain))
    assert "GET /documents/doc#" in text
    assert "passage" in text and "<mark>" in text
