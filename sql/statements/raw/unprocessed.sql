-- Raw documents with no outcome yet: no article, no quarantine row, no content duplicate.
SELECT r.id FROM archive.raw_documents r WHERE r.id = ANY(%s)
  AND NOT EXISTS (SELECT 1 FROM archive.articles a WHERE a.raw_document_id = r.id)
  AND NOT EXISTS (SELECT 1 FROM archive.quarantine q WHERE q.raw_document_id = r.id)
  AND NOT EXISTS (SELECT 1 FROM archive.content_duplicates d WHERE d.raw_document_id = r.id)
ORDER BY r.id
