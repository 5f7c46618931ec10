"""The CLI as a user runs it: JSON shapes, archive location, errors on stderr."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kartoteka.cli import app
from kartoteka.demo import corpus_path

runner = CliRunner()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "cli.db"
    r = runner.invoke(app, ["--archive", str(path), "ingest", str(corpus_path()), "--json"])
    assert r.exit_code == 0, r.output
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(lines) == 4
    assert all(set(x) == {"document_id", "source", "status"} and x["status"] == "added" for x in lines)
    return path


def run(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kartoteka.cli", "--archive", str(db), *args], capture_output=True, text=True
    )


def test_check_json(db: Path) -> None:
    r = runner.invoke(app, ["--archive", str(db), "check", "Зорин", "--json"])
    out = json.loads(r.stdout)
    assert out["query"] == "Зорин" and out["matches"][0]["score"] >= 0.7
    assert set(out["matches"][0]) == {"entity_id", "name", "score", "explanation", "labels"}


def test_check_batch_json_and_csv(db: Path, tmp_path: Path) -> None:
    batch = tmp_path / "visa.csv"
    batch.write_text("query_id,name\nv1,Sorin\nv2,Jane Nobody\nv3,\nv4,Wetrowa\n")
    r = runner.invoke(app, ["--archive", str(db), "check", "--batch", str(batch), "--json"])
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    assert [x["query_id"] for x in rows] == ["v1", "v2", "v4"]
    assert rows[0]["matches"][0]["score"] >= 0.7 and not [m for m in rows[1]["matches"] if m["score"] >= 0.7]
    assert "row 4" in r.stderr
    out = tmp_path / "out.csv"
    r = runner.invoke(app, ["--archive", str(db), "check", "--batch", str(batch), "-o", str(out)])
    assert r.exit_code == 0
    lines = out.read_text().splitlines()
    assert lines[0] == "query_id,query,rank,entity_id,name,score,explanation" and any(
        x.startswith("v1,Sorin,1,") for x in lines
    )


def test_dossier_json_shape(db: Path) -> None:
    r = runner.invoke(app, ["--archive", str(db), "dossier", "Arkady Zorin", "--json"])
    d = json.loads(r.stdout)
    assert {"entity_id", "name", "aliases", "documents"} <= set(d)
    assert all({"document_id", "source", "snippets"} <= set(doc) for doc in d["documents"])


def test_search_json(db: Path) -> None:
    r = runner.invoke(app, ["--archive", str(db), "search", "Lisbon", "--json"])
    d = json.loads(r.stdout)
    assert d["total"] >= 3 and {"document_id", "source", "portion", "snippet", "label"} == set(d["hits"][0])


def test_archive_from_environment(db: Path) -> None:
    r = runner.invoke(app, ["stats", "--json"], env={"KARTOTEKA_ARCHIVE": str(db)})
    assert json.loads(r.stdout)["documents"] == 4


def test_default_archive_in_working_directory(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Colonel Arkady Zorin arrived in Lisbon.\n")
    r = subprocess.run(
        [sys.executable, "-m", "kartoteka.cli", "ingest", "a.txt"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={k: v for k, v in __import__("os").environ.items() if k != "KARTOTEKA_ARCHIVE"},
    )
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "kartoteka.db").exists()


def test_errors_are_one_line_on_stderr(db: Path, tmp_path: Path) -> None:
    r = run(db, "dossier", "Nobody Whatsoever")
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "E020" in r.stderr
    (tmp_path / "bad.pdf").write_bytes(b"garbage")
    (tmp_path / "ok.txt").write_text("Yelena Vetrova taught at the institute.\n")
    r = run(db, "ingest", str(tmp_path / "bad.pdf"), str(tmp_path / "ok.txt"), str(tmp_path / "missing.txt"), "--json")
    assert r.returncode == 1
    statuses = {json.loads(x)["source"].rsplit("/", 1)[-1]: json.loads(x)["status"] for x in r.stdout.splitlines()}
    assert statuses == {"bad.pdf": "error", "ok.txt": "added", "missing.txt": "error"}
    assert len(r.stderr.strip().splitlines()) == 2 and "bad.pdf" in r.stderr and "missing.txt" in r.stderr
    r = run(tmp_path / "notes.txt", "stats")  # not an archive
    (tmp_path / "junk.db").write_bytes(b"junk" * 1000)
    r = run(tmp_path / "junk.db", "stats")
    assert r.returncode == 1 and "E010" in r.stderr and "Traceback" not in r.stderr


def test_stdin_ingest(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    r = subprocess.run(
        [sys.executable, "-m", "kartoteka.cli", "--archive", str(db), "ingest", "-", "--json"],
        input="Report: Arkady Zorin met Duarte Mendes.\n",
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["source"] == "-"


def test_corrections_via_cli(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    runner.invoke(app, ["--archive", str(db), "ingest", str(corpus_path())])
    z = json.loads(runner.invoke(app, ["--archive", str(db), "check", "Zorin", "--json"]).stdout)["matches"][0][
        "entity_id"
    ]
    r = runner.invoke(app, ["--archive", str(db), "alias", z, "Anton Sorokin", "--json"])
    assert json.loads(r.stdout) == {"entity_id": z, "alias": "Anton Sorokin", "label": "U"}
    r = runner.invoke(app, ["--archive", str(db), "merge", z, "no-such-entity"])
    assert r.exit_code == 1 and "E020" in r.stderr


def test_show_document(db: Path) -> None:
    r = runner.invoke(app, ["--archive", str(db), "ingest", str(corpus_path()), "--json"])
    doc_id = next(json.loads(x)["document_id"] for x in r.stdout.splitlines() if "report" in x)
    d = json.loads(runner.invoke(app, ["--archive", str(db), "show", doc_id, "--json"]).stdout)
    assert any(p["mark"] == "(S//HUM)" for p in d["portions"])
    assert any(m["kind"] == "exemption" and m["value"] == "50X1-HUM" for m in d["markings"])


def test_binary_inputs_are_clean_errors(db: Path, tmp_path: Path) -> None:
    blob = tmp_path / "blob.csv"
    blob.write_bytes(b"\xff\xfe\x00\x81binary\x00" * 50)
    for args in (
        ["check", "--batch", str(blob)],
        ["import", str(blob)],
        ["check", "--batch", str(tmp_path / "nope.csv")],
    ):
        r = run(db, *args)
        assert r.returncode == 1, args
        assert "Traceback" not in r.stderr and r.stderr.startswith("Error: [E0"), r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
