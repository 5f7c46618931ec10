"""`audit verify --json` and `verify-release --json` on a failure: the report on stdout, the
error object on stderr, exit 1, as every other command under --json fails."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from kartoteka.demo import build
from tests.store.transfer_helpers import cli, trail_file


def test_a_rewritten_audit_log_fails_with_an_error_object(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    build(path).close()
    code, out, err = cli("--archive", str(path), "audit", "verify", "--json")
    assert code == 0 and json.loads(out)["ok"] is True and err == ""
    db = sqlite3.connect(trail_file(path))
    with db:
        db.execute("UPDATE audit SET actor='someone else' WHERE seq=(SELECT min(seq) FROM audit)")
    db.close()
    code, out, err = cli("--archive", str(path), "audit", "verify", "--json")
    report = json.loads(out)
    assert code == 1 and report["ok"] is False and report["problems"]
    assert json.loads(err)["error"] == "E043"


def test_a_leaking_release_copy_fails_with_an_error_object(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    arch = build(path)
    try:
        doc = next(d for d in arch.documents() if "report" in str(d["source"]))
        portions = arch.document(str(doc["id"]))["portions"]
        withheld = max((p for p in portions if p["label"] != "U" and p["kind"] == "text"), key=lambda p: len(p["text"]))
    finally:
        arch.close()
    copy = tmp_path / "copy.txt"
    copy.write_text("A copy that kept what it should have withheld:\n" + withheld["text"], encoding="utf-8")
    code, out, err = cli(
        "--archive", str(path), "verify-release", str(copy), "--against", str(doc["id"]), "--for", "U", "--json"
    )
    report = json.loads(out)
    assert code == 1 and report["leaks"]
    assert json.loads(err)["error"] == "E044"
