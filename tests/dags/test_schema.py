"""Schema changes are a deliberate step: a run never migrates, never drops the analysts'
views, and refuses, changing nothing, an archive behind the code's schema."""

from __future__ import annotations

import os
import shutil

import psycopg2
import pytest

from news_archive import store
from tests.conftest import REPO, fetch, put_samples


def test_an_analysts_own_view_survives_runs(airflow_archive, news_ingest_dag):
    dsn, inbox = airflow_archive
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("CREATE VIEW public.my_titles AS SELECT article_id, title FROM analytics.articles")
    put_samples(inbox)
    assert news_ingest_dag.test().state == "success"
    shutil.copy(REPO / "tests" / "fixtures" / "gate" / "brief_20_words.txt", inbox / "brief.txt")
    assert news_ingest_dag.test().state == "success"
    titles = [t for (t,) in fetch(dsn, "SELECT title FROM public.my_titles ORDER BY article_id")]
    assert len(titles) == 3 and "Dollar opens lower in Tokyo" in titles
    # `news-archive migrate` with nothing to do leaves it alone too; so does a views change,
    # which is applied with CREATE OR REPLACE VIEW
    conn = psycopg2.connect(dsn)
    assert store.schema.migrate(conn) == []
    with conn, conn.cursor() as cur:
        cur.execute("DELETE FROM archive.view_versions")  # as if the views file had changed
    store.schema.migrate(conn)
    conn.close()
    assert len(fetch(dsn, "SELECT * FROM public.my_titles")) == 3


def test_a_view_cannot_change_shape_under_its_dependents(dsn):
    """What a shape change does: Postgres refuses it rather than drop the dependent view."""
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("CREATE VIEW public.my_titles AS SELECT title FROM analytics.articles")
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur, pytest.raises(psycopg2.Error) as refused:
        cur.execute("CREATE OR REPLACE VIEW analytics.articles AS SELECT 1 AS article_id")
    assert "cannot drop columns from view" in str(refused.value) or "cannot change" in str(refused.value)
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur, pytest.raises(psycopg2.errors.DependentObjectsStillExist):
        cur.execute("DROP VIEW analytics.articles")  # a migration must say CASCADE, and so drop my_titles
    assert fetch(dsn, "SELECT count(*) FROM public.my_titles") == [(0,)]


def test_a_run_against_an_archive_behind_the_code_fails_clearly_and_changes_nothing(
        airflow_db, databases, tmp_path, monkeypatch, news_ingest_dag):
    from news_archive.config import airflow_conn_json

    dsn = databases.create(migrate=False)
    # the archive as the previous release left it: migrations up to the one before the last
    old = tmp_path / "old_sql"
    (old / "migrations").mkdir(parents=True)
    shutil.copytree(REPO / "sql" / "views", old / "views")
    for path in store.schema.migration_files()[:-1]:
        shutil.copy(path, old / "migrations" / path.name)
    conn = psycopg2.connect(dsn)
    store.schema.migrate(conn, old)
    conn.close()
    behind, needed = store.schema.migration_files()[-2].name[:3], store.schema.code_schema_version()

    def snapshot():
        return fetch(dsn, """SELECT (SELECT count(*) FROM archive.schema_migrations),
                                    (SELECT count(*) FROM archive.ingest_runs),
                                    (SELECT count(*) FROM archive.raw_documents)""")

    before = snapshot()
    inbox = tmp_path / "data" / "inbox"
    inbox.mkdir(parents=True)
    put_samples(inbox)
    monkeypatch.setenv("NEWS_ARCHIVE_INBOX", str(inbox))
    monkeypatch.setenv("AIRFLOW_CONN_NEWS_ARCHIVE", airflow_conn_json(dsn))
    monkeypatch.delenv("NEWS_ARCHIVE_DSN", raising=False)
    run = news_ingest_dag.test()
    assert run.state == "failed"
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states["claim_inbox"] == "failed"
    assert snapshot() == before  # nothing was written
    assert sorted(os.listdir(inbox)) == sorted(p.name for p in (REPO / "data" / "samples").iterdir())
    conn = psycopg2.connect(dsn)
    with pytest.raises(store.schema.SchemaOutOfDate) as refused:
        store.schema.check_schema(conn)
    conn.close()
    assert str(refused.value) == f"archive schema at {behind}, this code needs {needed}: run `news-archive migrate`"
