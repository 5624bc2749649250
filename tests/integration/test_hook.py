"""NewsArchiveHook: the one way in, from an Airflow connection or a DSN; connections are closed."""

from __future__ import annotations

import json

from news_archive.config import airflow_conn_json
from news_archive.hooks import NewsArchiveHook
from tests.conftest import fetch


def test_the_airflow_connection_gives_the_archive_and_each_block_closes_its_connection(dsn, monkeypatch):
    monkeypatch.delenv("NEWS_ARCHIVE_DSN", raising=False)
    monkeypatch.setenv("AIRFLOW_CONN_NEWS_ARCHIVE", airflow_conn_json(dsn))
    hook = NewsArchiveHook()
    with hook.connection() as conn, conn.cursor() as cur:
        cur.execute("SELECT current_database(), current_setting('application_name')")
        assert cur.fetchone() == (fetch(dsn, "SELECT current_database()")[0][0], "news_archive")
    assert conn.closed
    with hook.connection(readonly=True) as conn:
        assert conn.readonly
    # Great Expectations gets the same database as a SQLAlchemy URL
    from sqlalchemy import create_engine, text

    engine = create_engine(hook.sqlalchemy_url())
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM archive.schema_migrations")).scalar() > 0
    engine.dispose()


def test_connection_extras_reach_libpq_and_unknown_ones_do_not(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_NEWS_ARCHIVE", json.dumps({
        "conn_type": "postgres", "host": "db.example", "port": 6543, "login": "loader", "password": "s3cret",
        "schema": "archive", "extra": {"sslmode": "require", "connect_timeout": 5, "cursor": "dict"}}))
    params = NewsArchiveHook().connection_params()
    assert params == {"host": "db.example", "port": 6543, "user": "loader", "password": "s3cret",
                      "dbname": "archive", "sslmode": "require", "connect_timeout": 5}
    assert NewsArchiveHook().sqlalchemy_url() == "postgresql+psycopg2://loader:s3cret@db.example:6543/archive"


def test_outside_airflow_a_dsn_wins(monkeypatch):
    monkeypatch.setenv("NEWS_ARCHIVE_DSN", "postgresql://a@/news?host=/tmp/sock")
    hook = NewsArchiveHook.from_env()
    assert hook.connection_params() == {"user": "a", "dbname": "news", "host": "/tmp/sock"}
    assert hook.sqlalchemy_url() == "postgresql+psycopg2://a@localhost/news?host=%2Ftmp%2Fsock"
    assert NewsArchiveHook.from_env("postgresql://b@h/x").connection_params()["user"] == "b"
