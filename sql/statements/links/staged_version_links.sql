-- Where a chunk's links are COPYed before they are inserted (links/insert_version_links):
-- COPY parses their JSON columns several times faster than an INSERT ... VALUES list of
-- literals, which COPY cannot do with ON CONFLICT. One per session, emptied at each commit.
-- Its columns are archive.version_links' own, with their compression (lz4 where the server
-- has it, migration 012): staged with pglz, each long diff was compressed twice as slowly.
CREATE TEMP TABLE IF NOT EXISTS staged_version_links (
    n int NOT NULL,  -- the order the linker found them in: their ids follow it
    LIKE archive.version_links INCLUDING COMPRESSION
) ON COMMIT DELETE ROWS;
ALTER TABLE staged_version_links DROP COLUMN id, DROP COLUMN found_at
