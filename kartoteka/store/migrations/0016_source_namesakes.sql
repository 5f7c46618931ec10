-- Kartoteka schema, version 16: sources that share a cryptonym (issue 10,
-- "Compartments hardening"). A registrar refused a cryptonym because a
-- source above them held it learnt that the source exists; so a cryptonym
-- is unique only among the sources a registrar may see, and a source is
-- named by an id of its own. The rows kept from before take their cryptonym
-- as their id (unique until now), which is also what their sealed true names
-- are bound to (access/sources.py binds a seal to the source's id).
-- SQLite cannot drop a primary key in place: the table is rebuilt.
-- The id is the last column, as PostgreSQL's ALTER TABLE puts it: an export
-- writes a table's columns in their order, the same bytes from both backends.
CREATE TABLE sources_v16 (
    cryptonym  TEXT NOT NULL,
    sealed     BLOB NOT NULL,
    handler    TEXT NOT NULL REFERENCES users(name),
    created_at TEXT NOT NULL,
    label      TEXT NOT NULL DEFAULT 'S:HUM',
    id         TEXT NOT NULL PRIMARY KEY
);
INSERT INTO sources_v16(cryptonym, sealed, handler, created_at, label, id)
    SELECT cryptonym, sealed, handler, created_at, label, cryptonym FROM sources ORDER BY rowid;
DROP TABLE sources;
ALTER TABLE sources_v16 RENAME TO sources;
CREATE INDEX sources_cryptonym ON sources(cryptonym);
