"""The data layer: one module per table family, each the only writer of its tables.

    schema    archive.schema_migrations, archive.view_versions, the analytics views
    locks     archive.pipeline_locks
    raw       archive.raw_documents, archive.deliveries, archive.refused_files
    articles  archive.articles (its parsed columns), archive.content_duplicates,
              archive.quarantine, archive.article_search
    links     archive.version_links, archive.link_keys (+ its marker, link_keys_state),
              archive.link_pending_keys, archive.stories, and the link columns of
              archive.articles (story_id, linked_at, link_method)
    runs      archive.ingest_runs, archive.run_batches, archive.validation_results

`db` holds what they share: connections, the statements kept in sql/statements/, COPY.
Nothing here imports the pipeline or Airflow.
"""

from news_archive.store import articles, db, links, locks, raw, runs, schema

__all__ = ["articles", "db", "links", "locks", "raw", "runs", "schema"]
