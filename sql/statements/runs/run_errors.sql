SELECT stats->>'error' AS error FROM archive.run_batches
WHERE run_id = %(run_id)s AND stats ? 'error' ORDER BY batch_key
