import sqlite3
from pathlib import Path

import pytest

from kartoteka.errors import KartotekaError
from kartoteka.store.sqlite import SCHEMA_VERSION, SQLiteStore


def test_new_archive_is_wal_and_versioned(tmp_path: Path) -> None:
    s = SQLiteStore(tmp_path / "a.db")
    assert s.schema_version() == SCHEMA_VERSION
    assert s.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    s.close()
    # Reopening runs no migration again.
    s = SQLiteStore(tmp_path / "a.db")
    assert s.schema_version() == SCHEMA_VERSION
    s.close()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    s = SQLiteStore(tmp_path / "a.db")
    s.db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    s.close()
    with pytest.raises(KartotekaError, match="E011"):
        SQLiteStore(tmp_path / "a.db")


def test_foreign_sqlite_file_is_refused(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "other.db")
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    with pytest.raises(KartotekaError, match="E010"):
        SQLiteStore(tmp_path / "other.db")


def test_garbage_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "g.db").write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(KartotekaError, match="E010"):
        SQLiteStore(tmp_path / "g.db")


def test_transaction_rolls_back(tmp_path: Path) -> None:
    s = SQLiteStore(tmp_path / "a.db")
    with pytest.raises(RuntimeError), s.transaction():
        s.create_entity("per-x", "PERSON", "X", "analyst")
        raise RuntimeError
    assert s.entity("per-x") is None
    with s.transaction():
        with pytest.raises(RuntimeError), s.savepoint():
            s.create_entity("per-y", "PERSON", "Y", "analyst")
            raise RuntimeError
        s.create_entity("per-z", "PERSON", "Z", "analyst")
    assert s.entity("per-y") is None and s.entity("per-z") is not None
