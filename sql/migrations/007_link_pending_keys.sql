-- Candidate keys computed where the articles load: each mapped process_batch task
-- fingerprints the articles it loaded (in parallel, on whichever worker runs it) and
-- leaves their keys here. The link task then reads them instead of fingerprinting every
-- new article itself; it fingerprints in full only the articles that have candidates.
-- A row is used only while body_hash and method_version still match the article (a
-- reparse or a new linking method makes it stale: the linker then computes the keys);
-- the linker deletes the rows of the articles it linked (their keys move to link_keys).
CREATE TABLE archive.link_pending_keys (
    article_id      bigint PRIMARY KEY REFERENCES archive.articles (id) ON DELETE CASCADE,
    body_hash       text NOT NULL,
    method_version  text NOT NULL,
    keys            bigint[] NOT NULL
);
COMMENT ON TABLE archive.link_pending_keys IS
    'Candidate keys of loaded articles not linked yet, computed by the loading task; a queue the linker empties.';
