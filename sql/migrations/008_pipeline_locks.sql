-- Locks only the pipeline can take. Advisory locks (pg_advisory_lock) can be taken by any
-- role with a connection, the read-only analyst included, and one analyst session holding
-- a pipeline key stalled every run. A row lock (SELECT ... FOR UPDATE) needs UPDATE on the
-- row's table, and only the loader (and the owner) has privileges in schema archive.
CREATE TABLE archive.pipeline_locks (
    name        text PRIMARY KEY,
    description text NOT NULL
);
INSERT INTO archive.pipeline_locks (name, description) VALUES
    ('migration', 'one migrator at a time'),
    ('archive', 'one batch inserting raw documents at a time'),
    ('load', 'one batch inserting articles at a time'),
    ('link', 'one linker at a time (a chunk of articles)');
REVOKE ALL ON archive.pipeline_locks FROM PUBLIC;
GRANT SELECT, UPDATE ON archive.pipeline_locks TO news_archive_loader;
COMMENT ON TABLE archive.pipeline_locks IS
    'Rows the pipeline locks (FOR UPDATE) to take turns; no other role can lock them.';

-- The analytics views are re-created only when their definition changed (a run does no DDL
-- otherwise: an analyst's open transaction on a view would hold it up).
CREATE TABLE archive.view_versions (
    name       text PRIMARY KEY,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON archive.view_versions FROM PUBLIC;
