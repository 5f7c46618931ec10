"""Person cards of a few one-line U cables, each ingested as its own document."""

from __future__ import annotations

from pathlib import Path

from kartoteka.archive import Archive
from kartoteka.registry.readers import RawDocument


def person_cards(folder: Path, cables: list[str]) -> list[tuple[str, int]]:
    """(name, mentions) of every person card, listed and unconfirmed, sorted."""
    arch = Archive(folder / "a.db")
    try:
        for i, text in enumerate(cables):
            doc = RawDocument(source=f"d{i}.txt", format="txt", reader="test.v1", text=text, pages=())
            assert [r.status for r in arch.ingest([doc], label="U")] == ["added"]
        return sorted(
            (str(c["name"]), c["mentions"])
            for flag in (False, True)
            for c in arch.cards(kind="person", limit=50, unconfirmed=flag)["cards"]
        )
    finally:
        arch.close()
