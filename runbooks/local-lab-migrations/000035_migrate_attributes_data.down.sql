-- Down from 35 to 34: the copy's stamps are removed (the rows stay: the legacy table still
-- has every one, and dual-write keeps both). Needs version 35.
DO $$
BEGIN
  IF (SELECT version FROM schema_migrations) IS DISTINCT FROM 35 THEN
    RAISE EXCEPTION 'schema_migrations is at version %, the down migration 35 needs 35',
      (SELECT version FROM schema_migrations);
  END IF;
END $$;
UPDATE unified_attributes SET migrated_at = NULL;
UPDATE schema_migrations SET version = 34, dirty = false;
