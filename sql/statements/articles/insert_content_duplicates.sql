-- Documents whose content (title and body) is already archived as an article: one row
-- each, pointing at that article. Two arrays in, one statement for the whole batch.
INSERT INTO archive.content_duplicates (raw_document_id, article_id, run_id)
SELECT d.raw_document_id, d.article_id, %(run_id)s
FROM unnest(%(raw_document_ids)s::bigint[], %(article_ids)s::bigint[]) AS d (raw_document_id, article_id)
ON CONFLICT (raw_document_id) DO NOTHING RETURNING raw_document_id
