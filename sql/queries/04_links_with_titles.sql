-- Version links found in the last 30 days, with both titles and the evidence.
SELECT relation, parent_title, child_title,
       (scores ->> 'coverage')::numeric AS sentence_coverage,
       (scores ->> 'title_similarity')::numeric AS title_similarity,
       method_version, found_at
FROM analytics.version_links
WHERE found_at > now() - interval '30 days'
ORDER BY found_at DESC;
