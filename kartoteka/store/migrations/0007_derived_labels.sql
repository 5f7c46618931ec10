-- Kartoteka schema, version 7: what a derived fact was derived from.
-- A relation's own passage is not always all it rests on: "I" in an
-- interview answer is the interviewee named in another paragraph. `support`
-- lists those other portions (comma-separated ids); the relation is shown
-- only to a viewer who may see its passage and every supporting one.
ALTER TABLE relations ADD COLUMN support TEXT NOT NULL DEFAULT '';
-- Claims derived from relations carry their relation's support; a claim
-- made by hand carries a label (NULL: unclassified, as before).
ALTER TABLE claims ADD COLUMN support TEXT NOT NULL DEFAULT '';
ALTER TABLE claims ADD COLUMN label TEXT;
-- An analyst's alias is a fact too, labelled as its author chose.
ALTER TABLE entity_names ADD COLUMN label TEXT;
-- Relations and derived claims stored before this version may rest on a
-- hidden speaker without saying so: read every document again, fail closed.
DELETE FROM claims WHERE origin = 'derived';
DELETE FROM relations;
UPDATE documents SET relations = NULL;
-- Full-text search by label partition (see kartoteka/store/search.py): one
-- FTS5 table per (document label, governing portion label), created as
-- portions arrive; a viewer's query runs only where they may see it all.
-- Existing portions are indexed into their partitions by this migration's
-- code step in the store.
CREATE TABLE search_partitions (
    id             INTEGER PRIMARY KEY,
    document_label TEXT NOT NULL,
    portion_label  TEXT NOT NULL,
    UNIQUE (document_label, portion_label)
);
