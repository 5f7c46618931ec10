"""SQL texts both backends run, written once; a backend passes its placeholder.

The name index is built from `person_names` (every live person) and brought up
to date from the same query limited to the cards the change log names
(`name_changes`, schema 15), so a card re-read after a change is exactly the
card a rebuild would read.
"""

from __future__ import annotations


def person_names(only: str = "") -> str:
    """(entity id, name, person-mention count) of live persons; `only` is a
    condition on the entity's id `e.id` (e.g. "e.id IN (?,?)"), empty for all.
    It stands twice in the text: bind its parameters twice."""
    live = "e.kind='PERSON' AND e.merged_into IS NULL" + (f" AND {only}" if only else "")
    counted = "m.kind='PERSON'" + (f" AND m.entity_id IN (SELECT e.id FROM entities e WHERE {live})" if only else "")
    return (
        f"WITH counts AS (SELECT m.entity_id, count(*) AS n FROM mentions m WHERE {counted} GROUP BY m.entity_id),"
        # An extracted card whose every mention turned out to be boilerplate is no card.
        f" live AS (SELECT e.id, e.name FROM entities e WHERE {live}"
        " AND (e.origin != 'extracted' OR EXISTS (SELECT 1 FROM mentions m WHERE m.entity_id=e.id)))"
        " SELECT l.id, l.name, coalesce(c.n, 0) FROM live l LEFT JOIN counts c ON c.entity_id=l.id"
        " UNION SELECT l.id, n.name, coalesce(c.n, 0) FROM live l JOIN entity_names n ON n.entity_id=l.id"
        " LEFT JOIN counts c ON c.entity_id=l.id"
        # SQLite's UNION hands its rows back sorted; PostgreSQL is told to.
        " ORDER BY 1, 2, 3"
    )


NAME_CHANGE_SEQ = "SELECT seq FROM name_change_clock"


def name_changes_since(placeholder: str) -> str:
    return f"SELECT entity_id FROM name_changes WHERE seq > {placeholder} ORDER BY entity_id"


def person_name_sources(only: str) -> str:
    """(entity id, name, document label, governing portion label) of every name a
    person card has from a source with a label: each person mention (labelled by
    its passage), each imported record's and analyst's name (its own label, the
    document label NULL). `only` is a condition on `entity_id`; bind it twice."""
    return (
        "SELECT m.entity_id, m.text, d.label, coalesce(p.label, d.label) FROM mentions m"
        " JOIN portions p ON p.id=m.portion_id JOIN documents d ON d.id=p.document_id"
        f" WHERE m.kind='PERSON' AND m.{only}"
        " UNION ALL SELECT n.entity_id, n.name, NULL, coalesce(n.label, 'U') FROM entity_names n"
        f" WHERE n.source IN ('import', 'analyst') AND n.{only}"
    )


def marked_relations(placeholder: str) -> str:
    """(type, subject, object, document id, portion id, start, end, support, modality, source) of
    every relation naming an entity that its sentence does not assert (a question, a hypothetical,
    speculation, a reported claim), merged cards followed, in stored order. Bind the id twice."""
    return (
        "SELECT r.type, coalesce(ms.merged_into, r.subject_id), coalesce(mo.merged_into, r.object_id),"
        ' r.document_id, r.portion_id, r.start, r."end", r.support, r.modality, d.source'
        " FROM relations r JOIN documents d ON d.id=r.document_id"
        " JOIN entities ms ON ms.id=r.subject_id JOIN entities mo ON mo.id=r.object_id"
        " WHERE r.modality <> 'asserted'"
        f" AND (coalesce(ms.merged_into, r.subject_id) = {placeholder}"
        f" OR coalesce(mo.merged_into, r.object_id) = {placeholder}) ORDER BY r.id"
    )
