"""Label partitions of portions and mentions, for SQLite.

Reading every mention of an entity and dropping the hidden ones afterwards
makes a viewer's dossier take longer the more hidden passages name the
entity: time would tell what the body does not. So each distinct pair
(document label, governing portion label), a *partition* as in full-text
search (`kartoteka.store.search`), has an id, every portion and every
mention stores the id of its own, and a viewer's reads of mentions ask an
index on (entity, partition) for the partitions they may see whole. Hidden
mentions then cost a viewer nothing but the lookup of partition labels.

A portion's labels never change once stored, so neither does its partition;
a mention takes its portion's when it is written.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

# The schema version whose migration creates the partitions; its code step is `backfill`.
MIGRATION = 12


def governing(document_label: str | None, portion_label: str | None) -> tuple[str, str]:
    """The (document label, governing label) pair of a portion, as search partitions pair them."""
    doc = document_label or ""
    return doc, portion_label or doc


def partition_of(db: sqlite3.Connection, document_label: str | None, portion_label: str | None) -> int:
    """The partition of a portion with these labels, created on first use."""
    pair = governing(document_label, portion_label)
    row = db.execute("SELECT id FROM label_partitions WHERE document_label=? AND portion_label=?", pair).fetchone()
    if row is not None:
        return int(row[0])
    cur = db.execute("INSERT INTO label_partitions(document_label, portion_label) VALUES (?, ?)", pair)
    return int(cur.lastrowid or 0)


def backfill(db: sqlite3.Connection) -> None:
    """Give every stored portion and mention its partition: for an archive made before them."""
    found: dict[tuple[str | None, str | None], int] = {}
    updates: list[tuple[int, int]] = []
    for pid, dlabel, plabel in db.execute(
        "SELECT p.id, d.label, p.label FROM portions p JOIN documents d ON d.id=p.document_id ORDER BY p.id"
    ).fetchall():
        if (dlabel, plabel) not in found:
            found[(dlabel, plabel)] = partition_of(db, dlabel, plabel)
        updates.append((found[(dlabel, plabel)], int(pid)))
    db.executemany("UPDATE portions SET partition_id=? WHERE id=?", updates)
    db.execute(
        "UPDATE mentions SET partition_id=(SELECT p.partition_id FROM portions p WHERE p.id=mentions.portion_id)"
    )


def partitions(db: sqlite3.Connection) -> list[tuple[int, str, str]]:
    """(partition, document label, governing label) for every partition."""
    return [
        (int(r[0]), r[1], r[2]) for r in db.execute("SELECT id, document_label, portion_label FROM label_partitions")
    ]


def where_in(column: str, parts: Sequence[int] | None) -> str:
    """An SQL condition restricting `column` to the given partitions (None: no restriction)."""
    if parts is None:
        return "1"
    # Partition ids are integers: they go into the IN list without quoting.
    return f"{column} IN ({','.join(str(int(p)) for p in parts)})" if parts else "0"
