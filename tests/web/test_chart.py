"""The link chart and the path in Chromium: draw, expand, filter, read an edge's evidence; what a clerk's chart holds.

The owner's chart of Zorin shows the relation read from the secret report
(Pyotr Kalmykov succeeded him); the clerk's chart, its HTML and every JSON
it loads hold no trace of it, and a hidden card's chart and JSON answer as a
missing card's do, byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.web.conftest import (
    CLERK,
    CLERK_PASSWORD,
    OWNER,
    OWNER_PASSWORD,
    Server,
    axe_violations,
    browser_login,
    console_errors,
    shot,
)
from tests.web.linked import MISSING, VETROVA, ZORIN, assert_no_trace, entity, hidden_from_clerk, linked_server


@pytest.fixture(scope="module")
def linked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with linked_server(tmp_path_factory.mktemp("chart")) as server:
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


def _drawn(page: Any) -> int:
    page.wait_for_load_state("load")  # chart.js has run: it is the last script of the page
    page.evaluate("async () => { await window.kartotekaChart.ready; }")
    return int(page.evaluate("window.kartotekaChart.cy.nodes(':visible').length"))


def test_owner_draws_expands_filters_and_reads_an_edge(owner: Any, linked: Server) -> None:
    page = owner
    zorin, wetrowa = entity(linked.archive, ZORIN), entity(linked.archive, VETROVA)
    page.goto(f"/dossier/{zorin}")
    page.get_by_role("link", name="Link chart", exact=True).click()
    assert page.url.endswith(f"/chart/{zorin}")
    assert _drawn(page) == 4
    assert page.locator("#chart canvas").count() > 0
    edges = page.locator("#edge-list summary").all_inner_texts()
    assert "Pyotr Kalmykov succeeded Arkadi Sorin" in edges
    assert page.locator(".banner").first.inner_text() == "SECRET"
    assert axe_violations(page) == []
    shot(page, "chart-owner")
    # Expand a neighbour from the keyboard list: its own neighbours join the chart.
    before = page.locator("#node-list li").count()
    page.get_by_role("button", name="Expand Jelena Wetrowa").click()
    page.get_by_role("button", name="Expanded: Jelena Wetrowa").wait_for()
    assert page.locator("#node-list li").count() >= before
    assert int(page.evaluate(f"window.kartotekaChart.cy.getElementById('{wetrowa}').hasClass('expanded')")) == 1
    # Filter by relation type: "succeeded" leaves the list and the drawing.
    page.get_by_label("succeeded").uncheck()
    assert not any("succeeded" in t for t in page.locator("#edge-list summary").all_inner_texts())
    hidden_edges = page.evaluate("window.kartotekaChart.cy.edges('.filtered').map(e => e.id())")
    assert hidden_edges and all("|succeeded|" in e for e in hidden_edges)
    page.get_by_label("succeeded").check()
    # A date window keeps only dated relations that overlap it: the visit of 1974-1976.
    page.get_by_label("From (year, month or day)").fill("1975")
    page.get_by_label("To", exact=True).fill("1975-06")
    page.get_by_role("button", name="Apply").click()
    assert page.locator("#edge-list summary").all_inner_texts() == ["Arkadi Sorin visited Lisbon (1974 to 1976)"]
    # Clicking an edge opens its evidence, with a link to the passage.
    tapped = page.evaluate(
        "(() => { const e = window.kartotekaChart.cy.edges(':visible')[0]; e.emit('tap'); return e.id(); })()"
    )
    assert tapped.startswith(f"{zorin}|visited|")
    opened = page.locator("#edge-list details[open]")
    assert opened.count() == 1
    link = opened.locator("a").first
    assert (link.get_attribute("href") or "").startswith("/documents/doc-")
    assert "#p" in (link.get_attribute("href") or "")
    assert axe_violations(page) == []
    shot(page, "chart-owner-filtered")


def test_the_chart_draws_with_nothing_refused_by_the_csp(owner: Any, linked: Server) -> None:
    page = owner
    errors = console_errors(page)
    page.goto(f"/chart/{entity(linked.archive, ZORIN)}")
    assert _drawn(page) == 4
    assert errors == []
    position = page.evaluate("getComputedStyle(document.querySelector('#chart')).position")
    assert position == "relative"  # the container rule cytoscape would have injected


def test_the_chart_keeps_its_state_in_the_address(owner: Any, linked: Server) -> None:
    """An expanded, filtered chart can be bookmarked: its fragment restores it, and a fragment
    naming a card that is not there (or not the reader's to see) is skipped."""
    page = owner
    zorin, wetrowa = entity(linked.archive, ZORIN), entity(linked.archive, VETROVA)
    page.goto(f"/chart/{zorin}")
    _drawn(page)
    page.get_by_role("button", name="Expand Jelena Wetrowa").click()
    page.get_by_role("button", name="Expanded: Jelena Wetrowa").wait_for()
    page.get_by_label("succeeded").uncheck()
    page.get_by_label("From (year, month or day)").fill("1970")
    page.get_by_role("button", name="Apply").click()
    address = page.url
    assert f"expand={wetrowa}" in address and "hide=succeeded" in address and "since=1970" in address
    shown = page.locator("#edge-list summary").all_inner_texts()
    again = page.context.new_page()
    again.goto(address.replace(f"expand={wetrowa}", f"expand={MISSING}%2C{wetrowa}"))
    _drawn(again)
    again.get_by_role("button", name="Expanded: Jelena Wetrowa").wait_for()
    assert not again.get_by_label("succeeded").is_checked()
    assert again.get_by_label("From (year, month or day)").input_value() == "1970"
    assert again.locator("#edge-list summary").all_inner_texts() == shown
    assert int(again.evaluate(f"window.kartotekaChart.cy.getElementById('{wetrowa}').hasClass('expanded')")) == 1
    again.close()


def test_the_chart_lists_and_filters_without_script(browser: Any, linked: Server) -> None:
    context = browser.new_context(base_url=linked.url, java_script_enabled=False)
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("User name").fill(OWNER)
    page.get_by_label("Password").fill(OWNER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    zorin = entity(linked.archive, ZORIN)
    page.goto(f"/chart/{zorin}")
    assert not page.locator("#chart").is_visible()
    assert page.locator("#edge-list details").count() == 3
    page.get_by_label("visited").uncheck()
    page.get_by_role("button", name="Apply").click()
    assert "type=" in page.url
    summaries = page.locator("#edge-list summary").all_inner_texts()
    assert len(summaries) == 2 and not any("visited" in s for s in summaries)
    page.locator("#edge-list summary").first.click()  # <details> opens without script
    assert page.locator("#edge-list details[open] a[href^='/documents/']").count() >= 1
    context.close()


def test_owner_finds_the_path_between_two_people(owner: Any, linked: Server) -> None:
    page = owner
    page.goto("/chart/path")
    page.get_by_label("From (a name or card id)").fill(ZORIN)
    page.get_by_label("To (a name or card id)").fill(VETROVA)
    page.get_by_role("button", name="Find the path").click()
    hop = page.locator(".path-hop").first
    assert "Arkadi Sorin superior of Jelena Wetrowa" in " ".join(hop.inner_text().split())
    assert hop.locator("a[href^='/documents/doc-']").count() >= 1
    assert axe_violations(page) == []
    shot(page, "chart-path-owner")
    page.goto("/chart/path?a=Arkady+Zorin&b=Nobody+Atall")
    assert page.get_by_role("alert").inner_text().startswith("[E020]")


def test_clerk_chart_and_its_json_hold_no_trace_of_hidden_material(clerk: Any, linked: Server) -> None:
    page = clerk
    names, ids, docs = hidden_from_clerk(linked.archive)
    zorin = entity(linked.archive, ZORIN)
    loaded: list[str] = []
    page.on("response", lambda r: loaded.append(r.text()) if "/chart/" in r.url else None)
    page.goto(f"/chart/{zorin}")
    assert _drawn(page) == 3  # Zorin, Wetrowa, Lisbon: the succession is in the secret report
    page.get_by_role("button", name="Expand Jelena Wetrowa").click()
    page.get_by_role("button", name="Expanded: Jelena Wetrowa").wait_for()
    assert page.locator(".banner").first.inner_text() == "UNCLASSIFIED"
    assert any(t.lstrip().startswith("{") for t in loaded)  # the JSON the chart loaded is checked too
    for text in (page.inner_text("body"), page.content(), *loaded):
        assert_no_trace(text, names, ids, docs)
    assert axe_violations(page) == []
    shot(page, "chart-clerk")
    page.goto(f"/chart/path?a={zorin}&b=Pyotr+Kalmykov")
    assert page.get_by_role("alert").inner_text().startswith("[E020]")
    assert_no_trace(page.content().replace("Pyotr+Kalmykov", "").replace("Pyotr Kalmykov", ""), [], ids, docs)
    assert axe_violations(page) == []
    shot(page, "chart-path-clerk")


def test_a_hidden_card_charts_as_a_missing_one(clerk: Any, linked: Server) -> None:
    hidden = entity(linked.archive, "Pyotr Kalmykov")
    for path in ("/chart/{}", "/chart/{}.json", "/chart/{}?type=visited&since=1976"):
        a = clerk.request.get(path.format(hidden))
        b = clerk.request.get(path.format(MISSING))
        assert a.status == b.status == 404
        assert a.body() == b.body()
    # A path to a hidden card reads as a path to a card that does not exist.
    zorin = entity(linked.archive, ZORIN)
    a = clerk.request.get(f"/chart/path?a={zorin}&b={hidden}")
    b = clerk.request.get(f"/chart/path?a={zorin}&b={MISSING}")
    assert a.status == b.status == 404
    assert a.body().replace(hidden.encode(), b"X") == b.body().replace(MISSING.encode(), b"X")


def test_chart_json_is_the_neighbourhood_as_the_archive_gives_it(owner: Any, linked: Server) -> None:
    zorin = entity(linked.archive, ZORIN)
    r = owner.request.get(f"/chart/{zorin}.json")
    assert r.status == 200 and r.headers["content-type"].startswith("application/json")
    assert r.headers["cache-control"] == "no-store"
    hood = json.loads(r.body())
    assert hood["center"] == zorin
    assert {e["type"] for e in hood["edges"]} == {"succeeded", "superior_of", "visited"}
    assert all(
        ev["document_id"].startswith("doc-") and ev["portion"] >= 1 for e in hood["edges"] for ev in e["evidence"]
    )
    assert hood["banner"] == "SECRET"
    banner = owner.request.get("/chart/banner.json?label=U&label=S")
    assert json.loads(banner.body()) == {"banner": "SECRET"}
