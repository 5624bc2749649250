INSERT INTO archive.version_links
    (parent_article_id, child_article_id, relation, scores, diff_summary, aligned_diff, method_version, run_id)
VALUES %s ON CONFLICT DO NOTHING RETURNING id
