-- Each raw document's outcome: loaded, duplicate (of another's content), quarantined or pending.
SELECT r.id,
       CASE WHEN EXISTS (SELECT 1 FROM archive.articles a WHERE a.raw_document_id = r.id) THEN 'loaded'
            WHEN EXISTS (SELECT 1 FROM archive.content_duplicates d WHERE d.raw_document_id = r.id) THEN 'duplicate'
            WHEN EXISTS (SELECT 1 FROM archive.quarantine q WHERE q.raw_document_id = r.id) THEN 'quarantined'
            ELSE 'pending' END
FROM archive.raw_documents r WHERE r.id = ANY(%s)
