-- Kartoteka schema, version 3: protected sources.
-- The true name is sealed (XSalsa20-Poly1305 under a key kept beside the
-- archive, not in it): the archive file never holds it in the clear, so no
-- index, search, export or audit entry can reach it.
CREATE TABLE sources (
    cryptonym  TEXT PRIMARY KEY,
    sealed     BLOB NOT NULL,
    handler    TEXT NOT NULL REFERENCES users(name),
    created_at TEXT NOT NULL
);
