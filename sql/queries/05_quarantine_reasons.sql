-- Why documents were held back, most frequent reason first, with an example file.
SELECT reason, count(*) AS documents, min(file_name) AS example_file, max(quarantined_at) AS last_seen
FROM analytics.quarantine, unnest(reason_codes) AS reason
GROUP BY reason
ORDER BY documents DESC, reason;
