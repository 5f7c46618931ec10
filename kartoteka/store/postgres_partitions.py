"""Label partitions of portions and mentions, for PostgreSQL (see kartoteka/store/partitions.py).

The same rows as in SQLite: each pair (document label, governing portion
label) has an id in `label_partitions`, every portion, mention and derived
claim stores its own, and a viewer's reads name the partitions they may see
in the statement itself (`where_in`), so the database hands back no row of
any other partition: with none named, nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
from psycopg.rows import TupleRow

from kartoteka.store.partitions import governing


def partition_of(db: psycopg.Connection[TupleRow], document_label: str | None, portion_label: str | None) -> int:
    """The partition of a portion with these labels, created on first use."""
    pair = governing(document_label, portion_label)
    row = db.execute("SELECT id FROM label_partitions WHERE document_label=%s AND portion_label=%s", pair).fetchone()
    if row is not None:
        return int(row[0])
    got = db.execute(
        "INSERT INTO label_partitions(document_label, portion_label) VALUES (%s, %s)"
        " ON CONFLICT (document_label, portion_label) DO NOTHING RETURNING id",
        pair,
    ).fetchone()
    return int(got[0]) if got is not None else partition_of(db, document_label, portion_label)


def partitions(db: psycopg.Connection[TupleRow]) -> list[tuple[int, str, str]]:
    """(partition, document label, governing label) for every partition."""
    return [
        (int(r[0]), str(r[1]), str(r[2]))
        for r in db.execute("SELECT id, document_label, portion_label FROM label_partitions ORDER BY id")
    ]


def where_in(column: str, parts: Sequence[int] | None) -> str:
    """An SQL condition restricting `column` to the given partitions (None: no restriction; empty: nothing)."""
    if parts is None:
        return "TRUE"
    # Partition ids are integers: they go into the IN list without quoting.
    return f"{column} IN ({','.join(str(int(p)) for p in parts)})" if parts else "FALSE"
