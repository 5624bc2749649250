-- Version linking: stories, the candidate-key index, link bookkeeping on articles.

-- A story is the connected set of an article's versions. Its id stays stable as
-- versions arrive; when a new article joins two stories, the younger one is
-- merged into the older (lower id) and remembers where it went.
CREATE TABLE archive.stories (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at   timestamptz NOT NULL DEFAULT now(),
    merged_into  bigint REFERENCES archive.stories (id),
    merged_at    timestamptz
);

ALTER TABLE archive.articles
    ADD COLUMN story_id    bigint REFERENCES archive.stories (id),
    ADD COLUMN linked_at   timestamptz,
    ADD COLUMN link_method text;
CREATE INDEX articles_story_idx ON archive.articles (story_id);
CREATE INDEX articles_unlinked_idx ON archive.articles (id) WHERE linked_at IS NULL;

-- Candidate keys (sentence min-pairs and MinHash LSH bands, see linking.py):
-- a new article looks up only the postings of its own keys, so the cost of
-- linking it does not grow with the size of the archive.
CREATE TABLE archive.link_keys (
    key         bigint NOT NULL,
    article_id  bigint NOT NULL REFERENCES archive.articles (id) ON DELETE CASCADE,
    PRIMARY KEY (key, article_id)
);
CREATE INDEX link_keys_article_idx ON archive.link_keys (article_id);
