-- Per-batch counters, keyed by (run, batch): a retried batch overwrites its row.
INSERT INTO archive.run_batches (run_id, batch_key, stats) VALUES (%s, %s, %s)
ON CONFLICT (run_id, batch_key) DO UPDATE SET stats = EXCLUDED.stats, recorded_at = now()
