"""A small archive served over HTTP to two users: ulla (U) and tom (TS with HUM).

What tom may see and ulla may not: the secret cable, the HUM paragraph of the
open report, and the people named only there (Kovalenko, Sokolov).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from kartoteka.archive import Archive
from tests.access.test_policy import OPEN_REPORT, SECRET_CABLE, _doc

PASSWORDS = {"ulla": "ulla's long passphrase", "tom": "tom's long passphrase"}
LOW, HIGH = "ulla", "tom"


def build(path: Path) -> dict[str, Any]:
    arch = Archive(path)
    [open_doc] = list(arch.ingest([_doc("open.txt", OPEN_REPORT)]))
    [secret_doc] = list(arch.ingest([_doc("secret.txt", SECRET_CABLE)], label="S:HUM"))
    arch.add_user(LOW, "U", [], PASSWORDS[LOW])
    arch.add_user(HIGH, "TS", ["HUM"], PASSWORDS[HIGH])
    kovalenko = arch.check("Boris Kovalenko")["matches"][0]["entity_id"]
    zorin = arch.check("Arkady Zorin")["matches"][0]["entity_id"]
    arch.close()
    return {
        "path": path,
        "open": open_doc.document_id,
        "secret": secret_doc.document_id,
        "kovalenko": kovalenko,
        "zorin": zorin,
    }


def login(client: TestClient, user: str, password: str | None = None) -> dict[str, str]:
    r = client.post("/api/login", json={"user": user, "password": password or PASSWORDS[user]})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


@contextmanager
def as_owner(path: Path) -> Iterator[Archive]:
    """The archive as the CLI opens it in another process: its own connection, as the owner."""
    arch = Archive(path)
    try:
        yield arch
    finally:
        arch.close()
