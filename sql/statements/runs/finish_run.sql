UPDATE archive.ingest_runs
SET finished_at = now(), status = %(status)s, error = %(error)s, links_made = %(links_made)s,
    stage_seconds = %(stage_seconds)s, files_seen = %(files_seen)s, files_archived = %(files_archived)s,
    duplicates = %(duplicates)s, quarantined = %(quarantined)s, loaded = %(loaded)s
WHERE run_id = %(run_id)s
RETURNING *
