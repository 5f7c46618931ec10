-- Kartoteka schema, version 1.
CREATE TABLE documents (
    id            TEXT PRIMARY KEY,
    content_hash  TEXT NOT NULL UNIQUE,
    source        TEXT NOT NULL,
    format        TEXT NOT NULL,
    title         TEXT,
    classification TEXT,
    char_count    INTEGER NOT NULL,
    pipeline      TEXT NOT NULL,
    ingested_at   TEXT NOT NULL
);

CREATE TABLE portions (
    id          INTEGER PRIMARY KEY,
    document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    start       INTEGER NOT NULL,
    "end"       INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    mark        TEXT,
    level       TEXT,
    tokens      TEXT,
    text        TEXT NOT NULL,
    UNIQUE (document_id, seq)
);

CREATE VIRTUAL TABLE portions_fts USING fts5(
    text, content='portions', content_rowid='id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER portions_ai AFTER INSERT ON portions WHEN new.kind = 'text' BEGIN
    INSERT INTO portions_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER portions_ad AFTER DELETE ON portions WHEN old.kind = 'text' BEGIN
    INSERT INTO portions_fts(portions_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;

CREATE TABLE markings (
    id          INTEGER PRIMARY KEY,
    document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    portion_id  INTEGER REFERENCES portions(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    value       TEXT NOT NULL,
    start       INTEGER NOT NULL,
    "end"       INTEGER NOT NULL
);
CREATE INDEX markings_document ON markings(document_id);

CREATE TABLE entities (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL,
    origin      TEXT NOT NULL,
    merged_into TEXT REFERENCES entities(id),
    created_at  TEXT NOT NULL
);

CREATE TABLE entity_names (
    entity_id TEXT NOT NULL REFERENCES entities(id),
    name      TEXT NOT NULL,
    source    TEXT NOT NULL,
    PRIMARY KEY (entity_id, name)
) WITHOUT ROWID;

CREATE TABLE name_keys (
    key       TEXT NOT NULL,
    entity_id TEXT NOT NULL REFERENCES entities(id),
    PRIMARY KEY (key, entity_id)
) WITHOUT ROWID;
CREATE INDEX name_keys_entity ON name_keys(entity_id);

CREATE TABLE mentions (
    id          INTEGER PRIMARY KEY,
    document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    portion_id  INTEGER NOT NULL REFERENCES portions(id) ON DELETE CASCADE,
    start       INTEGER NOT NULL,
    "end"       INTEGER NOT NULL,
    text        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    entity_id   TEXT REFERENCES entities(id),
    pinned      INTEGER NOT NULL DEFAULT 0,
    UNIQUE (document_id, start, "end")
);
CREATE INDEX mentions_entity ON mentions(entity_id);
CREATE INDEX mentions_portion ON mentions(portion_id);

CREATE TABLE dates (
    id          INTEGER PRIMARY KEY,
    document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    portion_id  INTEGER NOT NULL REFERENCES portions(id) ON DELETE CASCADE,
    start       INTEGER NOT NULL,
    "end"       INTEGER NOT NULL,
    text        TEXT NOT NULL,
    value       TEXT
);
CREATE INDEX dates_portion ON dates(portion_id);

-- Analyst corrections to the card index, in order. Kept so that they can be
-- reviewed and so that re-ingest never undoes them.
CREATE TABLE corrections (
    id      INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,
    op      TEXT NOT NULL,
    payload TEXT NOT NULL
);

-- Pairs an analyst split apart: resolution never joins them again.
CREATE TABLE distinct_entities (
    a TEXT NOT NULL,
    b TEXT NOT NULL,
    PRIMARY KEY (a, b)
) WITHOUT ROWID;
