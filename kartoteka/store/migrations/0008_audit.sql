-- Kartoteka schema, version 8: the audit trail leaves the archive.
-- Reads are audited in ARCHIVE.audit.sqlite (store/trail.py), so a read takes
-- no write lock on the archive. A write's entry goes first into this outbox,
-- in the write's own transaction (so a stored document always has its entry,
-- whatever interrupts the process), and is chained into the trail right after
-- the commit, or at the next open. AUTOINCREMENT: an id is never reused, which
-- is what makes chaining idempotent (the trail remembers the last id chained).
CREATE TABLE audit_outbox (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       TEXT NOT NULL,
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    subjects TEXT NOT NULL,
    detail   TEXT NOT NULL
);
-- The old `audit` table keeps the entries of archives made before version 8
-- until they are copied into the trail on first open, then it stays empty.
