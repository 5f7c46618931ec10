-- Kartoteka schema, version 12: every portion and every mention carries its
-- label partition (see kartoteka/store/partitions.py), the pair (document
-- label, governing portion label) that decides who may see it. A viewer's
-- dossier, timeline, co-mentions and co-occurrence read only the partitions
-- they may see, through the indexes below, so the work they do does not grow
-- with an entity's hidden mentions. Existing portions and mentions are given
-- their partitions by this migration's code step in the store.
CREATE TABLE label_partitions (
    id             INTEGER PRIMARY KEY,
    document_label TEXT NOT NULL,
    portion_label  TEXT NOT NULL,
    UNIQUE (document_label, portion_label)
);
-- label_partitions(id); NULL only until the code step has run.
ALTER TABLE portions ADD COLUMN partition_id INTEGER;
ALTER TABLE mentions ADD COLUMN partition_id INTEGER;
CREATE INDEX portions_partition ON portions(partition_id, document_id);
CREATE INDEX mentions_partition ON mentions(partition_id, entity_id);
