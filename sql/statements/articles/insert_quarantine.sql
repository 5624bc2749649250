-- A document held back, with its reasons; a re-parse that still refuses it rewrites the row.
INSERT INTO archive.quarantine
    (raw_document_id, stage, reason_codes, message, failed_expectations, parser_version, run_id)
VALUES %s
ON CONFLICT (raw_document_id) DO UPDATE SET stage = EXCLUDED.stage,
    reason_codes = EXCLUDED.reason_codes, message = EXCLUDED.message,
    failed_expectations = EXCLUDED.failed_expectations,
    parser_version = EXCLUDED.parser_version, run_id = EXCLUDED.run_id,
    quarantined_at = now()
