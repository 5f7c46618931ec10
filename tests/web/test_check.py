"""The name check page in Chromium: one name and its explained candidates, a CSV screened in the background
with its progress, and what a clerk's checks hold (nothing of the hidden report or cable, in the page, the
JSON it polls or the CSV it downloads). The job registry's bounds are tested on a real server's parts."""

from __future__ import annotations

import csv
import io
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest

from kartoteka.archive import Archive
from kartoteka.demo import build
from kartoteka.errors import KartotekaError, NotFound
from kartoteka.service.auth import Principal, Users
from kartoteka.service.views import Views
from kartoteka.service.web import jobs
from kartoteka.store import open_store
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
    web_users,
)
from tests.web.hidden import Hidden, assert_clean, hidden_material

ROWS = 4_000  # enough that the job outlasts a few polls even on a fast machine


@pytest.fixture(scope="module")
def hidden(web_server: Server) -> Hidden:
    return hidden_material(web_server.archive)


def names_csv(rows: int = ROWS) -> tuple[bytes, int, list[int]]:
    """A CSV of `rows` data rows mixing visible names, hidden ones, misses and bad rows;
    (bytes, good rows, CSV lines of the bad rows)."""
    pool = ["Arkady Zorin", "Pyotr Kalmykov", "Yelena Vetrova", "Irina Zorina", "Grigory Bortnik", "Nobody Atall"]
    lines = ["id,name"]
    bad: list[int] = []
    for i in range(rows):
        if i % 50 == 7:
            lines.append(f"q{i},")  # empty name
            bad.append(len(lines))
        elif i % 50 == 19:
            lines.append(f"q{i},Zorin,extra")  # a cell too many
            bad.append(len(lines))
        else:
            lines.append(f"q{i},{pool[i % len(pool)]}")
    return ("\n".join(lines) + "\n").encode(), rows - len(bad), bad


def test_owner_checks_a_name_and_each_candidate_links_to_its_dossier(owner_page: Any) -> None:
    page = owner_page
    page.get_by_role("link", name="Name check").click()
    page.get_by_label("A name, in any script or spelling").fill("Kalmykov")
    page.get_by_role("button", name="Check", exact=True).click()
    rows = page.locator("table.candidates tbody tr")
    assert rows.count() == 2
    text = rows.all_inner_texts()
    assert any("Pyotr Kalmykov" in t for t in text) and any("Vladimir Kalmykov" in t for t in text)
    assert all("family name Kalmykov = Kalmykov" in t for t in text)  # each score explained
    assert rows.first.locator("a").get_attribute("href").startswith("/dossier/per-")
    # Both are known only from the SECRET report: the page is marked so.
    assert page.locator(".banner").first.inner_text() == "SECRET"
    assert axe_violations(page) == []
    shot(page, "check-owner")


def test_clerk_check_holds_no_trace_of_hidden_names(clerk_page: Any, hidden: Hidden) -> None:
    page = clerk_page
    page.goto("/check?name=Zorin")
    assert page.locator("table.candidates tbody tr").count() == 1
    assert "Arkady Zorin" in page.locator("table.candidates").inner_text()
    assert page.locator(".banner").first.inner_text() == "UNCLASSIFIED"
    assert_clean(page.content(), hidden, "the clerk's check for Zorin")
    assert axe_violations(page) == []
    shot(page, "check-clerk")
    # A name only the hidden report holds answers exactly as a name nobody holds,
    # but for the name typed in.
    asked = page.request.get("/check?name=Kalmykov").text()
    nobody = page.request.get("/check?name=Qxvbnmoz").text()
    assert asked.replace("Kalmykov", "NAME") == nobody.replace("Qxvbnmoz", "NAME")
    assert_clean(asked.replace("Kalmykov", "NAME"), hidden, "the clerk's check for Kalmykov")


def test_clerk_screens_a_csv_in_the_background_with_progress(clerk_page: Any, hidden: Hidden, tmp_path: Path) -> None:
    page = clerk_page
    data, good, bad = names_csv()
    statuses: list[dict[str, Any]] = []
    page.on(
        "response",
        lambda r: statuses.append(r.json()) if r.url.endswith("/status.json") and r.ok else None,
    )
    page.goto("/check")
    page.get_by_label("CSV file (columns id, name)").set_input_files(
        files=[{"name": "names.csv", "mimeType": "text/csv", "buffer": data}]
    )
    page.get_by_role("button", name="Upload and check").click()
    page.wait_for_url("**/check/jobs/*")
    job_url = page.url
    # The test also polls the JSON itself, faster than the page does, to see the bar move.
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        s = page.request.get(job_url + "/status.json").json()
        seen.append(s)
        if s["state"] in ("done", "failed"):
            break
        time.sleep(0.01)
    assert seen[-1]["state"] == "done", seen[-1]
    assert seen[-1]["done"] == seen[-1]["total"] == good
    done = [s["done"] for s in seen]
    assert done == sorted(done)
    assert any(0 < d < good for d in done), "no progress between the start and the end was seen"
    # The page follows by itself (its script polls every second) and tells screen readers.
    page.locator("#job-result").wait_for(state="visible", timeout=10_000)
    assert page.locator("#job-progress").get_attribute("value") == str(good)
    assert page.locator("#job-live").inner_text().startswith("Batch check finished")
    assert statuses and statuses[-1]["state"] == "done"
    errors = page.locator("#job-errors li").all_inner_texts()
    assert len(errors) == len(bad)
    assert errors[0] == f"[E030] names.csv row {bad[0]}: empty 'name'"
    assert "3 cells, expected 2" in errors[1]
    assert axe_violations(page) == []
    shot(page, "check-job-clerk")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the result (CSV)").click()
    result = Path(download.value.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(result)))
    assert len({r["id"] for r in rows}) == good
    assert any(r["name"] == "Arkady Zorin" and r["rank"] == "1" for r in rows)
    for r in rows:
        if r["query"] in ("Pyotr Kalmykov", "Irina Zorina"):
            assert r["entity_id"] == "" or r["name"] not in ("Pyotr Kalmykov", "Irina Zorina")
    # The queries the clerk typed are theirs; nothing else of the hidden report may be in the file.
    answers = "\n".join(",".join(v for k, v in r.items() if k != "query") for r in rows)
    assert_clean(answers, hidden, "the clerk's batch result")
    for s in seen + statuses:
        assert_clean(repr(s), hidden, "the job's status JSON")


def _upload(client: httpx.Client, url: str, data: bytes, name: str = "names.csv", **form: str) -> httpx.Response:
    token = csrf_of(client.get("/check").text)
    return client.post(
        "/check/batch",
        data={"csrf": token, "limit": "3", **form},
        files={"file": (name, data, "text/csv")},
        headers={"Origin": url},
    )


def test_a_job_is_its_uploaders_only(web_server: Server) -> None:
    url = web_server.url
    with (
        closing(login_client(url, CLERK, CLERK_PASSWORD)) as clerk,
        closing(login_client(url, OWNER, OWNER_PASSWORD)) as owner,
    ):
        r = _upload(clerk, url, names_csv(30)[0])
        assert r.status_code == 303
        job = r.headers["location"]
        missing = owner.get("/check/jobs/AAAAAAAAAAAAAAAAAAAAAA")
        for path in (job, job + "/status.json", job + "/result.csv"):
            theirs = owner.get(path)
            assert theirs.status_code == 404
            assert theirs.content == missing.content == owner.get("/no-such-page").content
        assert clerk.get(job).status_code == 200


def test_uploads_are_refused_with_numbered_errors(web_server: Server) -> None:
    url = web_server.url
    with closing(login_client(url, CLERK, CLERK_PASSWORD)) as clerk:
        no_token = clerk.post(
            "/check/batch", files={"file": ("n.csv", b"id,name\n1,Zorin\n", "text/csv")}, headers={"Origin": url}
        )
        assert no_token.status_code == 403 and "E120" in no_token.text
        token = csrf_of(clerk.get("/check").text)
        other_site = clerk.post(
            "/check/batch",
            data={"csrf": token},
            files={"file": ("n.csv", b"id,name\n1,Zorin\n", "text/csv")},
            headers={"Origin": "https://evil.example"},
        )
        assert other_site.status_code == 403 and "E120" in other_site.text
        columns = _upload(clerk, url, b"query,who\n1,Zorin\n", "cols.csv")
        assert columns.status_code == 422
        assert "[E031] cols.csv: expected columns id,name, found query,who" in columns.text
        rows = _upload(clerk, url, names_csv(jobs.MAX_ROWS + 1)[0], "many.csv")
        assert rows.status_code == 422 and "[E127] many.csv" in rows.text
        big = _upload(clerk, url, b"id,name\n" + b"1,Zorin\n" * (jobs.MAX_BYTES // 8 + 10), "big.csv")
        assert big.status_code == 422 and "[E127]" in big.text
        latin1 = _upload(clerk, url, "id,name\n1,Zoriñ\n".encode("latin-1"), "latin1.csv")
        assert latin1.status_code == 422 and "[E001]" in latin1.text and "latin1.csv: not UTF-8" in latin1.text


# The job registry on a real archive and the server's own parts, without HTTP -------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("jobs") / "demo.db"
    build(path).close()
    web_users(path)
    return path


def _principal(users: Users, name: str) -> Principal:
    row = users.row(name)
    assert row is not None
    return Principal(name, row)


def _wait(job: jobs.Job, seconds: float = 60) -> None:
    until = time.monotonic() + seconds
    while not job.finished and time.monotonic() < until:
        time.sleep(0.02)


def test_jobs_are_bounded_per_user_and_give_the_archive_back_between_chunks(demo: Path) -> None:
    views, users = Views(demo), Users(open_store(demo))
    registry = jobs.BatchJobs(views, users)
    try:
        clerk = _principal(users, CLERK)
        rows = [(i + 2, f"q{i}", "Arkady Zorin") for i in range(3 * jobs.CHUNK)]
        # While a page holds the clerk's archive, the jobs wait for it: all stay running.
        with views.archive(clerk, views.deadline(30)):
            running = [registry.submit(clerk, "a.csv", rows, [], 3) for _ in range(jobs.MAX_JOBS)]
            with pytest.raises(KartotekaError) as refused:
                registry.submit(clerk, "b.csv", rows, [], 3)
            assert refused.value.code == "E128"
            # Another user's jobs are counted apart, and cannot be looked up across.
            owner = _principal(users, OWNER)
            theirs = registry.submit(owner, "o.csv", rows[:5], [], 3)
            with pytest.raises(NotFound):
                registry.get(CLERK, theirs.id)
            time.sleep(0.3)
            assert all(j.done == 0 for j in running)
        # Between two chunks the clerk's archive is free: a page gets it within one chunk's time.
        timings: list[float] = []
        while not all(j.finished for j in running):
            started = time.monotonic()
            with views.archive(clerk, views.deadline(30)) as arch:
                arch.check("Zorin")
            timings.append(time.monotonic() - started)
        assert all(j.state == "done" and j.done == len(rows) for j in running)
        assert timings and max(timings) < 10
        # A finished job makes way for a new one.
        registry.submit(clerk, "c.csv", rows[:5], [], 3)
        assert len(registry.jobs(CLERK)) == jobs.MAX_JOBS
    finally:
        registry.close()
        views.close()
        users.close()


def test_a_changed_clearance_stops_the_job(demo: Path) -> None:
    views, users = Views(demo), Users(open_store(demo))
    registry = jobs.BatchJobs(views, users)
    try:
        name = "temp-clerk"
        arch = Archive(demo)
        try:
            arch.add_user(name, "U", [], "a long temporary password")
        finally:
            arch.close()
        who = _principal(users, name)
        rows = [(i + 2, f"q{i}", "Arkady Zorin") for i in range(4 * jobs.CHUNK)]
        with views.archive(who, views.deadline(30)):
            job = registry.submit(who, "a.csv", rows, [], 3)
            arch = Archive(demo)
            try:
                arch.add_user(name, "S", ["HUM"], "another long password")
            finally:
                arch.close()
        _wait(job)
        assert job.state == "failed" and job.failure.startswith("[E129]")
        assert job.done < len(rows)
    finally:
        registry.close()
        views.close()
        users.close()
