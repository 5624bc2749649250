-- archive.link_keys is derived data (rebuilt by relink) written in bulk by the linker:
-- 60-odd keys per article. The primary key and the foreign key cost more per row than
-- the rows themselves (a per-row referential check, a unique check on random keys).
-- The linker writes each article's keys once, in the transaction that sets linked_at,
-- after deleting any left over; reparse and relink delete keys explicitly.
ALTER TABLE archive.link_keys DROP CONSTRAINT link_keys_pkey;
ALTER TABLE archive.link_keys DROP CONSTRAINT link_keys_article_id_fkey;
CREATE INDEX link_keys_key_idx ON archive.link_keys (key);
COMMENT ON TABLE archive.link_keys IS
    'Candidate keys of each linked article (sentence min-pairs, LSH bands); no constraints, kept by the linker.';
