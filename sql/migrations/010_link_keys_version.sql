-- Candidate keys are made from a sentence's rare words only (linking.KEY_MIN_WEIGHT) and
-- no longer include MinHash bands: on real news, pairs of common words such as
-- (government, people) were shared by thousands of unrelated sentences, each a candidate
-- to fetch and verify (docs/scaling.md). Keys of the old method would not meet the new
-- ones, so the marker of archive.link_keys now names the method the keys were made with;
-- the row written by 009 has none, and the next linker makes every archived article's
-- keys again (store.links.restore_keys) before it links anything.
ALTER TABLE archive.link_keys_state ADD COLUMN keys_version text;
COMMENT ON COLUMN archive.link_keys_state.keys_version IS
    'linking.KEYS_VERSION of the keys in archive.link_keys; another (or none) makes the linker compute them again.';
