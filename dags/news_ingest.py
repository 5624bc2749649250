"""
### news_ingest: raw news dumps to version-linked articles in PostgreSQL

**What it does.** Every run claims the files waiting in the inbox
(`NEWS_ARCHIVE_INBOX`, default `data/inbox`), archives their raw bytes,
parses and normalizes them, checks each batch with Great Expectations,
loads the clean articles, links versions of the same article, and moves
each file to `processed/` or `quarantine/`.

**Tasks.** `claim_inbox` → `process_batch` (one mapped task per batch of
`NEWS_ARCHIVE_BATCH_SIZE` files, named after its batch; it also indexes its articles for
full-text search and leaves their candidate keys for linking) → `link_versions` (links versions) → `check_archive` (post-load Great Expectations suite on the tables)
→ `finalize` (files moved, run history written, the `news_archive` asset updated).

**Data Docs** of every validation are rendered by `check_archive` into `NEWS_ARCHIVE_DATA_DOCS_DIR`
(default `data/data_docs`, next to the inbox); in this UI: **Browse → Data Docs (news-archive)**.
Archive totals, recent runs, quarantine reasons and recent version links:
**Browse → Archive overview (news-archive)**.

**When a run is red.**
* `process_batch` failed with *quarantined share over threshold*: the good
  rows are loaded; look at `archive.quarantine` (reason codes and message
  per document, also under Browse → Archive overview) and fix the feed, or the parser and run `news-archive reparse`.
* `check_archive` failed: an archive invariant broke (a version link to a
  missing article, a repeated content hash, an article without raw document);
  `archive.validation_results` (suite `archive_post_load`) names the rows.
* Any other task failure: read the task log; every task is safe to clear and
  re-run (same rows, never duplicates). Files a failed batch did not finish
  go back to the inbox for the next run.

Owner: data-platform. Database: Airflow connection `news_archive`.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import Asset, dag, get_current_context, task

# Parse-time work is limited to reading environment variables: the package,
# psycopg2 and Great Expectations are imported inside the tasks.
# Downstream DAGs can be scheduled on this asset: it is updated whenever a run finishes.
ARCHIVE_ASSET = Asset(name="news_archive", uri="news-archive://archive/articles", group="news_archive")
SCHEDULE = os.environ.get("NEWS_ARCHIVE_SCHEDULE", "*/15 * * * *")


def _hook():
    from news_archive.hooks import NewsArchiveHook

    return NewsArchiveHook()


def _settings():
    from news_archive.config import Settings

    return Settings.from_env()


def _on_failure(context):
    from news_archive.notify import notify_failure

    notify_failure(context)


@dag(
    dag_id="news_ingest",
    schedule=None if SCHEDULE.lower() in ("", "none", "manual") else SCHEDULE,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    # One run drains the inbox; claims make overlapping runs safe, but a second
    # run would only find the files that arrived meanwhile.
    max_active_runs=1,
    max_active_tasks=int(os.environ.get("NEWS_ARCHIVE_MAX_ACTIVE_TASKS", "8")),
    default_args={
        "owner": "data-platform",
        "retries": 2,
        "retry_delay": timedelta(seconds=30),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=10),
        "execution_timeout": timedelta(hours=1),
    },
    on_failure_callback=_on_failure,
    tags=["news_archive", "ingest"],
    doc_md=__doc__,
)
def news_ingest():
    @task
    def claim_inbox() -> list[dict]:
        from airflow.sdk.exceptions import AirflowFailException

        from news_archive.pipeline import SchemaOutOfDate, claim_step

        ctx = get_current_context()
        try:
            with _hook().connection() as conn:
                return claim_step(conn, _settings(), ctx["run_id"], dag_id=ctx["dag"].dag_id)
        except SchemaOutOfDate as exc:
            raise AirflowFailException(str(exc)) from exc  # needs `news-archive migrate`: a retry would not help

    @task(map_index_template="{{ batch_label }}")
    def process_batch(batch: dict) -> dict:
        from airflow.sdk.exceptions import AirflowFailException

        from news_archive.pipeline import QualityThresholdExceeded, SchemaOutOfDate
        from news_archive.pipeline import process_batch as run_batch

        ctx = get_current_context()
        ctx["batch_label"] = f"{batch['key']} ({len(batch['files'])} files)"
        try:
            with _hook().connection() as conn:
                return run_batch(conn, _settings(), ctx["run_id"], batch)
        except QualityThresholdExceeded as exc:
            raise AirflowFailException(str(exc)) from exc  # bad data: a retry would not change it
        except SchemaOutOfDate as exc:
            raise AirflowFailException(str(exc)) from exc

    @task(trigger_rule="all_done")
    def link_versions() -> dict:
        from airflow.sdk.exceptions import AirflowFailException

        from news_archive.pipeline import SchemaOutOfDate, link_step

        try:
            with _hook().connection() as conn:
                return link_step(conn, get_current_context()["run_id"])
        except SchemaOutOfDate as exc:
            raise AirflowFailException(str(exc)) from exc

    @task(trigger_rule="all_done")
    def check_archive() -> dict:
        """Post-load Great Expectations suite on the archive tables."""
        from airflow.sdk.exceptions import AirflowFailException

        from news_archive.pipeline import PostLoadCheckFailed, SchemaOutOfDate, check_step

        hook = _hook()
        try:
            with hook.connection() as conn:
                return check_step(conn, hook.sqlalchemy_url(), _settings(), get_current_context()["run_id"])
        except (PostLoadCheckFailed, SchemaOutOfDate) as exc:
            raise AirflowFailException(str(exc)) from exc

    @task(trigger_rule="all_done", outlets=[ARCHIVE_ASSET], retries=1)
    def finalize(link_counts: dict | None) -> dict:
        from airflow.sdk.exceptions import AirflowFailException

        from news_archive.pipeline import SchemaOutOfDate, finalize_step

        ctx = get_current_context()
        link_counts = link_counts or {}
        try:
            with _hook().connection() as conn:
                result = finalize_step(
                    conn, _settings(), ctx["run_id"],
                    links_made=link_counts.get("links", 0),
                    stage_seconds={"link": link_counts.get("seconds", 0.0)},
                )
        except SchemaOutOfDate as exc:
            raise AirflowFailException(str(exc)) from exc
        ctx["outlet_events"][ARCHIVE_ASSET].extra = {"run_id": ctx["run_id"], **result["moved"]}
        if result["status"] != "success":
            # finalize is the leaf: without this, a run with a failed batch would show green.
            raise AirflowFailException(result["error"])
        return result

    batches = claim_inbox()
    processed = process_batch.expand(batch=batches)
    links = link_versions()
    processed >> links >> check_archive() >> finalize(links)


news_ingest()
