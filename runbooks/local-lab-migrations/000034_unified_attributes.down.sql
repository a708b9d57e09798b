-- Down from 34 to 33: the schema change is undone. Needs version 34.
DO $$
BEGIN
  IF (SELECT version FROM schema_migrations) IS DISTINCT FROM 34 THEN
    RAISE EXCEPTION 'schema_migrations is at version %, the down migration 34 needs 34',
      (SELECT version FROM schema_migrations);
  END IF;
END $$;
ALTER TABLE unified_attributes DROP COLUMN migrated_at;
UPDATE schema_migrations SET version = 33, dirty = false;
