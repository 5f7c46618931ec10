-- Kartoteka schema, version 2: labels, users, audit log.
-- Archives made before labels existed hold unlabelled material: it becomes
-- UNCLASSIFIED, which is what every user of such an archive could already read.
ALTER TABLE documents ADD COLUMN label TEXT NOT NULL DEFAULT 'U';
-- NULL: the portion inherits its document's label.
ALTER TABLE portions ADD COLUMN label TEXT;

CREATE TABLE users (
    name          TEXT PRIMARY KEY,
    clearance     TEXT NOT NULL,
    tokens        TEXT NOT NULL DEFAULT '',
    password_hash TEXT,
    created_at    TEXT NOT NULL
);

-- A hash chain: leaf = SHA-256(0x00 || entry), head = SHA-256(0x01 || previous head || leaf)
-- (RFC 6962 prefixes). Entries hold identifiers and keyed hashes, never text.
CREATE TABLE audit (
    seq     INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subjects TEXT NOT NULL,
    detail  TEXT NOT NULL,
    head    TEXT NOT NULL
);
