-- The lab's migration 35 (data): copies every legacy attribute the unified table lacks and
-- stamps the copied rows; records version 35. Needs version 34.
DO $$
BEGIN
  IF (SELECT version FROM schema_migrations) IS DISTINCT FROM 34 THEN
    RAISE EXCEPTION 'schema_migrations is at version %, migration 35 needs 34',
      (SELECT version FROM schema_migrations);
  END IF;
END $$;
INSERT INTO unified_attributes (id, name)
  SELECT id, name FROM legacy_attributes ON CONFLICT (id) DO NOTHING;
UPDATE unified_attributes SET migrated_at = now() WHERE migrated_at IS NULL;
UPDATE schema_migrations SET version = 35, dirty = false;
