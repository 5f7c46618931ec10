"""Full-text search, partitioned by label, for PostgreSQL.

As in SQLite (kartoteka/store/search.py), each pair (document label,
governing portion label) is a *search partition* with an index of its own,
here a table `portions_tsv_N` of (portion id, tsvector) with a GIN index,
created when the partition's first portion is stored. A viewer's query reads
only the tables of the partitions they may see whole, in one statement: a
term found only in hidden paragraphs costs them no index pages, and ranks
(`ts_rank`, normalised by length like BM25's) and snippets (`ts_headline`)
are functions of the visible row alone. A single index over every portion
with the partition as a filter would read the postings of hidden matches,
and the time a query takes would tell of them.

The query syntax is FTS5's, translated by kartoteka/store/tsquery.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import psycopg
from psycopg.rows import TupleRow

from kartoteka.store.tsquery import CONFIG, translate

Conn = psycopg.Connection[TupleRow]
# ts_headline: about FTS5's snippet(..., 16 tokens), the same markers.
HEADLINE = "StartSel=«, StopSel=», MaxWords=16, MinWords=8, ShortWord=0, MaxFragments=1"
ELLIPSIS = " … "


def table(partition: int) -> str:
    return f"portions_tsv_{int(partition)}"


def create_index(db: Conn, partition: int) -> None:
    """The (empty) index table of a partition; an import makes them for the partitions it loads."""
    name = table(partition)
    db.execute(
        f"CREATE TABLE {name} (portion_id bigint PRIMARY KEY REFERENCES portions(id) ON DELETE CASCADE DEFERRABLE,"
        " tsv tsvector NOT NULL)"
    )
    db.execute(f"CREATE INDEX {name}_gin ON {name} USING gin (tsv)")


def partition_of(db: Conn, document_label: str, portion_label: str) -> int:
    """The partition of a (document label, governing label) pair, created on first use."""
    row = db.execute(
        "SELECT id FROM search_partitions WHERE document_label=%s AND portion_label=%s",
        (document_label, portion_label),
    ).fetchone()
    if row is not None:
        return int(row[0])
    # Two writers meeting a new pair at once: the second waits on the UNIQUE
    # index, then finds the first's row (and table) once it commits.
    got = db.execute(
        "INSERT INTO search_partitions(document_label, portion_label) VALUES (%s, %s)"
        " ON CONFLICT (document_label, portion_label) DO NOTHING RETURNING id",
        (document_label, portion_label),
    ).fetchone()
    if got is None:
        return partition_of(db, document_label, portion_label)
    partition = int(got[0])
    create_index(db, partition)
    return partition


def index_portions(db: Conn, document_label: str, rows: Iterable[tuple[int, str | None, str]]) -> None:
    """Add text portions (id, own label or None, text) of one document to their partitions."""
    by_part: dict[int, list[int]] = {}
    found: dict[str, int] = {}
    for pid, own, _text in rows:
        label = own or document_label
        if label not in found:
            found[label] = partition_of(db, document_label, label)
        by_part.setdefault(found[label], []).append(pid)
    for part, pids in by_part.items():
        db.execute(
            f"INSERT INTO {table(part)}(portion_id, tsv)"
            f" SELECT id, to_tsvector('{CONFIG}', text) FROM portions WHERE id = ANY(%s)",
            (pids,),
        )


def rebuild(db: Conn) -> None:
    """Every partition's table made anew from the portions: after an import."""
    parts = [int(r[0]) for r in db.execute("SELECT id FROM search_partitions ORDER BY id").fetchall()]
    for part in parts:
        db.execute(f"DROP TABLE IF EXISTS {table(part)}")
        create_index(db, part)
    rows = db.execute(
        "SELECT p.id, p.label, d.label FROM portions p JOIN documents d ON d.id=p.document_id"
        " WHERE p.kind='text' ORDER BY p.id"
    ).fetchall()
    by_doc_label: dict[str, list[tuple[int, str | None, str]]] = {}
    for pid, own, dlabel in rows:
        by_doc_label.setdefault(str(dlabel or ""), []).append((int(pid), own if own is None else str(own), ""))
    for dlabel, items in by_doc_label.items():
        index_portions(db, dlabel, items)


def partitions(db: Conn) -> list[tuple[int, str, str]]:
    return [
        (int(r[0]), str(r[1]), str(r[2]))
        for r in db.execute("SELECT id, document_label, portion_label FROM search_partitions ORDER BY id")
    ]


def ranked(db: Conn, query: str, parts: Sequence[int]) -> list[tuple[int, float, int]]:
    """(portion id, rank, partition) of every match in the given partitions, best first.

    Lower ranks are better, as with FTS5's bm25(). Ties go to the earlier
    stored portion. Raises ValueError for a query the syntax refuses.
    """
    if not parts:
        return []
    q = translate(query)
    union = " UNION ALL ".join(
        f"SELECT portion_id, -ts_rank(tsv, q.q, 1), {int(part)} FROM {table(part)}, q WHERE tsv @@ q.q"
        for part in parts
    )
    rows = db.execute(f"WITH q AS (SELECT {q.sql} AS q) {union}", q.params).fetchall()
    out = [(int(r[0]), float(r[1]), int(r[2])) for r in rows]
    out.sort(key=lambda r: (r[1], r[0]))
    return out


def snippets(db: Conn, query: str, hits: Sequence[tuple[int, int]]) -> dict[int, str]:
    """Snippets for (portion id, partition) hits: the passage around the matches, matches in « »."""
    if not hits:
        return {}
    q = translate(query)
    pids = [pid for pid, _part in hits]
    rows = db.execute(
        f"WITH q AS (SELECT {q.sql} AS q) SELECT p.id, p.text, ts_headline('{CONFIG}', p.text, q.q, %s)"
        " FROM portions p, q WHERE p.id = ANY(%s)",
        (*q.params, HEADLINE, pids),
    ).fetchall()
    return {int(r[0]): _ellipsis(str(r[1]), str(r[2])) for r in rows}


def _ellipsis(text: str, headline: str) -> str:
    """' … ' where the snippet leaves text out before or after it, as FTS5's snippet() marks it."""
    plain = headline.replace("«", "").replace("»", "")
    if "«" in text or "»" in text or not plain.strip():
        return headline
    core = plain.strip()
    at = text.find(core)
    if at == -1:
        return headline
    before = ELLIPSIS.lstrip() if text[:at].strip() else ""
    after = ELLIPSIS.rstrip() if text[at + len(core) :].strip() else ""
    return f"{before}{headline.strip()}{after}"
