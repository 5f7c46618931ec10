"""Errors for programs (issue 11, item 9): one line, or one JSON object under --json; bad numbers refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kartoteka.cli import app
from tests.cli.conftest import runner


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def test_a_domain_error_is_a_json_object_under_json(db: Path) -> None:
    r = runner.invoke(app, ["--archive", str(db), "dossier", "Nobody Atall", "--json"])
    assert r.exit_code == 1 and r.stdout == ""
    err = json.loads(one_line(r.stderr))
    assert set(err) == {"error", "message"} and err["error"] == "E020"
    assert err["message"].startswith("No entity 'Nobody Atall'")
    plain = runner.invoke(app, ["--archive", str(db), "dossier", "Nobody Atall"])
    assert plain.exit_code == 1 and one_line(plain.stderr) == f"Error: [E020] {err['message']}"


def test_a_missing_archive_is_json_too(tmp_path: Path) -> None:
    r = runner.invoke(app, ["--archive", str(tmp_path / "none.db"), "search", "x", "--json"])
    assert r.exit_code == 1 and json.loads(one_line(r.stderr))["error"] == "E110"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["search"], "Missing argument 'QUERY'"),
        (["user", "add", "clerk"], "Missing option '--clearance'"),
        (["bogus"], "No such command 'bogus'"),
        (["stats", "--no-such-flag"], "No such option: --no-such-flag"),
        (["search", "x", "--limit", "many"], "Invalid value for '--limit'"),
    ],
)
def test_usage_errors_are_one_line(db: Path, args: list[str], needle: str) -> None:
    r = runner.invoke(app, ["--archive", str(db), *args])
    assert r.exit_code == 2
    line = one_line(r.stderr)
    assert line.startswith("Error: [E113] ") and needle.lower() in line.lower() and "--help" in line
    assert "╭" not in r.stderr and "Usage:" not in r.stderr
    j = runner.invoke(app, ["--archive", str(db), *args, "--json"])
    assert j.exit_code == 2 and json.loads(one_line(j.stderr))["error"] == "E113"


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["search", "Lisbon", "--limit", "0"], "--limit"),
        (["search", "Lisbon", "--limit", "-5"], "--limit"),
        (["search", "Lisbon", "--offset", "-1"], "--offset"),
        (["check", "Sorin", "--limit", "0"], "--limit"),
        (["check", "Sorin", "--workers", "-2"], "--workers"),
        (["ingest", "kartoteka/demo/corpus", "--workers", "0"], "--workers"),
        (["network", "Vetrova", "--depth", "0", "--format", "json"], "--depth"),
        (["network", "Vetrova", "--depth", "5", "--format", "json"], "--depth"),
        (["cooccur", "Vetrova", "--limit", "-1"], "--limit"),
        (["dossier", "Vetrova", "--passages", "-1"], "--passages"),
    ],
)
def test_zero_and_negative_counts_are_refused(db: Path, args: list[str], option: str) -> None:
    before = db.read_bytes()
    r = runner.invoke(app, ["--archive", str(db), *args])
    assert r.exit_code == 2, r.output
    line = one_line(r.stderr)
    assert line.startswith("Error: [E113] Invalid value for") and option in line
    assert db.read_bytes() == before  # refused before the archive was opened


def test_bare_command_still_shows_its_help() -> None:
    r = runner.invoke(app, [])
    assert r.exit_code == 2 and "Usage:" in r.output and "ingest" in r.output


def test_a_file_that_cannot_be_made_is_one_line(db: Path, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder"
    r = runner.invoke(app, ["--archive", str(missing / "k.db"), "init", "--json"])
    assert r.exit_code == 1
    err = json.loads(one_line(r.stderr))
    assert err["error"] == "E117" and str(missing / "k.db") in err["message"]
    doc = json.loads(runner.invoke(app, ["--archive", str(db), "search", "Lisbon", "--json"]).stdout)["hits"][0]
    out = missing / "r.txt"
    r = runner.invoke(app, ["--archive", str(db), "release", doc["document_id"], "--for", "U", "-o", str(out)])
    assert (
        r.exit_code == 1 and one_line(r.stderr) == f"Error: [E117] Can't open or write {out}: No such file or directory"
    )


def test_exports_are_written_private(db: Path, tmp_path: Path) -> None:
    """A release copy, a network export or a batch screen holds what its author
    may see: written mode 0600, like the archive (a hostile review found 0644)."""
    doc = json.loads(runner.invoke(app, ["--archive", str(db), "search", "Lisbon", "--json"]).stdout)["hits"][0]
    out = tmp_path / "r.txt"
    out.write_text("old")
    out.chmod(0o644)
    r = runner.invoke(app, ["--archive", str(db), "release", doc["document_id"], "--for", "U", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert out.stat().st_mode & 0o777 == 0o600 and out.read_text() != "old"
    names = tmp_path / "names.csv"
    names.write_text("query_id,name\n1,Arkady Zorin\n")
    screened = tmp_path / "screen.csv"
    r = runner.invoke(app, ["--archive", str(db), "check", "--batch", str(names), "-o", str(screened)])
    assert r.exit_code == 0, r.output
    assert screened.stat().st_mode & 0o777 == 0o600
