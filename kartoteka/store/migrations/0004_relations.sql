-- Kartoteka schema, version 4: typed relations extracted from text.
-- A relation's evidence is one sentence of one portion; it is visible to
-- whoever may see that portion.
CREATE TABLE relations (
    id          INTEGER PRIMARY KEY,
    type        TEXT NOT NULL,
    subject_id  TEXT NOT NULL REFERENCES entities(id),
    object_id   TEXT NOT NULL REFERENCES entities(id),
    document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    portion_id  INTEGER NOT NULL REFERENCES portions(id) ON DELETE CASCADE,
    start       INTEGER NOT NULL,
    "end"       INTEGER NOT NULL,
    trigger     TEXT NOT NULL,
    confidence  REAL NOT NULL,
    date_start  TEXT,
    date_end    TEXT,
    UNIQUE (type, subject_id, object_id, portion_id, start)
);
CREATE INDEX relations_subject ON relations(subject_id);
CREATE INDEX relations_object ON relations(object_id);
-- Which relation extractor has read each document (NULL: none yet).
ALTER TABLE documents ADD COLUMN relations TEXT;
