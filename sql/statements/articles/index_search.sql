-- Full-text vectors (title weight A, body weight B) for the articles that have none yet:
-- all of them when ids is NULL, else those among ids.
INSERT INTO archive.article_search (article_id, search)
SELECT a.id,
       setweight(to_tsvector('english', coalesce(a.title, '')), 'A') ||
       setweight(to_tsvector('english', coalesce(a.body, '')), 'B')
FROM archive.articles a
WHERE NOT EXISTS (SELECT 1 FROM archive.article_search s WHERE s.article_id = a.id)
  AND (%(ids)s::bigint[] IS NULL OR a.id = ANY(%(ids)s::bigint[]))
ON CONFLICT (article_id) DO NOTHING
