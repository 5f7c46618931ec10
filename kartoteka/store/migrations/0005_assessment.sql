-- Kartoteka schema, version 5: Admiralty grades and claims.
ALTER TABLE documents ADD COLUMN reliability TEXT;   -- A..F
ALTER TABLE documents ADD COLUMN credibility INTEGER; -- 1..6
ALTER TABLE documents ADD COLUMN reported_by TEXT;   -- who reported it: a cryptonym, an author

-- A claim: something a source says about an entity, graded. Derived claims
-- come from relations and cite their passage; hand-made ones may cite a
-- document or nothing (then they are unclassified).
CREATE TABLE claims (
    id           INTEGER PRIMARY KEY,
    subject_id   TEXT NOT NULL REFERENCES entities(id),
    statement    TEXT NOT NULL,
    relation     TEXT,             -- a relation type, for derived claims
    object_id    TEXT REFERENCES entities(id),
    source       TEXT NOT NULL,    -- independent means a different source, not another document
    reliability  TEXT NOT NULL,
    credibility  INTEGER NOT NULL,
    document_id  TEXT REFERENCES documents(id) ON DELETE CASCADE,
    portion_id   INTEGER REFERENCES portions(id) ON DELETE CASCADE,
    origin       TEXT NOT NULL,    -- analyst | derived
    created_at   TEXT NOT NULL,
    UNIQUE (subject_id, statement, source, document_id, portion_id)
);
CREATE INDEX claims_subject ON claims(subject_id);
