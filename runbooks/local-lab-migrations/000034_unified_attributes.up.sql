-- The lab's migration 34 (schema), run by the lab runbooks' phase 2 with psql in one
-- transaction: it refuses to run on any version but 33, changes the schema, and records
-- version 34 in golang-migrate's table, as `migrate up 1` would.
DO $$
BEGIN
  IF (SELECT version FROM schema_migrations) IS DISTINCT FROM 33 THEN
    RAISE EXCEPTION 'schema_migrations is at version %, migration 34 needs 33',
      (SELECT version FROM schema_migrations);
  END IF;
END $$;
ALTER TABLE unified_attributes ADD COLUMN migrated_at timestamptz;
UPDATE schema_migrations SET version = 34, dirty = false;
