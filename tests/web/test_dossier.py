"""The dossier in Chromium: look-up, names, graded facts, the timeline, passages, associates; corrections.

An owner reads a dossier; a clerk cleared for U reads the same card and its
page holds no trace of the hidden report or cable (text, HTML, what the
page loads); a hidden card answers as a missing one does, byte for byte.
A correction is walked end to end in the browser and found in the audit
trail; a refused one shows its numbered error; a form without its CSRF
token is refused.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kartoteka.archive import Archive
from tests.web.conftest import (
    CLERK,
    CLERK_PASSWORD,
    OWNER,
    OWNER_PASSWORD,
    Server,
    axe_violations,
    browser_login,
    console_errors,
    csrf_of,
    login_client,
    shot,
)
from tests.web.linked import MISSING, ZORIN, assert_no_trace, entity, hidden_from_clerk, linked_server


@pytest.fixture(scope="module")
def linked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with linked_server(tmp_path_factory.mktemp("dossier")) as server:
        yield server


@pytest.fixture
def owner(browser: Any, linked: Server) -> Iterator[Any]:
    page = browser_login(browser, linked.url, OWNER, OWNER_PASSWORD)
    yield page
    page.context.close()


@pytest.fixture
def clerk(browser: Any, linked: Server) -> Iterator[Any]:
    page = browser_login(browser, linked.url, CLERK, CLERK_PASSWORD)
    yield page
    page.context.close()


def test_owner_looks_up_a_name_and_reads_the_dossier(owner: Any, linked: Server) -> None:
    page = owner
    page.get_by_role("link", name="Dossier").click()
    page.get_by_label("A name in any script or spelling, or a card id").fill("Зорин")
    page.get_by_role("button", name="Look up").click()
    assert page.locator("table.candidates tbody tr").count() >= 1
    assert "Cyrillic" in page.locator("table.candidates").inner_text()  # each candidate explained
    assert axe_violations(page) == []
    shot(page, "dossier-lookup-owner")
    page.locator("table.candidates a").first.click()
    eid = entity(linked.archive, ZORIN)
    assert page.url.endswith(f"/dossier/{eid}")
    assert page.locator("h1").inner_text() == "Arkadi Sorin"
    assert "Зорин Аркадий Павлович" in page.locator("#names").inner_text()
    # Facts with Admiralty grades and their sources, linked to the documents.
    facts = page.locator("table.facts tbody tr")
    assert facts.count() >= 3
    assert "F6" in facts.first.inner_text()
    assert page.locator("table.facts a[href^='/documents/doc-']").count() >= 3
    # Mixed precision: a year is a range of the year, a month the month, a day a day.
    when = page.locator("#timeline-table th.when").all_inner_texts()
    assert "some time in 1976 (1976-01-01 to 1976-12-31)" in when
    assert "some time in January 1978 (1978-01-01 to 1978-01-31)" in when
    assert "1976-03-14" in when
    page.locator("#timeline-chart .vis-item").first.wait_for()
    assert page.locator("#timeline-chart .vis-item.vis-range").count() >= 4  # years and the month
    assert page.locator("#timeline-chart .vis-item.vis-point").count() == 1  # 14 March 1976
    # Passages cite their document and passage.
    cites = page.locator("#passages a[href*='#p']")
    assert cites.count() == 7
    assert re.fullmatch(r"/documents/doc-[0-9a-f]{16}#p\d+", cites.first.get_attribute("href") or "")
    # The associates' statistics in words.
    words = page.locator("table.associates tbody tr").first.inner_text()
    assert "by chance one would expect" in words and "p = " in words and "associates tested" in words
    assert page.locator("a[href='/chart/" + eid + "']").count() >= 1
    # The owner sees two (S) passages of the secret report: the banner is theirs.
    assert page.locator(".banner").first.inner_text() == "SECRET"
    assert axe_violations(page) == []
    shot(page, "dossier-owner")


def test_choosing_a_timeline_item_shows_its_row(owner: Any, linked: Server) -> None:
    page = owner
    page.goto(f"/dossier/{entity(linked.archive, ZORIN)}")
    page.locator("#timeline-chart .vis-item.vis-point").first.click()
    assert page.locator("#timeline-table tr.chosen th").inner_text() == "1976-03-14"


def test_the_timeline_draws_with_nothing_refused_by_the_csp(owner: Any, linked: Server) -> None:
    # The pages allow no inline style: a library that injects <style> elements
    # draws half-styled and fills the console with refusals.
    page = owner
    errors = console_errors(page)
    page.goto(f"/dossier/{entity(linked.archive, ZORIN)}")
    page.locator("#timeline-chart .vis-item").first.wait_for()
    page.wait_for_load_state("load")
    assert errors == []
    # Its look comes from the library's stylesheet: the frame it draws.
    border = page.evaluate("getComputedStyle(document.querySelector('#timeline-chart .vis-timeline')).borderTopStyle")
    assert border == "solid"


def test_the_dossier_works_without_script(browser: Any, linked: Server) -> None:
    context = browser.new_context(base_url=linked.url, java_script_enabled=False)
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("User name").fill(OWNER)
    page.get_by_label("Password").fill(OWNER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"/dossier/{entity(linked.archive, ZORIN)}")
    assert page.locator("#timeline-table tbody tr").count() == 6
    assert not page.locator("#timeline-chart").is_visible()  # nothing drawn: the table is the timeline
    context.close()


def test_clerk_dossier_holds_no_trace_of_hidden_material(clerk: Any, linked: Server) -> None:
    page = clerk
    names, ids, docs = hidden_from_clerk(linked.archive)
    assert "Pyotr Kalmykov" in names and docs  # the check below has something to find
    loaded: list[str] = []
    page.on("response", lambda r: loaded.append(r.text()) if r.url.startswith(linked.url + "/dossier") else None)
    page.goto("/dossier?name=Arkady+Zorin")
    assert page.locator(".resolved").count() == 1
    assert axe_violations(page) == []
    shot(page, "dossier-lookup-clerk")
    page.locator(".resolved a").click()
    assert page.locator(".clearance").inner_text() == "cleared U"
    assert page.locator(".banner").first.inner_text() == "UNCLASSIFIED"
    for text in (page.inner_text("body"), page.content(), *loaded):
        assert_no_trace(text, names, ids, docs)
    # The hidden report's dates are not on the clerk's timeline either.
    when = page.locator("#timeline-table th.when").all_inner_texts()
    assert "1976-03-14" not in when and not any("January 1978" in w for w in when)
    assert axe_violations(page) == []
    shot(page, "dossier-clerk")


def test_hidden_card_answers_as_a_missing_one(clerk: Any, linked: Server) -> None:
    _, ids, _ = hidden_from_clerk(linked.archive)
    hidden = entity(linked.archive, "Pyotr Kalmykov")
    assert hidden in ids
    for path in ("/dossier/{}", "/dossier/{}?done=alias"):
        a = clerk.request.get(path.format(hidden))
        b = clerk.request.get(path.format(MISSING))
        assert a.status == b.status == 404
        assert a.body() == b.body()
    # A look-up of a name only the hidden report holds finds no card of it.
    page = clerk
    page.goto("/dossier?name=Pyotr+Kalmykov")
    assert hidden not in page.content()
    assert "Pyotr Kalmykov" not in page.locator("table.candidates").all_inner_texts()


def test_owner_corrects_a_card_end_to_end(browser: Any, tmp_path: Path) -> None:
    with linked_server(tmp_path) as server:
        page = browser_login(browser, server.url, OWNER, OWNER_PASSWORD)
        try:
            zorin = entity(server.archive, ZORIN)
            page.goto(f"/dossier/{zorin}")
            # Alias, with a label.
            page.get_by_label("Also known as").fill("Arkasha")
            page.get_by_label("Label of the name (optional").fill("S:HUM")
            page.get_by_role("button", name="Add the name").click()
            assert page.url.endswith(f"/dossier/{zorin}?done=alias")
            assert page.get_by_role("status").first.inner_text().strip() == "The name was added."
            assert "Arkasha" in page.locator("#names").inner_text()
            # Merge the misread organisation "Vetrova" into the person.
            vetrova_org = next(
                c["entity_id"] for c in _cards(server.archive) if c["name"] == "Vetrova" and c["kind"] == "ORG"
            )
            wetrowa = entity(server.archive, "Yelena Vetrova")
            page.goto(f"/dossier/{wetrowa}")
            page.get_by_label("The other card's id").fill(vetrova_org)
            page.get_by_role("button", name=re.compile("^Merge into")).click()
            assert page.url.endswith(f"/dossier/{wetrowa}?done=merged")
            shown = page.locator("h1").inner_text()
            page.goto(f"/dossier/{vetrova_org}")  # the merged card now leads to the one it joined
            assert page.locator("h1").inner_text() == shown
            # Split one mention out to a new card, and follow the link to it.
            page.goto(f"/dossier/{zorin}")
            page.get_by_label(re.compile(r"Gen\. Zorin")).check()
            page.get_by_role("button", name="Move the chosen mentions to a new card").click()
            assert "?done=split:" in page.url
            assert axe_violations(page) == []
            shot(page, "dossier-corrected-owner")
            page.get_by_role("link", name="a new card").click()
            assert "Zorin" in page.locator("h1").inner_text() and zorin not in page.url
            assert page.locator("#passages .cite").count() == 1  # the one mention moved
        finally:
            page.context.close()
        # Each write is in the audit trail, by the user who made it, and the trail verifies.
        trail = sqlite3.connect(f"{server.archive}.audit.sqlite")
        try:
            done = [
                tuple(r)
                for r in trail.execute("SELECT actor, action FROM audit WHERE action IN ('alias','merge','split')")
            ]
        finally:
            trail.close()
        assert done == [(OWNER, "alias"), (OWNER, "merge"), (OWNER, "split")]
        arch = Archive(server.archive)
        try:
            assert arch.audit_verify()["ok"] is True
            assert [c["op"] for c in arch.corrections()] == ["alias", "merge", "split"]
        finally:
            arch.close()


def _cards(path: Path) -> list[dict[str, Any]]:
    arch = Archive(path)
    try:
        return list(arch.cards(limit=1000)["cards"])
    finally:
        arch.close()


def test_clerk_correction_is_refused_with_its_numbered_error(clerk: Any, linked: Server) -> None:
    page = clerk
    zorin = entity(linked.archive, ZORIN)
    page.goto(f"/dossier/{zorin}")
    page.get_by_label("Also known as").fill("Arkasha the clerk's")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Add the name").click()
    assert posted.value.status == 403
    alert = page.get_by_role("alert").inner_text()
    assert alert.startswith("[E100] To add aliases you need the ANALYST role")
    assert "Arkasha" not in page.locator("#names").inner_text()
    assert axe_violations(page) == []
    shot(page, "dossier-refused-clerk")


def test_a_correction_without_its_csrf_token_is_refused(linked: Server) -> None:
    client = login_client(linked.url, OWNER, OWNER_PASSWORD)
    zorin = entity(linked.archive, ZORIN)
    token = csrf_of(client.get(f"/dossier/{zorin}").text)
    origin = {"Origin": linked.url}
    for data, headers in (
        ({"name": "No Token"}, origin),
        ({"name": "Wrong Token", "csrf": "0" * 64}, origin),
        ({"name": "Other Site", "csrf": token}, {"Origin": "http://evil.example"}),
    ):
        r = client.post(f"/dossier/{zorin}/alias", data=data, headers=headers)
        assert r.status_code == 403, r.text
        assert "E120" in r.text
    for op, data in (("merge", {"other": MISSING}), ("split", {"mention": "x:1:0-1"})):
        assert client.post(f"/dossier/{zorin}/{op}", data=data, headers=origin).status_code == 403
    assert "No Token" not in client.get(f"/dossier/{zorin}").text


def test_a_split_with_no_mention_chosen_is_explained_on_the_dossier(linked: Server) -> None:
    client = login_client(linked.url, OWNER, OWNER_PASSWORD)
    zorin = entity(linked.archive, ZORIN)
    token = csrf_of(client.get(f"/dossier/{zorin}").text)
    r = client.post(f"/dossier/{zorin}/split", data={"csrf": token}, headers={"Origin": linked.url})
    assert r.status_code == 422
    assert "[E113] Choose at least one mention to move to a new card." in r.text
    assert "<h1>Arkadi Sorin</h1>" in r.text  # the dossier, with the error on it
