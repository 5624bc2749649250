-- Ranked full-text search over titles (weight A) and bodies (weight B), latest version per story.
-- Replace the search words; websearch syntax: "exact phrase", -excluded, or.
SELECT story_id, article_id, title, published_at,
       ts_rank(search, q) AS rank,
       ts_headline('english', body, q, 'MaxFragments=1, MaxWords=25, MinWords=10') AS snippet
FROM analytics.current_articles, websearch_to_tsquery('english', 'russian diplomats leave') AS q
WHERE search @@ q
ORDER BY rank DESC
LIMIT 20;
