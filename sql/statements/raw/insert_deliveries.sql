INSERT INTO archive.deliveries (raw_document_id, file_name, run_id, is_duplicate)
VALUES %s ON CONFLICT (raw_document_id, file_name) DO NOTHING
