INSERT INTO archive.ingest_runs (run_id, dag_id) VALUES (%s, %s)
ON CONFLICT (run_id) DO UPDATE SET status = 'running', finished_at = NULL, error = NULL
