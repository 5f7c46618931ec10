-- Kartoteka schema, version 16 (as migrations/0016_source_namesakes.sql):
-- a cryptonym is unique only among the sources a registrar may see, so a
-- source is named by an id of its own; the rows kept from before take
-- their cryptonym as their id, which their sealed true names are bound to.
ALTER TABLE sources ADD COLUMN id text COLLATE "C";
UPDATE sources SET id = cryptonym;
ALTER TABLE sources ALTER COLUMN id SET NOT NULL;
ALTER TABLE sources DROP CONSTRAINT sources_pkey;
ALTER TABLE sources ADD PRIMARY KEY (id);
CREATE INDEX sources_cryptonym ON sources (cryptonym);
