-- The last 20 runs: what each saw and did, and how long each stage took.
SELECT run_id, status, started_at, duration, files_seen, files_archived, duplicates, quarantined, loaded,
       links_made, stage_seconds, error
FROM analytics.ingest_runs
ORDER BY started_at DESC
LIMIT 20;
