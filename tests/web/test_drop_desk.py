"""The drop's desk in the web application: for handlers only; anyone else gets the constant 404."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kartoteka.archive import Archive
from tests.web.conftest import CLERK, CLERK_PASSWORD, OWNER, OWNER_PASSWORD, Server, axe_violations, login_client, shot


def test_the_desk_is_the_handlers_and_nobody_elses(web_server: Server) -> None:
    owner = login_client(web_server.url, OWNER, OWNER_PASSWORD)
    clerk = login_client(web_server.url, CLERK, CLERK_PASSWORD)
    mine = owner.get("/drop")
    assert mine.status_code == 200 and "The drop" in mine.text
    assert 'href="/drop"' in mine.text  # in the owner's navigation
    refused, missing = clerk.get("/drop"), clerk.get("/no-such-page")
    assert refused.status_code == missing.status_code == 404
    assert refused.content == missing.content
    assert 'href="/drop"' not in clerk.get("/").text


def test_a_handler_sees_their_drop_sources(browser: Any, web_server: Server, tmp_path: Path) -> None:
    arch = Archive(web_server.archive)
    try:
        arch.add_user("desk-handler", "S", ["HUM", "HANDLER"], "desk handler's long passphrase")
        arch.source_add("DESKTEST", "A fictional true name", "desk-handler")
    finally:
        arch.close()
    handler = login_client(web_server.url, "desk-handler", "desk handler's long passphrase")
    page = handler.get("/drop")
    assert page.status_code == 200
    assert "DESKTEST" in page.text and "A fictional true name" not in page.text
    context = browser.new_context(base_url=web_server.url)
    context.add_cookies(
        [{"name": "kartoteka_session", "value": handler.cookies["kartoteka_session"], "url": web_server.url}]
    )
    tab = context.new_page()
    tab.goto("/drop")
    assert axe_violations(tab) == []
    shot(tab, "drop-desk-handler")
    context.close()
