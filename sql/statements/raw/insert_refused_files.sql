-- Files the inbox refused before archiving (unreadable, too large, not a regular file).
INSERT INTO archive.refused_files (run_id, file_name, reason_code, message)
VALUES %s ON CONFLICT (run_id, file_name) DO NOTHING
