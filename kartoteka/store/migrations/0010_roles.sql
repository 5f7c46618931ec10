-- Kartoteka schema, version 10: a protected source carries a label.
-- Its handler must be cleared for it: a source is handed over only to a
-- user whose clearance covers the label. Sources registered before this
-- version are human sources, SECRET HUM.
ALTER TABLE sources ADD COLUMN label TEXT NOT NULL DEFAULT 'S:HUM';
