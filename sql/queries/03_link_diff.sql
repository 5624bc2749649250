-- The aligned, sentence-by-sentence diff of the most recent version link.
SELECT d.step, d.op, d.similarity, d.parent_sentence, d.child_sentence
FROM analytics.version_diffs d
WHERE d.link_id = (SELECT max(link_id) FROM analytics.version_links)
ORDER BY d.step;
