-- Kartoteka schema, version 13: a claim derived from a passage carries that
-- passage's label partition, so the facts of a viewer's dossier are read
-- from the partitions they may see, through the indexes below, and the work
-- does not grow with hidden claims. Claims made by hand (no passage) have
-- none and are read by their own label, as before.
ALTER TABLE claims ADD COLUMN partition_id INTEGER;
UPDATE claims SET partition_id = (SELECT p.partition_id FROM portions p WHERE p.id = claims.portion_id)
    WHERE portion_id IS NOT NULL;
CREATE INDEX claims_partition_subject ON claims(partition_id, subject_id);
CREATE INDEX claims_partition_object ON claims(partition_id, object_id);
