-- Who holds a pipeline lock row: the transaction in the row's xmax, found in pg_locks.
SELECT a.pid, a.usename, a.application_name, a.client_addr, a.state,
       to_char(a.xact_start, 'YYYY-MM-DD HH24:MI:SS TZ'), left(a.query, 200)
FROM archive.pipeline_locks p
JOIN pg_locks l ON l.locktype = 'transactionid' AND l.transactionid::text = p.xmax::text
               AND l.mode = 'ExclusiveLock' AND l.granted
JOIN pg_stat_activity a ON a.pid = l.pid
WHERE p.name = %s
