INSERT INTO archive.content_duplicates (raw_document_id, article_id, run_id) VALUES %s
ON CONFLICT (raw_document_id) DO NOTHING RETURNING raw_document_id
