-- For each candidate key of a chunk: the articles that share it, at most limit+1 of them
-- (a key shared by more is too common to be evidence; the +1 tells the linker so).
SELECT k.key, x.ids FROM unnest(%(keys)s::bigint[]) AS k(key)
CROSS JOIN LATERAL (
    SELECT array_agg(lk.article_id) AS ids FROM (
        SELECT article_id FROM archive.link_keys WHERE key = k.key LIMIT %(limit)s) lk
) x WHERE x.ids IS NOT NULL
