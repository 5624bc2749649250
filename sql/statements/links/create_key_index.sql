-- The postings index of archive.link_keys, as migration 009 made it (key, then article
-- id: the postings read is an index-only scan); built again after a rebuild of the keys.
CREATE INDEX link_keys_key_article_idx ON archive.link_keys (key, article_id)
