"""`kartoteka export DIR` and `kartoteka import DIR`: a round trip keeps every row and every answer,
and a tampered, mismatched or interrupted import leaves the target as it was."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kartoteka.archive import Archive
from kartoteka.archive.transfer import import_archive
from tests.store.transfer_helpers import (
    ANALYST_PASSWORD,
    TRUE_NAME,
    answers,
    cli,
    digest,
    lengthen_trail,
    rewrite,
    rich_archive,
    tables,
    trail_file,
)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return rich_archive(tmp_path_factory.mktemp("src") / "rich.db")


@pytest.fixture(scope="module")
def exported(
    source: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, object], dict[str, list[tuple[object, ...]]]]:
    """The export, the source's archive tables right after it, and its trail's."""
    dest = tmp_path_factory.mktemp("exp") / "export"
    code, out, err = cli("--archive", str(source), "export", str(dest), "--with-keys", "--json")
    assert code == 0, err
    return dest, json.loads(out), {"archive": tables(source), "trail": tables(trail_file(source))}  # type: ignore[dict-item]


@pytest.fixture(scope="module")
def imported(
    exported: tuple[Path, dict[str, object], dict[str, object]], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    target = tmp_path_factory.mktemp("dst") / "copy.db"
    code, out, err = cli("--archive", str(target), "import", str(exported[0]), "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["archive"] == str(target) and result["keys"] == ["audit-key", "sources-key"]
    return target


def test_the_export_folder_is_private_and_described_by_its_manifest(
    exported: tuple[Path, dict[str, object], object],
) -> None:
    dest, result, _ = exported
    assert not dest.with_name(dest.name + ".partial").exists()
    for root, _dirs, files in os.walk(dest):
        assert stat.S_IMODE(os.stat(root).st_mode) == 0o700
        for f in files:
            assert stat.S_IMODE(os.stat(Path(root) / f).st_mode) == 0o600
    manifest = json.loads((dest / "manifest.json").read_text())
    assert manifest["format"] == "kartoteka-export" and manifest["format_version"] == 1
    names = {(t["store"], t["name"]) for t in manifest["tables"]}
    assert {("archive", "documents"), ("archive", "users"), ("archive", "sources"), ("trail", "audit")} <= names
    assert not any(n.startswith("portions_fts") for _, n in names)  # derived, rebuilt on import
    roles = sorted(f["role"] for f in manifest["files"])
    assert roles == ["audit-anchors", "audit-key", "audit-segment", "sources-key"]
    assert result["rows"] == sum(t["rows"] for t in manifest["tables"])
    # The true name stays sealed: it is nowhere in the export's text.
    assert all(TRUE_NAME.encode() not in p.read_bytes() for p in dest.rglob("*") if p.is_file())


def test_every_row_travels(
    exported: tuple[Path, object, dict[str, dict[str, list[tuple[object, ...]]]]], imported: Path
) -> None:
    _, _, before = exported
    after = tables(imported)
    assert set(after) == set(before["archive"])
    for name, rows in before["archive"].items():
        assert after[name] == rows, name
    assert all(
        before["archive"][t]
        for t in (
            "documents",
            "users",
            "sources",
            "claims",
            "relations",
            "corrections",
            "entity_names",
            "boilerplate_lines",
            "label_partitions",
            "search_partitions",
        )
    )
    trail = tables(trail_file(imported))
    n = len(before["trail"]["audit"])
    assert trail["audit"][:n] == before["trail"]["audit"]  # then the import's own entry
    assert trail["segments"] == before["trail"]["segments"] and trail["segments"]
    meta = dict(trail["meta"])  # type: ignore[arg-type]
    assert {k: meta[k] for k in ("archive", "outbox")} == {
        k: v for k, v in before["trail"]["meta"] if k in ("archive", "outbox")
    }  # type: ignore[misc]
    assert meta["import_pending"] == ""  # the renames were made
    for suffix in (".audit-key", ".sources-key"):
        assert digest(imported.with_name(imported.name + suffix)) == digest(exported[0] / "keys" / suffix[1:])


def test_the_copy_is_sound_and_its_audit_log_verifies(imported: Path) -> None:
    code, out, err = cli("--archive", str(imported), "doctor", "--json")
    assert code == 0, err + out
    code, out, _ = cli("--archive", str(imported), "audit", "verify", "--json")
    report = json.loads(out)
    assert code == 0 and report["ok"] is True and report["segments"] == 1 and report["problems"] == []


@pytest.mark.parametrize("user", [None, "clerk", "analyst"])
def test_every_answer_is_the_same(source: Path, imported: Path, user: str | None) -> None:
    assert answers(imported, user) == answers(source, user)


def test_users_sources_and_passwords_travel(imported: Path) -> None:
    assert Archive.login(imported, "analyst", ANALYST_PASSWORD)
    assert not Archive.login(imported, "analyst", "wrong")
    arch = Archive(imported, user="analyst")
    try:
        assert arch.source_show("GLACIER")["true_name"] == TRUE_NAME  # the key came: --with-keys
    finally:
        arch.close()


def test_without_keys_the_true_names_stay_sealed(source: Path, tmp_path: Path) -> None:
    dest, target = tmp_path / "exp", tmp_path / "t.db"
    assert cli("--archive", str(source), "export", str(dest))[0] == 0
    assert not (dest / "keys" / "sources-key").exists() and (dest / "keys" / "audit-key").exists()
    assert cli("--archive", str(target), "import", str(dest))[0] == 0
    assert not target.with_name("t.db.sources-key").exists()
    arch = Archive(target, user="analyst")
    try:
        with pytest.raises(Exception) as info:
            arch.source_show("GLACIER")
        assert TRUE_NAME not in str(info.value)
    finally:
        arch.close()


def test_an_imported_archive_exports_and_imports_again(imported: Path, source: Path, tmp_path: Path) -> None:
    """There and back: the copy of a copy holds the same rows, and verifies."""
    dest, again = tmp_path / "exp", tmp_path / "again.db"
    assert cli("--archive", str(imported), "export", str(dest))[0] == 0
    code, _, err = cli("--archive", str(again), "import", str(dest))
    assert code == 0, err
    assert tables(again) == tables(imported)
    code, out, _ = cli("--archive", str(again), "audit", "verify", "--json")
    assert code == 0 and json.loads(out)["ok"] is True
    assert answers(again, "clerk") == answers(source, "clerk")


def test_into_an_archive_made_by_init(exported: tuple[Path, object, object], tmp_path: Path) -> None:
    target = tmp_path / "init.db"
    assert cli("--archive", str(target), "init")[0] == 0
    code, _, err = cli("--archive", str(target), "import", str(exported[0]))
    assert code == 0, err
    code, out, _ = cli("--archive", str(target), "audit", "verify", "--json")
    assert code == 0 and json.loads(out)["ok"] is True


def _files(folder: Path) -> dict[str, str]:
    return {p.name: digest(p) for p in folder.iterdir() if p.is_file()}


def test_into_an_archive_that_holds_anything_is_refused(
    exported: tuple[Path, object, object], source: Path, tmp_path: Path
) -> None:
    target = tmp_path / "busy.db"
    assert cli("--archive", str(target), "init")[0] == 0
    assert cli("--archive", str(target), "user", "add", "someone", "--clearance", "U")[0] == 0
    before = _files(tmp_path)
    code, _, err = cli("--archive", str(target), "import", str(exported[0]))
    assert code == 1 and "[E142]" in err and "users" in err
    assert _files(tmp_path) == before
    read = tmp_path / "read.db"  # nothing in its tables, but its audit log has entries
    assert cli("--archive", str(read), "init")[0] == 0 and cli("--archive", str(read), "search", "anything")[0] == 0
    code, _, err = cli("--archive", str(read), "import", str(exported[0]))
    assert code == 1 and "[E142]" in err and "audit log" in err


def test_into_an_archive_another_process_has_open_is_refused(
    exported: tuple[Path, object, object], tmp_path: Path
) -> None:
    target = tmp_path / "open.db"
    assert cli("--archive", str(target), "init")[0] == 0
    other = sqlite3.connect(target)  # a server's or an ingest's connection
    try:
        other.execute("SELECT count(*) FROM documents").fetchone()
        code, _, err = cli("--archive", str(target), "import", str(exported[0]))
        assert code == 1 and "[E146]" in err
    finally:
        other.close()
    assert tables(target)["documents"] == [] and not list(tmp_path.glob("*.import"))
    assert cli("--archive", str(target), "import", str(exported[0]))[0] == 0


def _copy(export: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "exp"
    shutil.copytree(export, dest)
    return dest


@pytest.mark.parametrize(
    "rel", ["archive/portions.jsonl", "trail/audit.jsonl", "keys/audit-key", "files/audit-anchors"]
)
def test_a_tampered_file_is_refused_and_nothing_is_written(
    exported: tuple[Path, object, object], tmp_path: Path, rel: str
) -> None:
    dest = _copy(exported[0], tmp_path)
    data = bytearray((dest / rel).read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit, the line count unchanged
    (dest / rel).write_bytes(bytes(data))
    target = tmp_path / "new" / "t.db"
    target.parent.mkdir()
    code, _, err = cli("--archive", str(target), "import", str(dest))
    assert code == 1 and "[E141]" in err and rel in err
    assert list(target.parent.iterdir()) == []  # not even an empty archive


def test_a_forged_manifest_still_gets_row_checks(exported: tuple[Path, object, object], tmp_path: Path) -> None:
    """A forger who rewrites the manifest too passes the checksums; a row that is not a row still stops it."""
    dest = _copy(exported[0], tmp_path)
    lines = (dest / "archive/users.jsonl").read_bytes().splitlines(keepends=True)
    rewrite(dest, "archive/users.jsonl", b"".join([*lines, b'{"name": "eve"}\n']))
    target = tmp_path / "t.db"
    code, _, err = cli("--archive", str(target), "import", str(dest))
    assert code == 1 and "[E144]" in err and "archive/users.jsonl line" in err
    assert not target.exists() or target.stat().st_size == 0


@pytest.mark.parametrize(
    ("rel", "column", "value"),
    [
        ("archive/portions.jsonl", "seq", "zero"),  # SQLite would have stored it as it stands
        ("archive/portions.jsonl", "text", 7),
        ("archive/documents.jsonl", "char_count", True),  # a bool is no integer
        ("archive/archive_secret.jsonl", "secret", "not bytes"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_naming_its_line(
    exported: tuple[Path, object, object], tmp_path: Path, rel: str, column: str, value: object
) -> None:
    """A forged manifest passes the checksums; each value is still checked against its column's type."""
    dest = _copy(exported[0], tmp_path)
    lines = (dest / rel).read_bytes().splitlines(keepends=True)
    row = json.loads(lines[0])
    assert column in row
    row[column] = value
    rewrite(dest, rel, b"".join([json.dumps(row).encode() + b"\n", *lines[1:]]))
    target = tmp_path / "t.db"
    code, _, err = cli("--archive", str(target), "import", str(dest))
    assert code == 1 and "[E144]" in err and f"{rel} line 1: {column}:" in err, err
    assert not target.exists() or target.stat().st_size == 0


def test_a_row_pointing_at_nothing_is_refused(exported: tuple[Path, object, object], tmp_path: Path) -> None:
    """References are checked in bulk before the commit: a marking of a document that is not there stops it."""
    dest = _copy(exported[0], tmp_path)
    lines = (dest / "archive/markings.jsonl").read_bytes().splitlines(keepends=True)
    row = json.loads(lines[-1])
    row.update(id=row["id"] + 1000, document_id="doc-0000000000000000")
    rewrite(dest, "archive/markings.jsonl", b"".join([*lines, json.dumps(row).encode() + b"\n"]))
    target = tmp_path / "t.db"
    code, _, err = cli("--archive", str(target), "import", str(dest))
    assert code == 1 and "[E144]" in err and "archive/markings.jsonl" in err and "missing documents" in err
    assert not target.exists() or target.stat().st_size == 0


def test_a_folder_that_is_not_an_export(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    code, _, err = cli("--archive", str(tmp_path / "t.db"), "import", str(tmp_path / "folder"))
    assert code == 1 and "[E140]" in err and "manifest.json" in err
    code, _, err = cli("--as", "clerk", "--archive", str(tmp_path / "t.db"), "import", str(tmp_path / "folder"))
    assert code == 1 and "[E042]" in err


def test_export_is_the_owners_and_never_overwrites(source: Path, exported: tuple[Path, object, object]) -> None:
    code, _, err = cli("--archive", str(source), "--as", "analyst", "export", str(exported[0].parent / "x"))
    assert code == 1 and "[E042]" in err
    code, _, err = cli("--archive", str(source), "export", str(exported[0]))
    assert code == 1 and "[E145]" in err


def test_killed_after_the_commit_the_next_open_finishes(exported: tuple[Path, object, object], tmp_path: Path) -> None:
    """The renames that follow the commit are owed by the next open, whoever it is."""
    target = tmp_path / "t.db"
    import_archive(exported[0], target)  # the transaction only: what a kill right after the commit leaves
    assert (tmp_path / "t.db.audit-key.import").exists() and not (tmp_path / "t.db.audit-key").exists()
    code, out, _ = cli("--archive", str(target), "audit", "verify", "--json")
    assert code == 0 and json.loads(out)["ok"] is True
    assert not list(tmp_path.glob("*.import")) and (tmp_path / "t.db.audit-segments").is_dir()


def test_kill_9_during_the_import_leaves_the_target_as_it_was(
    exported: tuple[Path, object, object], tmp_path: Path
) -> None:
    dest = _copy(exported[0], tmp_path)
    lengthen_trail(dest)  # a long import: the kill lands inside the transaction
    target = tmp_path / "t.db"
    assert cli("--archive", str(target), "init")[0] == 0
    key = digest(tmp_path / "t.db.audit-key")
    before = (tables(target), tables(trail_file(target)))
    proc = subprocess.Popen(
        [sys.executable, "-m", "kartoteka.cli", "--archive", str(target), "import", str(dest)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    journal = tmp_path / "t.db.audit.sqlite-journal"
    deadline = time.monotonic() + 60
    while not journal.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.3)  # well inside the rows
    assert proc.poll() is None, "the import ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    # The next open rolls both files back (their hot journals): as it was, and still importable.
    code, out, err = cli("--archive", str(target), "doctor", "--json")
    assert code == 0, err + out
    assert (tables(target), tables(trail_file(target))) == before
    assert digest(tmp_path / "t.db.audit-key") == key and not (tmp_path / "t.db.audit-anchors").exists()
    code, _, err = cli("--archive", str(target), "import", str(exported[0]))
    assert code == 0, err
    assert tables(target)["documents"] == exported[2]["archive"]["documents"]


def test_the_renames_owed_touch_only_files_named_after_the_archive(imported: Path, tmp_path: Path) -> None:
    """The list of renames lives in the trail an export brought: it may name nothing else."""
    target = tmp_path / "t.db"
    for p in imported.parent.iterdir():
        if p.name.startswith(imported.name) and p.is_file() and not p.name.endswith(("-wal", "-shm")):
            shutil.copy(p, tmp_path / p.name.replace(imported.name, target.name))
    shutil.copytree(Path(f"{imported}.audit-segments"), Path(f"{target}.audit-segments"))
    (tmp_path / "evil").write_text("not a key")
    (tmp_path / "t.db.evil").write_text("not a key either")
    pending = json.dumps([["evil", "t.db.audit-key"], ["t.db.evil", "../t.db.audit-key"]])
    con = sqlite3.connect(trail_file(target))
    con.execute("UPDATE meta SET value=? WHERE key='import_pending'", (pending,))
    con.commit()
    con.close()
    key = digest(Path(f"{target}.audit-key"))
    code, out, _ = cli("--archive", str(target), "audit", "verify", "--json")
    assert code == 0 and json.loads(out)["ok"] is True
    assert digest(Path(f"{target}.audit-key")) == key and (tmp_path / "evil").exists()
    assert not (tmp_path.parent / "t.db.audit-key").exists()
