-- Every version of the stories that have more than one, in order, with how each relates to its parent.
SELECT t.story_id, t.version_number, t.article_id, t.title, t.published_at, t.relation,
       t.diff_summary ->> 'added' AS sentences_added, t.diff_summary ->> 'removed' AS sentences_removed
FROM analytics.story_timeline t
WHERE t.story_id IN (SELECT story_id FROM analytics.current_articles WHERE versions > 1)
ORDER BY t.story_id, t.version_number;
