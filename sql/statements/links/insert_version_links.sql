-- A chunk's links, staged by COPY (links/staged_version_links), in the order they were found.
INSERT INTO archive.version_links
    (parent_article_id, child_article_id, relation, scores, diff_summary, aligned_diff, method_version, run_id)
SELECT parent_article_id, child_article_id, relation, scores, diff_summary, aligned_diff, method_version, run_id
FROM pg_temp.staged_version_links
ORDER BY n
ON CONFLICT DO NOTHING
