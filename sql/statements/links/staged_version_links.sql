-- Where a chunk's links are COPYed before they are inserted (links/insert_version_links):
-- COPY parses their JSON columns several times faster than an INSERT ... VALUES list of
-- literals, which COPY cannot do with ON CONFLICT. One per session, emptied at each commit.
CREATE TEMP TABLE IF NOT EXISTS staged_version_links (
    n                 int NOT NULL,  -- the order the linker found them in: their ids follow it
    parent_article_id bigint NOT NULL,
    child_article_id  bigint NOT NULL,
    relation          text NOT NULL,
    scores            jsonb NOT NULL,
    diff_summary      jsonb NOT NULL,
    aligned_diff      jsonb NOT NULL,
    method_version    text NOT NULL,
    run_id            text
) ON COMMIT DELETE ROWS
