-- Full-text vectors move from a generated column of archive.articles to their own table,
-- filled by the link_versions task right after the batches load (storage.index_search):
-- computing to_tsvector over every body cost the load ~4x its own work (bench/run.py),
-- and a stored generated column is recomputed on every UPDATE of an article row too.
-- analytics.articles keeps its `search` column, now read from this table.
DROP VIEW IF EXISTS analytics.articles CASCADE;  -- re-created by migrate() from sql/views/
ALTER TABLE archive.articles DROP COLUMN search;

CREATE TABLE archive.article_search (
    article_id  bigint PRIMARY KEY REFERENCES archive.articles (id) ON DELETE CASCADE,
    search      tsvector NOT NULL
);
CREATE INDEX article_search_idx ON archive.article_search USING gin (search);
COMMENT ON TABLE archive.article_search IS
    'Full-text vector per article: title (weight A) and body (weight B), English configuration.';
INSERT INTO archive.article_search (article_id, search)
SELECT id, setweight(to_tsvector('english', coalesce(title, '')), 'A') ||
           setweight(to_tsvector('english', coalesce(body, '')), 'B')
FROM archive.articles;
