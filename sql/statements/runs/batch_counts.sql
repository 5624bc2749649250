-- What a run did with one batch's files (raw id, file name), read from the archive.
-- A file counts as archived when its delivery is the run's first delivery of those bytes;
-- articles, quarantine rows and content duplicates count when the run made them from those files.
WITH batch AS (SELECT * FROM unnest(%(raw_ids)s::bigint[], %(file_names)s::text[]) AS b(raw_id, file_name)),
     firsts AS (SELECT DISTINCT b.raw_id FROM batch b JOIN archive.deliveries d
                ON d.raw_document_id = b.raw_id AND d.file_name = b.file_name
                WHERE d.run_id = %(run_id)s AND NOT d.is_duplicate)
SELECT (SELECT count(*) FROM firsts) AS files_archived,
       (SELECT count(*) FROM archive.content_duplicates c JOIN firsts f ON f.raw_id = c.raw_document_id
        WHERE c.run_id = %(run_id)s) AS content_duplicates,
       (SELECT count(*) FROM archive.quarantine q JOIN firsts f ON f.raw_id = q.raw_document_id
        WHERE q.run_id = %(run_id)s) AS quarantined,
       (SELECT count(*) FROM archive.articles a JOIN firsts f ON f.raw_id = a.raw_document_id
        WHERE a.run_id = %(run_id)s) AS loaded
