-- Analyst views: stable column names (docs/analysts.md). Applied by `news-archive migrate`
-- when this file changed, with CREATE OR REPLACE VIEW: a view is never dropped from under
-- the analysts' own views that depend on it. Add columns at the end; never rename, retype or
-- drop one (Postgres refuses that in CREATE OR REPLACE). A view that truly must change shape
-- is dropped and re-created by a numbered migration, which says so and names what depends
-- on it (DROP VIEW without CASCADE fails while another view depends on it).

CREATE OR REPLACE VIEW analytics.articles AS
SELECT a.id AS article_id, a.story_id, a.title, a.body, a.published_at, a.published_precision,
       a.source, a.url, a.author, a.language, a.word_count, a.source_format, a.encoding,
       a.ingested_at, a.run_id, r.original_name AS file_name, s.search
FROM archive.articles a
JOIN archive.raw_documents r ON r.id = a.raw_document_id  -- name only, never the bytes
LEFT JOIN archive.article_search s ON s.article_id = a.id;
COMMENT ON VIEW analytics.articles IS 'Every cleaned article; search is the full-text vector (title A, body B).';

-- Versions of a story in order: by publication date when every version has one,
-- else by ingestion (the same rule that gives a version link its direction).
CREATE OR REPLACE VIEW analytics.story_timeline AS
SELECT v.story_id,
       row_number() OVER (PARTITION BY v.story_id
                          ORDER BY CASE WHEN v.all_dated THEN v.published_at END, v.ingested_at, v.article_id)
           AS version_number,
       v.article_id, v.title, v.published_at, v.ingested_at, v.word_count,
       l.parent_article_id, l.relation, l.diff_summary
FROM (SELECT a.*, bool_and(a.published_at IS NOT NULL) OVER (PARTITION BY a.story_id) AS all_dated
      FROM analytics.articles a) v
LEFT JOIN LATERAL (
    SELECT vl.parent_article_id, vl.relation, vl.diff_summary
    FROM archive.version_links vl WHERE vl.child_article_id = v.article_id
    ORDER BY vl.found_at, vl.id LIMIT 1
) l ON true;
COMMENT ON VIEW analytics.story_timeline IS
    'All versions of each story in order, with the relation to (and diff from) a parent version.';

CREATE OR REPLACE VIEW analytics.current_articles AS
SELECT DISTINCT ON (a.story_id)
       a.story_id, a.article_id, a.title, a.body, a.published_at, a.ingested_at, a.source, a.url,
       count(*) OVER (PARTITION BY a.story_id) AS versions, a.search
FROM analytics.articles a
JOIN analytics.story_timeline t ON t.article_id = a.article_id
ORDER BY a.story_id, t.version_number DESC;
COMMENT ON VIEW analytics.current_articles IS 'The latest version of each story (last in analytics.story_timeline).';

CREATE OR REPLACE VIEW analytics.version_links AS
SELECT l.id AS link_id, l.relation, l.parent_article_id, p.title AS parent_title, p.published_at AS parent_published_at,
       l.child_article_id, c.title AS child_title, c.published_at AS child_published_at, p.story_id,
       l.scores, l.diff_summary, l.method_version, l.found_at, l.run_id
FROM archive.version_links l
JOIN archive.articles p ON p.id = l.parent_article_id
JOIN archive.articles c ON c.id = l.child_article_id;
COMMENT ON VIEW analytics.version_links IS 'Each link between two versions, with both titles, scores and diff summary.';

CREATE OR REPLACE VIEW analytics.version_diffs AS
SELECT l.id AS link_id, s.step, s.item ->> 'op' AS op,
       -- a sentence is kept as [start, length] in its article's body (linking.archived_diff);
       -- links made before migration 011 kept its text
       COALESCE(s.item ->> 'parent', substr(p.body, (s.item #>> '{parent_span,0}')::int + 1,
                                                (s.item #>> '{parent_span,1}')::int)) AS parent_sentence,
       COALESCE(s.item ->> 'child', substr(c.body, (s.item #>> '{child_span,0}')::int + 1,
                                               (s.item #>> '{child_span,1}')::int)) AS child_sentence,
       (s.item ->> 'similarity')::numeric AS similarity
FROM archive.version_links l
JOIN archive.articles p ON p.id = l.parent_article_id
JOIN archive.articles c ON c.id = l.child_article_id
CROSS JOIN LATERAL jsonb_array_elements(l.aligned_diff) WITH ORDINALITY AS s(item, step);
COMMENT ON VIEW analytics.version_diffs IS
    'The aligned sentence diff of each link: kept, changed, added, removed; ORDER BY step.';

CREATE OR REPLACE VIEW analytics.quarantine AS
SELECT q.id AS quarantine_id, q.raw_document_id, r.original_name AS file_name, r.size_bytes, q.stage,
       q.reason_codes, q.message, q.failed_expectations, q.parser_version, q.run_id, q.quarantined_at
FROM archive.quarantine q
JOIN archive.raw_documents r ON r.id = q.raw_document_id;
COMMENT ON VIEW analytics.quarantine IS 'Documents held back, with readable reasons (the bytes stay archived).';

CREATE OR REPLACE VIEW analytics.refused_files AS
SELECT run_id, file_name, reason_code, message, refused_at FROM archive.refused_files;
COMMENT ON VIEW analytics.refused_files IS 'Inbox entries never read (symlinks, unreadable files), with reasons.';

CREATE OR REPLACE VIEW analytics.ingest_runs AS
SELECT run_id, dag_id, status, started_at, finished_at, finished_at - started_at AS duration,
       files_seen, files_archived, duplicates, quarantined, loaded, links_made, stage_seconds, error
FROM archive.ingest_runs;
COMMENT ON VIEW analytics.ingest_runs IS 'Run history: one row per ingestion run.';

-- Every file's fate: one row per delivery (a file read from the inbox) and one per
-- inbox entry refused unread. outcome is one of
--   article          the file became the article article_id
--   same_bytes_as    its bytes were already archived (under same_as_file); article_id is what they became
--   same_content_as  other bytes, but the same normalized title and body as article_id
--   quarantined      held back: reason_codes and message say why (the bytes stay archived)
--   refused          never read (a symbolic link, not a regular file, ...): reason_codes and message
--   pending          archived, not yet parsed (a run still under way, or one that died)
CREATE OR REPLACE VIEW analytics.files AS
SELECT d.file_name, d.delivered_at, d.run_id,
       CASE WHEN d.is_duplicate THEN 'same_bytes_as'
            WHEN a.id IS NOT NULL THEN 'article'
            WHEN cd.article_id IS NOT NULL THEN 'same_content_as'
            WHEN q.id IS NOT NULL THEN 'quarantined'
            ELSE 'pending' END AS outcome,
       q.reason_codes, q.message,
       coalesce(a.id, cd.article_id) AS article_id,
       CASE WHEN d.is_duplicate THEN r.original_name
            WHEN cd.article_id IS NOT NULL THEN cr.original_name END AS same_as_file,
       d.raw_document_id, d.id AS delivery_id
FROM archive.deliveries d
JOIN archive.raw_documents r ON r.id = d.raw_document_id
LEFT JOIN archive.articles a ON a.raw_document_id = d.raw_document_id
LEFT JOIN archive.content_duplicates cd ON cd.raw_document_id = d.raw_document_id
LEFT JOIN archive.articles ca ON ca.id = cd.article_id
LEFT JOIN archive.raw_documents cr ON cr.id = ca.raw_document_id
LEFT JOIN archive.quarantine q ON q.raw_document_id = d.raw_document_id
UNION ALL
SELECT f.file_name, f.refused_at, f.run_id, 'refused', ARRAY[f.reason_code], f.message,
       NULL::bigint, NULL::text, NULL::bigint, NULL::bigint
FROM archive.refused_files f;
COMMENT ON VIEW analytics.files IS
    'Every delivered file''s fate: article, same bytes as, same content as, quarantined or refused (with reason), and the article it became or joined.';

GRANT USAGE ON SCHEMA analytics TO news_archive_analyst, news_archive_loader;
GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO news_archive_analyst, news_archive_loader;
