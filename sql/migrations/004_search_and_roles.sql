-- Full-text search, a trigram index on titles where pg_trgm exists, and the two roles.
--
-- Roles are created without passwords and without LOGIN: an administrator grants them
-- to login roles (GRANT news_archive_analyst TO alice), so no secret lives in the repository.

ALTER TABLE archive.articles
    ADD COLUMN search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', coalesce(title, '')), 'A') ||
        setweight(to_tsvector('english', coalesce(body, '')), 'B')
    ) STORED;
CREATE INDEX articles_search_idx ON archive.articles USING gin (search);
COMMENT ON COLUMN archive.articles.search IS 'Title (weight A) and body (weight B), English configuration.';

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
        CREATE INDEX articles_title_trgm_idx ON archive.articles USING gin (title gin_trgm_ops);
    ELSE
        RAISE NOTICE 'pg_trgm is not installed on this server: no trigram index on titles';
    END IF;
END $$;

-- Roles belong to the whole server: another database's migration may create them at
-- the same moment, so a duplicate is not an error.
DO $$
BEGIN
    CREATE ROLE news_archive_analyst NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
DO $$
BEGIN
    CREATE ROLE news_archive_loader NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;

-- The loader (the pipeline's role): reads and writes the archive tables; raw documents
-- stay append-only through their trigger whoever writes.
GRANT USAGE ON SCHEMA archive TO news_archive_loader;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA archive TO news_archive_loader;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA archive TO news_archive_loader;
ALTER DEFAULT PRIVILEGES IN SCHEMA archive GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO news_archive_loader;
ALTER DEFAULT PRIVILEGES IN SCHEMA archive GRANT USAGE, SELECT ON SEQUENCES TO news_archive_loader;

-- The analyst: nothing in schema archive (so never the raw bytes); SELECT on the
-- analytics views, granted in sql/views/analytics.sql.
REVOKE ALL ON SCHEMA archive FROM news_archive_analyst;
CREATE SCHEMA IF NOT EXISTS analytics;
COMMENT ON SCHEMA analytics IS 'Stable, documented views for analysts (docs/analysts.md).';
