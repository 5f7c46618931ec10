"""`kartoteka doctor`: the full check, what each kind of damage looks like in it, and who may run it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from kartoteka.cli import app
from kartoteka.errors import KartotekaError
from kartoteka.store import integrity
from tests.cli.conftest import runner
from tests.cli.test_damaged import flip_page_headers, one_line

CHECKS = ["header", "integrity", "schema", "foreign_keys", "full_text", "audit"]


def doctor(db: Path, *extra: str) -> tuple[int, dict[str, object], str]:
    r = runner.invoke(app, ["--archive", str(db), "doctor", "--json", *extra])
    return r.exit_code, json.loads(r.stdout) if r.stdout.strip() else {}, r.stderr


def checks(report: dict[str, object]) -> dict[str, dict[str, object]]:
    return {str(c["check"]): c for c in report["checks"]}  # type: ignore[attr-defined]


def sql(db: Path, *statements: str) -> None:
    con = sqlite3.connect(db)
    con.execute("PRAGMA foreign_keys=OFF")
    for s in statements:
        con.execute(s)
    con.commit()
    con.close()


def test_a_sound_archive(db: Path) -> None:
    code, report, stderr = doctor(db)
    assert code == 0 and stderr == ""
    assert report["ok"] is True and report["archive"] == str(db)
    assert [c["check"] for c in report["checks"]] == CHECKS  # type: ignore[attr-defined]
    assert all(c["ok"] is True and c["problems"] == [] for c in checks(report).values())
    assert "entries" in str(checks(report)["audit"]["note"])
    text = runner.invoke(app, ["--archive", str(db), "doctor"])
    assert text.exit_code == 0 and text.stdout.strip().endswith("The archive is sound.")


def test_a_portion_missing_from_the_full_text_index(db: Path) -> None:
    sql(
        db,
        "INSERT INTO portions_fts(portions_fts, rowid, text)"
        " SELECT 'delete', id, text FROM portions WHERE kind='text' ORDER BY id LIMIT 1",
    )
    code, report, stderr = doctor(db)
    assert code == 1 and report["ok"] is False
    [problem] = checks(report)["full_text"]["problems"]  # type: ignore[misc]
    assert str(problem).startswith("portions_fts: 1 text portion(s) not indexed")
    err = json.loads(one_line(stderr))
    assert err["error"] == "E116" and "full_text" in err["message"]


def test_rows_pointing_nowhere(db: Path) -> None:
    sql(db, "DELETE FROM entities WHERE id IN (SELECT entity_id FROM mentions WHERE entity_id IS NOT NULL LIMIT 1)")
    code, report, _ = doctor(db)
    assert code == 1
    problems = [str(x) for x in checks(report)["foreign_keys"]["problems"]]  # type: ignore[attr-defined]
    assert any("of mentions point to missing rows of entities" in x for x in problems), problems
    assert checks(report)["audit"]["ok"] is True  # the file opens; only its references are wrong


def test_flipped_bytes(db: Path) -> None:
    flip_page_headers(db)
    before = db.read_bytes()
    code, report, stderr = doctor(db)
    assert code == 1 and checks(report)["integrity"]["ok"] is False
    assert checks(report)["integrity"]["problems"]
    assert checks(report)["audit"]["ok"] is None  # not opened: the file is damaged
    assert db.read_bytes() == before  # the doctor's checks wrote nothing
    assert json.loads(one_line(stderr))["error"] == "E116"


def test_a_dropped_table(db: Path) -> None:
    sql(db, "DROP TABLE entity_names")
    code, report, _ = doctor(db)
    assert code == 1 and "table entity_names missing" in checks(report)["schema"]["problems"]  # type: ignore[operator]


def test_the_owner_only(db: Path) -> None:
    assert runner.invoke(app, ["--archive", str(db), "user", "add", "clerk", "--clearance", "U"]).exit_code == 0
    r = runner.invoke(app, ["--archive", str(db), "--as", "clerk", "doctor"])
    assert r.exit_code == 1 and one_line(r.stderr).startswith("Error: [E042]")


def test_a_file_that_is_no_archive(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("shopping list\n")
    code, report, stderr = doctor(path)
    assert code == 1
    c = checks(report)
    assert c["header"]["problems"] == ["file is not a database"]
    assert all(c[name]["ok"] is None for name in CHECKS[1:])  # not checked, not failed five times over
    assert json.loads(one_line(stderr))["error"] == "E116"


def test_damage_after_a_good_open_is_seen_by_the_next(db: Path) -> None:
    # The open check runs once per state of the file: a file changed since is checked again.
    def check_open() -> None:
        con = sqlite3.connect(db)
        try:
            integrity.quick_check_on_open(con, str(db))
        finally:
            con.close()

    check_open()
    check_open()  # remembered: the same file, unchanged
    flip_page_headers(db)
    with pytest.raises(KartotekaError) as caught:
        check_open()
    assert caught.value.code == "E111"
