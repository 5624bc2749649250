-- archive.link_keys is derived data: every row can be computed again from the article's
-- body. Logged, each chunk of 1,000 articles wrote ~57,000 keys at random places of the
-- key index, and past a checkpoint every page touched goes to the WAL whole: 240-330 MiB
-- of WAL per chunk against a million-article archive (9-13 MiB against 10,000), and the
-- key COPY took 1.2-3.7 s a chunk instead of 0.4 s unlogged (bench/link_bench.py).
--
-- Unlogged, a crash (or a failover to a replica) leaves the table empty. So does it
-- leave archive.link_keys_state, unlogged too: the linker finds no row there and rebuilds
-- every linked article's keys before it links anything (store.links.restore_keys).
ALTER TABLE archive.link_keys SET UNLOGGED;

-- Postings are read by key only, and with the article id in the index the read never
-- visits the table (an index-only scan): 0.36-0.47 s a chunk at 1M against 0.89-1.6 s.
DROP INDEX archive.link_keys_key_idx;
CREATE INDEX link_keys_key_article_idx ON archive.link_keys (key, article_id);

CREATE UNLOGGED TABLE archive.link_keys_state (
    complete    boolean PRIMARY KEY DEFAULT true CHECK (complete),
    since       timestamptz NOT NULL DEFAULT now()
);
INSERT INTO archive.link_keys_state DEFAULT VALUES;  -- the keys written so far survived SET UNLOGGED
COMMENT ON TABLE archive.link_keys_state IS
    'One row while archive.link_keys holds every linked article''s keys; emptied with it by a crash (both unlogged).';
