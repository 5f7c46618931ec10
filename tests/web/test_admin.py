"""Administration in Chromium: the owner adds a user, registers a source (whose true name is in no list),
reveals it on an explicit POST, hands it over, and verifies the audit log; to anyone else every
administration path, GET or POST, with or without a CSRF token, is the constant 404 page."""

from __future__ import annotations

import re
from contextlib import closing
from pathlib import Path
from typing import Any

from kartoteka.archive import Archive
from tests.web.conftest import (
    CLERK,
    CLERK_PASSWORD,
    OWNER,
    OWNER_PASSWORD,
    Server,
    axe_violations,
    csrf_of,
    login_client,
    shot,
    start_server,
    stop_server,
    web_users,
)

TRUE_NAME = "Ignatius Q. Testperson"
CRYPTONYM = "GT/SPARROW"
HANDLER, HANDLER_PASSWORD = "handler-h", "a handler's long passphrase"

ADMIN_POSTS = ("/admin/users", "/admin/sources", "/admin/sources/handover", "/admin/sources/reveal")


def test_owner_administers_users_sources_and_the_audit_log(owner_page: Any, web_server: Server) -> None:
    page = owner_page
    page.get_by_role("link", name="Administration").click()
    users = page.locator("table.admin").first
    assert OWNER in users.inner_text() and CLERK in users.inner_text()
    assert axe_violations(page) == []
    shot(page, "admin-owner")

    page.get_by_label("User name").fill(HANDLER)
    page.get_by_label("Clearance", exact=True).select_option("S")
    page.get_by_label("Compartments and roles").fill("HUM")
    page.get_by_label("Password (at least").fill(HANDLER_PASSWORD)
    page.get_by_role("button", name="Save the user").click()
    page.wait_for_url("**/admin?done=user")
    assert page.get_by_role("status").inner_text().startswith("The user was saved")
    assert page.locator("table.admin").first.get_by_role("rowheader", name=HANDLER).count() == 1

    page.get_by_label("Cryptonym").fill(CRYPTONYM)
    page.get_by_label("True name").fill(TRUE_NAME)
    page.get_by_label("Handler (must be cleared").select_option(HANDLER)
    page.get_by_role("button", name="Register the source").click()
    page.wait_for_url("**/admin?done=source")
    row = page.locator("tr", has_text=CRYPTONYM)
    assert HANDLER in row.inner_text()
    # The list holds the cryptonym and its handler, never the true name; it is marked by the source's label.
    assert TRUE_NAME not in page.content() and "Testperson" not in page.content()
    assert page.locator(".banner").first.inner_text() == "SECRET//HUM"
    assert axe_violations(page) == []
    shot(page, "admin-sources-owner")

    row.get_by_role("button", name=f"Reveal the true name of {CRYPTONYM}").click()
    assert page.locator(".true-name").inner_text() == TRUE_NAME
    assert page.locator(".banner").first.inner_text() == "SECRET//HUM"
    assert axe_violations(page) == []
    shot(page, "admin-reveal-owner")
    page.get_by_role("link", name="Back to administration").click()
    assert TRUE_NAME not in page.content()

    row = page.locator("tr", has_text=CRYPTONYM)
    row.get_by_label(f"New handler of {CRYPTONYM}").select_option(OWNER)
    row.get_by_role("button", name=f"Hand over {CRYPTONYM}").click()
    page.wait_for_url("**/admin?done=handover")
    assert OWNER in page.locator("tr", has_text=CRYPTONYM).inner_text()

    page.get_by_role("button", name="Verify the audit log").click()
    verdict = page.locator("#audit-verdict").inner_text()
    assert verdict.startswith("The audit log is intact: all ") and "entries chain" in verdict
    assert axe_violations(page) == []
    shot(page, "admin-audit-owner")


def test_administration_is_not_there_for_a_clerk(clerk_page: Any, web_server: Server) -> None:
    page = clerk_page
    assert page.get_by_role("link", name="Administration").count() == 0
    missing = page.request.get("/no-such-page")
    assert missing.status == 404
    for path in ("/admin", "/admin?done=user", "/admin/audit"):
        answer = page.request.get(path)
        assert answer.status == 404 and answer.body() == missing.body(), path
    token = csrf_of(page.content())
    for path in ADMIN_POSTS:
        # With the clerk's own valid token, without one, from another site: the same 404, not a 403.
        for form, origin in (
            ({"csrf": token}, web_server.url),
            ({}, web_server.url),
            ({"csrf": token}, "https://x.example"),
        ):
            answer = page.request.post(
                path, form={**form, "name": "x", "cryptonym": CRYPTONYM, "handler": CLERK}, headers={"Origin": origin}
            )
            assert answer.status == 404 and answer.body() == missing.body(), (path, form, origin)
    page.goto("/admin")
    assert axe_violations(page) == []
    shot(page, "admin-clerk")


def test_owner_forms_need_the_csrf_token_and_name_bad_input(web_server: Server) -> None:
    url = web_server.url
    with closing(login_client(url, OWNER, OWNER_PASSWORD)) as owner:
        user = {"name": "someone", "clearance": "U", "password": "a long enough password"}
        for path in ADMIN_POSTS:
            refused = owner.post(path, data=user, headers={"Origin": url})
            assert refused.status_code == 403 and "[E120]" in refused.text, path
        token = csrf_of(owner.get("/admin").text)
        cross = owner.post("/admin/users", data={**user, "csrf": token}, headers={"Origin": "https://evil.example"})
        assert cross.status_code == 403 and "[E120]" in cross.text
        short = owner.post("/admin/users", data={**user, "csrf": token, "password": "short"}, headers={"Origin": url})
        assert short.status_code == 422 and "[E070]" in short.text
        level = owner.post("/admin/users", data={**user, "csrf": token, "clearance": "XX"}, headers={"Origin": url})
        assert level.status_code == 422 and "[E071]" in level.text
        crypt = owner.post(
            "/admin/sources",
            data={"csrf": token, "cryptonym": "lower case", "true_name": "N", "handler": OWNER},
            headers={"Origin": url},
        )
        assert crypt.status_code == 422 and "[E048]" in crypt.text
        # A handler not cleared for the source's label is refused (E102), as the CLI refuses it.
        uncleared = owner.post(
            "/admin/sources",
            data={"csrf": token, "cryptonym": "GT/WREN", "true_name": "N", "handler": CLERK},
            headers={"Origin": url},
        )
        assert uncleared.status_code == 422 and "[E102]" in uncleared.text
        gone = owner.post(
            "/admin/sources/reveal", data={"csrf": token, "cryptonym": "GT/NOBODY"}, headers={"Origin": url}
        )
        assert gone.status_code == 404
    # The clerk's password still works: no form above changed them.
    with closing(login_client(url, CLERK, CLERK_PASSWORD)) as clerk:
        assert clerk.get("/").status_code == 200


def test_the_owner_tells_namesakes_apart_by_their_ids(tmp_path: Path) -> None:
    """Two sources called GT/TWIN (issue 10: a registrar not cleared for NOFORN could not be refused
    the name): the owner's forms carry each one's id, and a form without one is asked to name one."""
    path = tmp_path / "twins.db"
    web_users(path)
    owner = Archive(path)
    try:
        owner.add_user("chief", "S", ["HUM", "REGISTRY"])
        owner.add_user("deep", "S", ["HUM", "NOFORN"])
        owner.source_add("GT/TWIN", "Hidden Twin", "deep", "S:HUM&NOFORN")
    finally:
        owner.close()
    chief = Archive(path, user="chief")
    try:
        chief.source_add("GT/TWIN", "Open Twin", "deep", "S:HUM")
    finally:
        chief.close()
    proc, url = start_server(path)
    try:
        with closing(login_client(url, OWNER, OWNER_PASSWORD)) as client:
            admin = client.get("/admin").text
            ids = re.findall(r'name="id" value="([^"]+)"', admin)
            assert len(ids) == 4 and len(set(ids)) == 2  # a hand-over and a reveal form each
            token = csrf_of(admin)
            revealed = set()
            for source_id in set(ids):
                form = {"csrf": token, "cryptonym": "GT/TWIN", "id": source_id}
                answer = client.post("/admin/sources/reveal", data=form, headers={"Origin": url})
                assert answer.status_code == 200
                revealed |= {n for n in ("Hidden Twin", "Open Twin") if n in answer.text}
            assert revealed == {"Hidden Twin", "Open Twin"}
            both = client.post(
                "/admin/sources/reveal", data={"csrf": token, "cryptonym": "GT/TWIN"}, headers={"Origin": url}
            )
            assert both.status_code == 422 and "[E171]" in both.text and "Twin" not in both.text.split("E171", 1)[1]
    finally:
        stop_server(proc)
