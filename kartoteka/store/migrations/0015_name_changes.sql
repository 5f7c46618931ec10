-- Kartoteka schema, version 15: a log of which person cards changed, so the
-- name check's index persisted beside the archive (issue "Name check on
-- real-world name forms", cold start) is brought up to date by re-reading
-- only those cards, not rebuilt. Triggers, not the writers, keep it: every
-- path that changes a card's names or mention count (ingest, merge, split,
-- alias, import, boilerplate masking, a deleted document's cascade) is one
-- of these statements. One row per card, its `seq` the clock at its last
-- change; the clock only rises. A card is noted by inserting its id into the
-- view `name_change_note`, whose INSTEAD OF trigger does the noting once for
-- every table's triggers (PostgreSQL's migration has a function for it).
CREATE TABLE name_change_clock (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);
INSERT INTO name_change_clock VALUES (1, 0);

CREATE TABLE name_changes (
    entity_id TEXT PRIMARY KEY,
    seq       INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX name_changes_seq ON name_changes(seq);

CREATE VIEW name_change_note(entity_id) AS SELECT entity_id FROM name_changes WHERE 0;

CREATE TRIGGER name_change_note_ii INSTEAD OF INSERT ON name_change_note
WHEN new.entity_id IS NOT NULL BEGIN
    UPDATE name_change_clock SET seq = seq + 1;
    INSERT INTO name_changes(entity_id, seq) SELECT new.entity_id, seq FROM name_change_clock WHERE true
        ON CONFLICT(entity_id) DO UPDATE SET seq = excluded.seq;
END;

CREATE TRIGGER name_change_mention_ai AFTER INSERT ON mentions WHEN new.kind = 'PERSON' BEGIN
    INSERT INTO name_change_note VALUES (new.entity_id);
END;

CREATE TRIGGER name_change_mention_ad AFTER DELETE ON mentions WHEN old.kind = 'PERSON' BEGIN
    INSERT INTO name_change_note VALUES (old.entity_id);
END;

CREATE TRIGGER name_change_mention_au AFTER UPDATE OF entity_id, kind, text ON mentions BEGIN
    INSERT INTO name_change_note SELECT old.entity_id UNION SELECT new.entity_id;
END;

CREATE TRIGGER name_change_entity_ai AFTER INSERT ON entities BEGIN
    INSERT INTO name_change_note VALUES (new.id);
END;

CREATE TRIGGER name_change_entity_au AFTER UPDATE OF kind, name, origin, merged_into ON entities BEGIN
    INSERT INTO name_change_note VALUES (new.id);
END;

CREATE TRIGGER name_change_entity_ad AFTER DELETE ON entities BEGIN
    INSERT INTO name_change_note VALUES (old.id);
END;

CREATE TRIGGER name_change_alias_ai AFTER INSERT ON entity_names BEGIN
    INSERT INTO name_change_note VALUES (new.entity_id);
END;

CREATE TRIGGER name_change_alias_ad AFTER DELETE ON entity_names BEGIN
    INSERT INTO name_change_note VALUES (old.entity_id);
END;

CREATE TRIGGER name_change_alias_au AFTER UPDATE ON entity_names BEGIN
    INSERT INTO name_change_note SELECT old.entity_id UNION SELECT new.entity_id;
END;
