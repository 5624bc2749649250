-- A run's counters, summed over its batches' rows (a retried batch has one row).
SELECT COALESCE(SUM((stats->>'files_seen')::int), 0) AS files_seen,
       COALESCE(SUM((stats->>'files_archived')::int), 0) AS files_archived,
       COALESCE(SUM((stats->>'duplicates')::int), 0) AS duplicates,
       COALESCE(SUM((stats->>'quarantined')::int), 0) AS quarantined,
       COALESCE(SUM((stats->>'loaded')::int), 0) AS loaded
FROM archive.run_batches WHERE run_id = %(run_id)s
