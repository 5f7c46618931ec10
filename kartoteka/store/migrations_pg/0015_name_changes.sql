-- Kartoteka schema, version 15 (as migrations/0015_name_changes.sql): a log
-- of which person cards changed, kept by triggers, so the name check's index
-- persisted beside the archive is brought up to date by re-reading only
-- those cards. One row per card, its `seq` the clock at its last change.
-- The functions keep the search_path they were created under: the archive's
-- schema, whichever schema the writing connection names first.
CREATE TABLE name_change_clock (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL
);
INSERT INTO name_change_clock VALUES (1, 0);

CREATE TABLE name_changes (
    entity_id TEXT COLLATE "C" PRIMARY KEY,
    seq       BIGINT NOT NULL
);
CREATE INDEX name_changes_seq ON name_changes (seq);

CREATE FUNCTION name_change_note(eid TEXT) RETURNS void LANGUAGE sql SET search_path FROM CURRENT AS $$
    UPDATE name_change_clock SET seq = seq + 1;
    INSERT INTO name_changes (entity_id, seq) SELECT eid, seq FROM name_change_clock
        ON CONFLICT (entity_id) DO UPDATE SET seq = excluded.seq;
$$;

CREATE FUNCTION name_change_mentions() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.entity_id IS NOT NULL AND NEW.kind = 'PERSON' THEN PERFORM name_change_note(NEW.entity_id); END IF;
    ELSIF TG_OP = 'DELETE' THEN
        IF OLD.entity_id IS NOT NULL AND OLD.kind = 'PERSON' THEN PERFORM name_change_note(OLD.entity_id); END IF;
    ELSE
        IF OLD.entity_id IS NOT NULL THEN PERFORM name_change_note(OLD.entity_id); END IF;
        IF NEW.entity_id IS NOT NULL AND NEW.entity_id IS DISTINCT FROM OLD.entity_id THEN
            PERFORM name_change_note(NEW.entity_id);
        END IF;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION name_change_entities() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN PERFORM name_change_note(OLD.id); ELSE PERFORM name_change_note(NEW.id); END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION name_change_aliases() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN PERFORM name_change_note(OLD.entity_id); END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN PERFORM name_change_note(NEW.entity_id); END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER name_change_mention_aid AFTER INSERT OR DELETE ON mentions
    FOR EACH ROW EXECUTE FUNCTION name_change_mentions();
CREATE TRIGGER name_change_mention_au AFTER UPDATE OF entity_id, kind, text ON mentions
    FOR EACH ROW EXECUTE FUNCTION name_change_mentions();
CREATE TRIGGER name_change_entity AFTER INSERT OR DELETE OR UPDATE OF kind, name, origin, merged_into ON entities
    FOR EACH ROW EXECUTE FUNCTION name_change_entities();
CREATE TRIGGER name_change_alias AFTER INSERT OR DELETE OR UPDATE ON entity_names
    FOR EACH ROW EXECUTE FUNCTION name_change_aliases();
