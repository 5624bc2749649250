-- Raw bytes, once per sha256; concurrent runs archiving the same bytes keep one row.
INSERT INTO archive.raw_documents (sha256, original_name, size_bytes, run_id, content)
VALUES %s ON CONFLICT (sha256) DO NOTHING RETURNING sha256, id
