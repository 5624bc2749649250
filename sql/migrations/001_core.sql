-- Core archive: raw bytes, deliveries, articles, quarantine, version links, runs.
-- Tables live in schema "archive"; analysts read the views in schema "analytics".

CREATE SCHEMA IF NOT EXISTS archive;

-- One row per pipeline run (a DAG run, or a command-line run).
CREATE TABLE archive.ingest_runs (
    run_id           text PRIMARY KEY,
    dag_id           text,
    started_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    status           text NOT NULL DEFAULT 'running'
                     CHECK (status IN ('running', 'success', 'failed')),
    files_seen       integer NOT NULL DEFAULT 0,
    files_archived   integer NOT NULL DEFAULT 0,   -- new raw documents
    duplicates       integer NOT NULL DEFAULT 0,   -- deliveries of bytes already archived
    quarantined      integer NOT NULL DEFAULT 0,
    loaded           integer NOT NULL DEFAULT 0,   -- articles inserted or updated
    links_made       integer NOT NULL DEFAULT 0,
    stage_seconds    jsonb NOT NULL DEFAULT '{}'::jsonb,
    error            text
);
COMMENT ON TABLE archive.ingest_runs IS 'Run history: one row per ingestion run, with counts and per-stage durations.';

-- Per-batch counters of a run, keyed so that a retried batch overwrites its own row.
CREATE TABLE archive.run_batches (
    run_id           text NOT NULL REFERENCES archive.ingest_runs (run_id) ON DELETE CASCADE,
    batch_key        text NOT NULL,
    stats            jsonb NOT NULL,
    recorded_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, batch_key)
);

-- Every distinct byte sequence ever received, kept byte for byte. Never updated.
CREATE TABLE archive.raw_documents (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sha256           char(64) NOT NULL UNIQUE,
    original_name    text NOT NULL,
    size_bytes       bigint NOT NULL CHECK (size_bytes >= 0),
    received_at      timestamptz NOT NULL DEFAULT now(),
    run_id           text REFERENCES archive.ingest_runs (run_id),
    content          bytea NOT NULL,
    CHECK (size_bytes = octet_length(content))
);
ALTER TABLE archive.raw_documents ALTER COLUMN content SET STORAGE EXTERNAL;
COMMENT ON TABLE archive.raw_documents IS 'Immutable archive of every raw file received, deduplicated by sha256.';

CREATE FUNCTION archive.refuse_raw_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'archive.raw_documents is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER raw_documents_append_only
    BEFORE UPDATE OR DELETE ON archive.raw_documents
    FOR EACH ROW EXECUTE FUNCTION archive.refuse_raw_change();

-- Every file that arrived: the same bytes under another name is a duplicate delivery.
CREATE TABLE archive.deliveries (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    raw_document_id  bigint NOT NULL REFERENCES archive.raw_documents (id),
    file_name        text NOT NULL,
    run_id           text NOT NULL REFERENCES archive.ingest_runs (run_id),
    delivered_at     timestamptz NOT NULL DEFAULT now(),
    is_duplicate     boolean NOT NULL,
    UNIQUE (raw_document_id, file_name)
);
CREATE INDEX deliveries_run_idx ON archive.deliveries (run_id);

-- One normalized article per raw document that passed parsing and validation.
CREATE TABLE archive.articles (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    raw_document_id      bigint NOT NULL UNIQUE REFERENCES archive.raw_documents (id),
    title                text NOT NULL,
    body                 text NOT NULL,
    published_at         timestamptz,
    published_precision  text CHECK (published_precision IN ('day', 'time')),
    source               text,
    url                  text,
    author               text,
    language             text,
    extra_headers        jsonb NOT NULL DEFAULT '{}'::jsonb,
    source_format        text NOT NULL,
    encoding             text NOT NULL,
    word_count           integer NOT NULL,
    content_hash         char(64) NOT NULL,
    body_hash            char(64) NOT NULL,
    parser_version       text NOT NULL,
    parse_warnings       jsonb NOT NULL DEFAULT '[]'::jsonb,
    boilerplate_removed  jsonb NOT NULL DEFAULT '[]'::jsonb,
    quality_warnings     jsonb NOT NULL DEFAULT '[]'::jsonb,
    run_id               text REFERENCES archive.ingest_runs (run_id),
    ingested_at          timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CHECK ((published_at IS NULL) = (published_precision IS NULL))
);
CREATE UNIQUE INDEX articles_content_hash_key ON archive.articles (content_hash);
CREATE INDEX articles_body_hash_idx ON archive.articles (body_hash);
CREATE INDEX articles_published_idx ON archive.articles (published_at);
CREATE INDEX articles_run_idx ON archive.articles (run_id);

-- Raw documents held back, with reason codes and a readable message.
CREATE TABLE archive.quarantine (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    raw_document_id      bigint NOT NULL UNIQUE REFERENCES archive.raw_documents (id),
    stage                text NOT NULL CHECK (stage IN ('parse', 'validate')),
    reason_codes         text[] NOT NULL CHECK (cardinality(reason_codes) > 0),
    message              text NOT NULL,
    failed_expectations  jsonb NOT NULL DEFAULT '[]'::jsonb,
    parser_version       text,
    run_id               text REFERENCES archive.ingest_runs (run_id),
    quarantined_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX quarantine_reasons_idx ON archive.quarantine USING gin (reason_codes);

-- Inbox entries refused without being read (symbolic links, devices, ...).
CREATE TABLE archive.refused_files (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id               text NOT NULL REFERENCES archive.ingest_runs (run_id),
    file_name            text NOT NULL,
    reason_code          text NOT NULL,
    message              text NOT NULL,
    refused_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (run_id, file_name)
);

-- Expectation results of every validation (pre-load batches and post-load checks).
CREATE TABLE archive.validation_results (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id               text NOT NULL,
    batch_key            text NOT NULL,
    suite                text NOT NULL,
    expectation          text NOT NULL,
    column_name          text,
    severity             text NOT NULL CHECK (severity IN ('critical', 'warning')),
    success              boolean NOT NULL,
    element_count        integer,
    unexpected_count     integer,
    unexpected_sample    jsonb NOT NULL DEFAULT '[]'::jsonb,
    details              jsonb NOT NULL DEFAULT '{}'::jsonb,
    validated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX validation_results_run_idx ON archive.validation_results (run_id, batch_key, suite);

-- Raw documents whose normalized content equals an article's (re-encoded, re-wrapped copies).
CREATE TABLE archive.content_duplicates (
    raw_document_id      bigint PRIMARY KEY REFERENCES archive.raw_documents (id),
    article_id           bigint NOT NULL REFERENCES archive.articles (id) ON DELETE CASCADE,
    run_id               text REFERENCES archive.ingest_runs (run_id),
    found_at             timestamptz NOT NULL DEFAULT now()
);

-- Versions of one article: parent is the earlier (or fuller) version.
CREATE TABLE archive.version_links (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    parent_article_id    bigint NOT NULL REFERENCES archive.articles (id) ON DELETE CASCADE,
    child_article_id     bigint NOT NULL REFERENCES archive.articles (id) ON DELETE CASCADE,
    relation             text NOT NULL
                         CHECK (relation IN ('duplicate', 'revision', 'condensed', 'paraphrase')),
    scores               jsonb NOT NULL DEFAULT '{}'::jsonb,
    diff_summary         jsonb NOT NULL DEFAULT '{}'::jsonb,
    method_version       text NOT NULL,
    run_id               text REFERENCES archive.ingest_runs (run_id),
    found_at             timestamptz NOT NULL DEFAULT now(),
    CHECK (parent_article_id <> child_article_id)
);
CREATE UNIQUE INDEX version_links_pair_key ON archive.version_links
    (LEAST(parent_article_id, child_article_id), GREATEST(parent_article_id, child_article_id));
CREATE INDEX version_links_child_idx ON archive.version_links (child_article_id);
