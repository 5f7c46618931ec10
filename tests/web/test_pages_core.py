"""The core pages in Chromium: log-in, search, documents, a document; accessibility; what a clerk's page holds."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import Server, axe_violations, shot


def test_login_page_is_accessible_and_a_wrong_password_is_refused(browser: Any, web_server: Server) -> None:
    context = browser.new_context(base_url=web_server.url)
    page = context.new_page()
    page.goto("/")  # not logged in: sent to the log-in form, coming back after
    assert "/login" in page.url
    assert axe_violations(page) == []
    shot(page, "login")
    page.get_by_label("User name").fill("clerk")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").inner_text() == "Wrong user name or password."
    cookies = context.cookies()
    assert not any(c["name"] == "kartoteka_session" for c in cookies)
    context.close()


def test_session_cookie_is_httponly_and_samesite_strict(owner_page: Any) -> None:
    session = [c for c in owner_page.context.cookies() if c["name"] == "kartoteka_session"]
    assert len(session) == 1
    assert session[0]["httpOnly"] is True
    assert session[0]["sameSite"] == "Strict"
    assert owner_page.evaluate("document.cookie") == ""  # no script can read it


def test_owner_searches_and_opens_a_secret_report(owner_page: Any) -> None:
    page = owner_page
    page.get_by_label("Search the text of the records").fill("Lisbon")
    page.get_by_role("button", name="Search").click()
    assert "passages found" in page.locator("#total").inner_text()
    assert page.locator("mark", has_text="Lisbon").count() > 0
    assert axe_violations(page) == []
    shot(page, "search-owner")
    page.get_by_role("link", name="Documents").click()
    page.locator("a[href^='/documents/doc-']").first.wait_for()
    assert axe_violations(page) == []
    shot(page, "documents-owner")
    report = page.locator("tr", has_text="report-1978-0412").locator("a").first
    report.click()
    assert page.locator(".banner").first.inner_text() == "SECRET//HUM"
    assert page.locator("a.mention").count() > 0
    assert axe_violations(page) == []
    shot(page, "document-owner")


def test_clerk_sees_unclassified_only_and_no_trace_of_the_report(clerk_page: Any, web_server: Server) -> None:
    page = clerk_page
    assert page.locator(".clearance").inner_text() == "cleared U"
    page.goto("/search?q=Lisbon")
    html = page.content()
    assert "report-1978-0412" not in html and "cable-1977" not in html
    assert page.locator(".banner").first.inner_text() == "UNCLASSIFIED"
    shot(page, "search-clerk")
    # The secret report's page answers as a missing one does, byte for byte.
    hidden = page.request.get("/documents/" + _secret_report_id(web_server))
    missing = page.request.get("/documents/doc-0000000000000000")
    assert hidden.status == missing.status == 404
    assert hidden.body() == missing.body()


def _secret_report_id(server: Server) -> str:
    from kartoteka.archive import Archive

    arch = Archive(server.archive)
    try:
        return next(d["id"] for d in arch.documents(100) if "report-1978" in d["source"])
    finally:
        arch.close()
