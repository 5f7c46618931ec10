"""The release workflow in Chromium: an audience and exemption codes, the copy beside the original, a PDF
downloaded and verified; the refusals (no RELEASE role, not the owner, no CSRF token) as numbered error pages;
and a clerk's release pages, which hold nothing of the hidden report and answer for it as for a missing one."""

from __future__ import annotations

import hashlib
import io
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

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
)
from tests.web.hidden import Hidden, assert_clean, document_id, hidden_material

MISSING = "doc-0000000000000000"
OFFICER, OFFICER_PASSWORD = "officer", "an officer's long passphrase"


@pytest.fixture(scope="module")
def hidden(web_server: Server) -> Hidden:
    return hidden_material(web_server.archive)


@pytest.fixture(scope="module")
def report(web_server: Server) -> str:
    return document_id(web_server.archive, "report-1978-0412")


@pytest.fixture(scope="module")
def interview(web_server: Server) -> str:
    return document_id(web_server.archive, "interview-bortnik")


def test_owner_releases_the_report_end_to_end(owner_page: Any, report: str, tmp_path: Path) -> None:
    page = owner_page
    page.goto(f"/documents/{report}")
    page.get_by_role("link", name="Release a copy of this document").click()
    page.get_by_label("Who receives the copy").select_option(CLERK)
    page.locator("input[name=code][value='25X1']").check()
    page.locator("input[name=code][value='25X6']").check()
    page.locator("input[name=format][value='pdf']").check()
    page.get_by_role("button", name="Preview the copy").click()
    assert "for=clerk" in page.url and "code=25X6" in page.url
    # Side by side: the original's passages on the left, the copy's on the right, row by row.
    cells = page.locator(".side-by-side .cell")
    withheld = page.locator(".side-by-side .withheld-copy")
    assert withheld.count() >= 8
    assert all(t.strip() == "[ ]  25X1, 25X6" for t in withheld.all_inner_texts())
    assert page.locator(".side-by-side", has_text="This report summarises").count() == 1
    assert cells.filter(has_text="This report summarises").count() == 2  # on both sides
    assert cells.filter(has_text="Kalmykov").count() == 1  # in the original only
    assert page.locator(".banner").first.inner_text() == "SECRET//HUM"
    assert axe_violations(page) == []
    shot(page, "release-owner")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the pdf copy").click()
    assert download.value.suggested_filename == f"release-{report}-clerk.pdf"
    data = Path(download.value.path()).read_bytes()
    assert data.startswith(b"%PDF")
    text = "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages)
    assert f"Release copy of {report} for clerk" in text and "25X1, 25X6" in text
    assert "Kalmykov" not in text and "Zorin" not in text

    page.get_by_role("button", name="Produce the pdf copy and verify it").click()
    verdict = page.locator("#verdict").inner_text()
    assert verdict.startswith("Clean: none of the") and "withheld from clerk appears in this pdf copy" in verdict
    # The file verified is the file downloaded: the same bytes.
    assert hashlib.sha256(data).hexdigest() in page.locator("dl.meta").inner_text()
    assert axe_violations(page) == []
    shot(page, "release-verify-owner")


def test_clerk_release_pages_hold_no_trace_and_verification_is_refused(
    clerk_page: Any, web_server: Server, report: str, interview: str, hidden: Hidden
) -> None:
    page = clerk_page
    # No release link on a document for someone who holds no RELEASE role.
    page.goto(f"/documents/{interview}")
    assert page.get_by_role("link", name="Release a copy of this document").count() == 0
    page.goto(f"/documents/{interview}/release?for={CLERK}&format=txt")
    assert page.locator(".side-by-side .cell").count() > 0
    assert page.locator(".banner").first.inner_text() == "UNCLASSIFIED"
    options = page.locator("#for option").all_inner_texts()
    assert options[0] == "clerk (yourself)" and not any(o.startswith(OWNER) for o in options)  # no other user named
    assert_clean(page.content(), hidden, "the clerk's release page")
    assert axe_violations(page) == []
    shot(page, "release-clerk")
    # Verification is the owner's: the numbered error, as a page.
    page.get_by_text("Only the archive owner verifies release copies").wait_for()
    token = csrf_of(page.content())
    refused = page.request.post(
        f"/documents/{interview}/release/verify",
        form={"csrf": token, "for": CLERK, "format": "txt"},
        headers={"Origin": web_server.url},
    )
    assert refused.status == 403 and "[E042]" in refused.text() and "verify releases" in refused.text()
    # The hidden report's release pages answer as a missing document's do, byte for byte.
    for suffix in ("/release", f"/release?for={CLERK}", "/release/copy?for=U"):
        h, m = page.request.get(f"/documents/{report}{suffix}"), page.request.get(f"/documents/{MISSING}{suffix}")
        assert h.status == m.status == 404
        assert h.body() == m.body()
    h = page.request.post(
        f"/documents/{report}/release/verify",
        form={"csrf": token, "for": "U", "format": "pdf"},
        headers={"Origin": web_server.url},
    )
    m = page.request.post(
        f"/documents/{MISSING}/release/verify",
        form={"csrf": token, "for": "U", "format": "pdf"},
        headers={"Origin": web_server.url},
    )
    assert h.status == m.status == 404 and h.body() == m.body()


def test_a_declassification_needs_the_release_role(web_server: Server, report: str) -> None:
    arch = Archive(web_server.archive)
    try:
        arch.add_user(OFFICER, "S", ["HUM"], OFFICER_PASSWORD)  # cleared for the report, no RELEASE role
    finally:
        arch.close()
    with closing(login_client(web_server.url, OFFICER, OFFICER_PASSWORD)) as officer:
        own = officer.get(f"/documents/{report}/release", params={"for": OFFICER})
        assert own.status_code == 200  # to themselves: nothing is declassified
        down = officer.get(f"/documents/{report}/release", params={"for": "U"})
        assert down.status_code == 403
        assert "[E042]" in down.text and f"release {report} to U" in down.text
        file = officer.get(f"/documents/{report}/release/copy", params={"for": "U", "format": "pdf"})
        assert file.status_code == 403 and "[E042]" in file.text


def test_release_forms_are_refused_without_a_csrf_token_and_bad_choices_are_named(
    web_server: Server, report: str
) -> None:
    with closing(login_client(web_server.url, OWNER, OWNER_PASSWORD)) as owner:
        form = {"for": CLERK, "format": "pdf"}
        no_token = owner.post(f"/documents/{report}/release/verify", data=form, headers={"Origin": web_server.url})
        assert no_token.status_code == 403 and "[E120]" in no_token.text
        token = csrf_of(owner.get("/").text)
        cross = owner.post(
            f"/documents/{report}/release/verify",
            data={**form, "csrf": token},
            headers={"Origin": "https://evil.example"},
        )
        assert cross.status_code == 403 and "[E120]" in cross.text
        code = owner.get(f"/documents/{report}/release", params={"for": CLERK, "code": "99X9"})
        assert code.status_code == 422 and "[E071]" in code.text and "99X9" in code.text
        fmt = owner.get(f"/documents/{report}/release/copy", params={"for": CLERK, "format": "docx"})
        assert fmt.status_code == 422 and "[E045]" in fmt.text
    with closing(login_client(web_server.url, CLERK, CLERK_PASSWORD)) as clerk:
        other = clerk.get(f"/documents/{report}/release", params={"for": OWNER})
        assert other.status_code == 404  # the report is hidden: nothing is said about the audience
