"""Only the pipeline can take the pipeline's locks; every wait is time-boxed and names the
session it waited for."""

from __future__ import annotations

import threading
import time

import psycopg2
import pytest

from devkit import evaluation
from news_archive import pipeline, store
from tests.conftest import fetch, put_samples

OLD_ADVISORY_KEYS = (7_246_001, 7_246_002, 7_246_003, 7_246_004)  # migration, link, load, archive


def _analyst(dsn: str):
    conn = psycopg2.connect(dsn, application_name="analyst-notebook")
    with conn.cursor() as cur:
        cur.execute("SET ROLE news_archive_analyst")
    return conn


def test_an_analyst_session_cannot_block_a_run(conn, dsn, settings, monkeypatch):
    monkeypatch.setenv("NEWS_ARCHIVE_LOCK_TIMEOUT_SECONDS", "20")
    analyst = _analyst(dsn)
    cur = analyst.cursor()
    # everything an analyst could try: the advisory keys the pipeline used to take ...
    for key in OLD_ADVISORY_KEYS:
        cur.execute("SELECT pg_advisory_lock(%s)", (key,))
    # ... an open transaction reading every view ...
    for view in ("articles", "current_articles", "story_timeline", "version_links", "files", "ingest_runs"):
        cur.execute(f"SELECT count(*) FROM analytics.{view}")
    # ... and the lock rows themselves, which the role may not even see
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        cur.execute("SELECT 1 FROM archive.pipeline_locks FOR UPDATE")
    analyst.rollback()
    for key in OLD_ADVISORY_KEYS:
        cur.execute("SELECT pg_advisory_lock(%s)", (key,))
    for view in ("articles", "files"):
        cur.execute(f"SELECT count(*) FROM analytics.{view}")  # a transaction left open on the views

    put_samples(settings.inbox)
    for aid, title, body in evaluation.generated_articles(5, seed=9):
        (settings.inbox / f"{aid}.txt").write_text(f"{title}\n\n{body}\n")
    started = time.monotonic()
    result = pipeline.run_once(conn, settings, "while-analysing", database_url=store.db.sqlalchemy_url(dsn))
    elapsed = time.monotonic() - started
    assert result["status"] == "success"
    assert elapsed < 20, elapsed  # nothing waited for the analyst (a wait would have timed out at 20 s)
    assert fetch(dsn, "SELECT loaded, links_made FROM archive.ingest_runs") == [(7, 1)]
    analyst.close()


def test_a_wait_for_a_pipeline_lock_is_time_boxed_and_names_the_holder(conn, dsn, settings, monkeypatch):
    monkeypatch.setenv("NEWS_ARCHIVE_LOCK_TIMEOUT_SECONDS", "1.5")
    put_samples(settings.inbox)
    (batch,) = pipeline.claim_step(conn, settings, "blocked")
    holder = psycopg2.connect(dsn, application_name="stuck-maintenance-job")
    holder.cursor().execute("SELECT 1 FROM archive.pipeline_locks WHERE name = 'archive' FOR UPDATE")
    (holder_pid,) = fetch(dsn, "SELECT pid FROM pg_stat_activity WHERE application_name = 'stuck-maintenance-job'")[0]
    started = time.monotonic()
    with pytest.raises(store.locks.PipelineLockTimeout) as failed:
        pipeline.process_batch(conn, settings, "blocked", batch)
    assert time.monotonic() - started < 15
    message = str(failed.value)
    assert "'archive' lock" in message and f"pid {holder_pid}" in message
    assert "stuck-maintenance-job" in message
    holder.rollback()
    holder.close()
    conn.rollback()
    # once the holder is gone the same batch goes through (the task's retry)
    stats = pipeline.process_batch(conn, settings, "blocked", batch)
    assert stats["loaded"] == 2


def test_pipeline_sessions_take_turns_on_a_lock(dsn):
    """Two loaders: the second waits for the first, then goes on (no timeout, no error)."""
    first = psycopg2.connect(dsn)
    second = psycopg2.connect(dsn)
    order: list[str] = []
    with first.cursor() as cur:
        store.locks.take_lock(cur, "load", timeout=30)
        order.append("first")

    def later():
        with second, second.cursor() as cur:
            store.locks.take_lock(cur, "load", timeout=30)
            order.append("second")

    thread = threading.Thread(target=later)
    thread.start()
    time.sleep(0.5)
    assert order == ["first"]  # still waiting
    first.commit()
    thread.join(timeout=30)
    assert order == ["first", "second"]
    first.close()
    second.close()
