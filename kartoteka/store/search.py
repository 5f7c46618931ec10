"""Full-text search, partitioned by label, for SQLite.

One FTS5 index over every paragraph ranks by BM25 with statistics (document
frequency, average length) taken over hidden paragraphs too, and a query
does work for every hidden match: both the order of a viewer's hits and the
time the query takes would depend on what the viewer may not see. So each
distinct pair (document label, governing portion label) has its own FTS5
table, a *partition*, and a viewer's query runs only in the partitions
whose every paragraph they may see. Ranks and snippets are then functions
of visible text alone, and a term found only in hidden paragraphs costs a
viewer nothing but the lookup of partition names.

The single index `portions_fts` stays for the owner, who sees everything.
Documents are never edited in place, so a portion is written to its
partition once, when it is stored.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

TOKENIZE = "unicode61 remove_diacritics 2"
# The schema version whose migration creates the partitions and indexes what is stored.
MIGRATION = 7


def _table(partition: int) -> str:
    return f"portions_fts_{int(partition)}"


def partition_of(db: sqlite3.Connection, document_label: str, portion_label: str) -> int:
    """The partition of a (document label, governing label) pair, created on first use."""
    row = db.execute(
        "SELECT id FROM search_partitions WHERE document_label=? AND portion_label=?", (document_label, portion_label)
    ).fetchone()
    if row is not None:
        return int(row[0])
    cur = db.execute(
        "INSERT INTO search_partitions(document_label, portion_label) VALUES (?, ?)", (document_label, portion_label)
    )
    partition = int(cur.lastrowid or 0)
    create_index(db, partition)
    return partition


def create_index(db: sqlite3.Connection, partition: int) -> None:
    """The (empty) FTS5 table of a partition; an import makes them for the partitions it loads."""
    db.execute(
        f"CREATE VIRTUAL TABLE {_table(partition)} USING fts5("
        f"text, content='portions', content_rowid='id', tokenize = '{TOKENIZE}')"
    )


def index_portions(db: sqlite3.Connection, document_label: str, rows: Iterable[tuple[int, str | None, str]]) -> None:
    """Add text portions (id, own label or None, text) of one document to their partitions."""
    # A document has few distinct labels: look each partition up once, not once per portion.
    found: dict[str, int] = {}
    for pid, own, text in rows:
        label = own or document_label
        if label not in found:
            found[label] = partition_of(db, document_label, label)
        db.execute(f"INSERT INTO {_table(found[label])}(rowid, text) VALUES (?, ?)", (pid, text))


def backfill(db: sqlite3.Connection) -> None:
    """Index every stored text portion: for an archive made before partitions."""
    rows = db.execute(
        "SELECT p.id, p.label, p.text, d.label FROM portions p JOIN documents d ON d.id=p.document_id"
        " WHERE p.kind='text' ORDER BY p.id"
    ).fetchall()
    for pid, own, text, dlabel in rows:
        index_portions(db, dlabel or "", [(int(pid), own, text)])


def partitions(db: sqlite3.Connection) -> list[tuple[int, str, str]]:
    """(partition, document label, governing label) for every partition."""
    return [
        (int(r[0]), r[1], r[2]) for r in db.execute("SELECT id, document_label, portion_label FROM search_partitions")
    ]


def ranked(db: sqlite3.Connection, query: str, parts: Sequence[int]) -> list[tuple[int, float, int]]:
    """(portion id, BM25 rank, partition) of every match in the given partitions, best first.

    Ties go to the earlier stored portion: ingest order, which hidden
    material does not reorder. Raises ValueError for a query FTS5 refuses.
    """
    out: list[tuple[int, float, int]] = []
    try:
        for part in parts:
            table = _table(part)
            out.extend(
                (int(r[0]), float(r[1]), part)
                for r in db.execute(f"SELECT rowid, bm25({table}) FROM {table} WHERE {table} MATCH ?", (query,))
            )
    except sqlite3.OperationalError as exc:
        raise ValueError(str(exc)) from exc
    out.sort(key=lambda r: (r[1], r[0]))
    return out


def snippets(db: sqlite3.Connection, query: str, hits: Sequence[tuple[int, int]]) -> dict[int, str]:
    """Snippets for (portion id, partition) hits, taken from each hit's own partition."""
    by_part: dict[int, list[int]] = {}
    for pid, part in hits:
        by_part.setdefault(part, []).append(pid)
    out: dict[int, str] = {}
    for part, pids in by_part.items():
        table = _table(part)
        marks = ",".join("?" * len(pids))
        for r in db.execute(
            f"SELECT rowid, snippet({table}, 0, '«', '»', ' … ', 16) FROM {table}"
            f" WHERE {table} MATCH ? AND rowid IN ({marks})",
            (query, *pids),
        ):
            out[int(r[0])] = str(r[1])
    return out
