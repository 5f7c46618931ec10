-- Kartoteka schema, version 6: pages, OCR confidence, boilerplate, encodings.

-- The archive's own secret. Document and entity ids are keyed with it, so an
-- id is never a function of content alone: a release copy's document id can
-- not be checked against a guessed text, nor an entity id against a guessed
-- first mention. Each archive draws its own when it is created or migrated.
CREATE TABLE archive_secret (secret BLOB NOT NULL);
INSERT INTO archive_secret(secret) VALUES (randomblob(32));
-- A portion's page (of its first line), the mean OCR word confidence of its
-- words (NULL for born-digital text) and whether it is boilerplate only.
ALTER TABLE portions ADD COLUMN page INTEGER;
ALTER TABLE portions ADD COLUMN ocr_confidence REAL;
ALTER TABLE portions ADD COLUMN boilerplate INTEGER NOT NULL DEFAULT 0;

-- How the bytes of a document were decoded, and how many were replaced.
ALTER TABLE documents ADD COLUMN encoding TEXT;
ALTER TABLE documents ADD COLUMN replaced INTEGER NOT NULL DEFAULT 0;
-- enforce: banners and portion marks became labels; record: kept as history
-- only (a collection that was already released).
ALTER TABLE documents ADD COLUMN markings TEXT NOT NULL DEFAULT 'enforce';

-- Pages: their spans in the text, how their text was obtained (text layer
-- or OCR) and the OCR's mean word confidence.
CREATE TABLE document_pages (
    document_id    TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    page           INTEGER NOT NULL,
    start          INTEGER NOT NULL,
    "end"          INTEGER NOT NULL,
    method         TEXT NOT NULL,   -- text | ocr
    ocr_confidence REAL,
    PRIMARY KEY (document_id, page)
) WITHOUT ROWID;

-- Lines learned as boilerplate: how many documents carry a line (letters
-- only, case folded, hashed), counted per label so that whether a line is
-- boilerplate is decided only from portions of the very same label.
CREATE TABLE boilerplate_lines (
    key    INTEGER NOT NULL,
    label  TEXT NOT NULL,
    docs   INTEGER NOT NULL,
    PRIMARY KEY (key, label)
) WITHOUT ROWID;
-- Where each candidate line was seen, so that once it is learned the
-- documents read before can be corrected. Rows of a learned line are kept:
-- a document read later is found by its own count lookup.
CREATE TABLE boilerplate_sightings (
    key         INTEGER NOT NULL,
    label       TEXT NOT NULL,
    document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    PRIMARY KEY (key, label, document_id)
) WITHOUT ROWID;
