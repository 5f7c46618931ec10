-- Kartoteka schema, version 11: learned boilerplate counted per partition,
-- and several labelled rows for one name of a card.
--
-- A line learned as boilerplate is counted per (document label, governing
-- portion label): the partition a viewer sees whole or not at all. Counted
-- by the portion's label only, a (U) line inside a SECRET document counted
-- towards U boilerplate, and a U reader saw lines flagged because of a
-- document they cannot read. The sightings keep their document, so the
-- counts are rebuilt exactly.
CREATE TABLE boilerplate_sightings_v11 (
    key            INTEGER NOT NULL,
    document_label TEXT NOT NULL,
    label          TEXT NOT NULL,
    document_id    TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    PRIMARY KEY (key, document_label, label, document_id)
) WITHOUT ROWID;
INSERT INTO boilerplate_sightings_v11(key, document_label, label, document_id)
    SELECT s.key, d.label, s.label, s.document_id
    FROM boilerplate_sightings s JOIN documents d ON d.id = s.document_id;
DROP TABLE boilerplate_sightings;
ALTER TABLE boilerplate_sightings_v11 RENAME TO boilerplate_sightings;
DROP TABLE boilerplate_lines;
CREATE TABLE boilerplate_lines (
    key            INTEGER NOT NULL,
    document_label TEXT NOT NULL,
    label          TEXT NOT NULL,
    docs           INTEGER NOT NULL,
    PRIMARY KEY (key, document_label, label)
) WITHOUT ROWID;
INSERT INTO boilerplate_lines(key, document_label, label, docs)
    SELECT key, document_label, label, count(*) FROM boilerplate_sightings GROUP BY key, document_label, label;

-- A card's names: one row per (name, source, label). With one row per name,
-- an alias given under U was swallowed by the same name already given under
-- a label the giver cannot see, and whether it showed depended on that
-- hidden row. A mention's name (label NULL) and a given name now coexist too.
CREATE TABLE entity_names_v11 (
    entity_id TEXT NOT NULL REFERENCES entities(id),
    name      TEXT NOT NULL,
    source    TEXT NOT NULL,
    label     TEXT
);
INSERT INTO entity_names_v11(entity_id, name, source, label)
    SELECT entity_id, name, source, label FROM entity_names;
DROP TABLE entity_names;
ALTER TABLE entity_names_v11 RENAME TO entity_names;
CREATE UNIQUE INDEX entity_names_row ON entity_names(entity_id, name, source, coalesce(label, ''));
