SELECT key, SUM(value::numeric) AS total
FROM archive.run_batches, jsonb_each_text(stats->'seconds')
WHERE run_id = %(run_id)s GROUP BY key
