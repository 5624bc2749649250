-- The sentence-by-sentence diff of each link, in the child's order
-- (see news_archive.linking.aligned_diff); shown by analytics.version_diffs.
ALTER TABLE archive.version_links
    ADD COLUMN aligned_diff jsonb NOT NULL DEFAULT '[]'::jsonb;
COMMENT ON COLUMN archive.version_links.aligned_diff IS
    'Steps {op: kept|changed|added|removed, parent, child, similarity} in the child''s order.';
