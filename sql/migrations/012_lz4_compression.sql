-- The long values the pipeline writes and reads most are compressed with lz4 instead of
-- PostgreSQL's default pglz: article bodies, their search vectors and the links' JSON
-- (scores, diff summary, aligned diff). Measured on make bench's corpus (docs/scaling.md,
-- "TOAST compression"): COPYing 43,570 links into version_links took 3.0 s with pglz and
-- 2.3 s with lz4, 13,458 articles 0.97 s and 0.80 s, for 5% more space on the links and
-- none on the articles; lz4 also reads back faster. Values already stored keep pglz until
-- they are rewritten (both are read transparently).
--
-- lz4 needs a server built with it (Debian's, the official images: yes; the embedded
-- server of `make demo`: no). Without it these columns keep pglz and everything else is
-- the same.
DO $$
BEGIN
    ALTER TABLE archive.articles ALTER COLUMN body SET COMPRESSION lz4;
    ALTER TABLE archive.article_search ALTER COLUMN search SET COMPRESSION lz4;
    ALTER TABLE archive.version_links
        ALTER COLUMN scores SET COMPRESSION lz4,
        ALTER COLUMN diff_summary SET COMPRESSION lz4,
        ALTER COLUMN aligned_diff SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'this PostgreSQL server was built without lz4: article bodies, search vectors and links keep pglz';
END
$$;
