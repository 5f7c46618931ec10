"""Shared by the export/import and backup tests: a demo archive with something in every table, and
a raw reading of every table of an archive and its trail, to compare two archives row by row."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from kartoteka.archive import Archive
from kartoteka.cli import app
from kartoteka.demo import build

TRUE_NAME = "Ivan Testovich Lebedev"
ANALYST_PASSWORD = "correct horse battery staple"


_runner = CliRunner()


def cli(*args: str) -> tuple[int, str, str]:
    """`kartoteka ARGS` in process: (exit code, stdout, stderr)."""
    r = _runner.invoke(app, list(args))
    return r.exit_code, r.stdout, r.stderr


def rich_archive(path: Path) -> Path:
    """The demo corpus plus users, a sealed source, relations, claims, grades, corrections,
    imported persons and a sealed audit segment: something in every table that can hold rows."""
    arch = build(path)
    try:
        arch.add_user("clerk", "U", [])
        arch.add_user("analyst", "S", ["HUM", "ANALYST", "REGISTRY"], password=ANALYST_PASSWORD)
        arch.source_add("GLACIER", TRUE_NAME, "analyst")
        arch.build_relations()
        arch.derive_claims()
        report = next(str(d["id"]) for d in arch.documents() if "report" in str(d["source"]))
        arch.grade(report, "B", 2, reported_by="GLACIER")
        zorin = arch.resolve_ref("Arkady Zorin")
        arch.alias(zorin, "Arkasha")
        arch.claim(zorin, "heads the Lisbon residency", "GLACIER", "B", 2, document_id=report)
        csv = path.with_name("persons.csv")
        csv.write_text("id,name,aliases\np-1,Pyotr Ilyich Testov,Petya Testov\np-2,P. I. Testov,\n", encoding="utf-8")
        assert all(r["status"] == "added" for r in arch.import_persons(csv))
        arch.merge("p-1", "p-2")
        arch.search("Zorin")
        arch.audit_compact(keep=5)
    finally:
        arch.close()
    return path


def _order(con: sqlite3.Connection, name: str, sql: str) -> str:
    if "WITHOUT ROWID" in sql.upper():
        n = len(con.execute(f'PRAGMA table_info("{name}")').fetchall())
        return ", ".join(str(i) for i in range(1, n + 1))
    return "rowid"


def tables(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table of one SQLite file, in stored order; FTS5 tables left out (they are
    rebuilt), and of the name change log only the cards it names."""
    con = sqlite3.connect(path)
    try:
        out: dict[str, list[tuple[object, ...]]] = {}
        for name, sql in con.execute("SELECT name, sql FROM sqlite_master WHERE type='table' ORDER BY name").fetchall():
            if name.startswith("portions_fts") or (name.startswith("sqlite_") and name != "sqlite_sequence"):
                continue
            if name == "name_change_clock":
                continue  # the change log's clock is the archive's own count of its writes
            if name == "name_changes":
                # Its clock readings are the archive's own; which cards it names must travel.
                out[name] = con.execute("SELECT entity_id FROM name_changes ORDER BY entity_id").fetchall()
                continue
            order = "name" if name == "sqlite_sequence" else _order(con, name, sql)
            out[name] = con.execute(f'SELECT * FROM "{name}" ORDER BY {order}').fetchall()
        return out
    finally:
        con.close()


def trail_file(path: Path) -> Path:
    return path.with_name(path.name + ".audit.sqlite")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rewrite(export: Path, rel: str, data: bytes) -> None:
    """Replace one file of an export and make the manifest agree, as a forger with the whole folder could."""
    (export / rel).write_bytes(data)
    manifest = json.loads((export / "manifest.json").read_text())
    for t in manifest["tables"]:
        if t["file"] == rel:
            t.update(rows=data.count(b"\n"), bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
    (export / "manifest.json").write_text(json.dumps(manifest))


def lengthen_trail(export: Path, extra: int = 300_000) -> None:
    """Add `extra` audit entries to an export's trail, so that an import of it
    runs long enough for a kill to land inside its transaction."""
    lines = (export / "trail/audit.jsonl").read_bytes().splitlines(keepends=True)
    last = json.loads(lines[-1])
    more = [
        json.dumps({**last, "seq": last["seq"] + i, "subjects": "[]"}, separators=(",", ":")).encode() + b"\n"
        for i in range(1, extra + 1)
    ]
    rewrite(export, "trail/audit.jsonl", b"".join(lines + more))


def answers(path: Path, user: str | None) -> list[object]:
    """What a viewer is told: documents, a document, search, check, cards, dossier, timeline."""
    arch = Archive(path, user=user)
    try:
        docs = arch.documents()
        return [
            docs,
            [arch.document(str(d["id"])) for d in docs],
            arch.search("Zorin"),
            arch.search("Lisbon OR station"),
            arch.check("Sorin"),
            arch.check("Wetrowa"),
            arch.cards(),
            arch.dossier("Arkady Zorin"),
            arch.timeline("Arkady Zorin"),
            {k: v for k, v in arch.stats().items() if k != "archive"},
        ]
    finally:
        arch.close()
