"""NewsArchiveHook: the one way the DAG, the command line, the overview page and Great
Expectations reach the archive database.

Inside Airflow the database is the connection `news_archive` (Admin > Connections, a
secrets backend, or `AIRFLOW_CONN_NEWS_ARCHIVE`). Outside it, `NewsArchiveHook.from_env()`
takes `--dsn`, else `NEWS_ARCHIVE_DSN`, else that same connection.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from airflow.sdk import BaseHook

from news_archive import config
from news_archive.store import db

# libpq options an Airflow connection may carry in its extras
LIBPQ_EXTRAS = ("sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout", "options")


class NewsArchiveHook(BaseHook):
    """psycopg2 connections and a SQLAlchemy URL for the archive database."""

    conn_name_attr = "news_archive_conn_id"
    default_conn_name = config.CONN_ID
    conn_type = "postgres"
    hook_name = "News archive (PostgreSQL)"

    def __init__(self, news_archive_conn_id: str = default_conn_name, *, dsn: str | None = None) -> None:
        super().__init__()
        self.news_archive_conn_id = news_archive_conn_id
        self.dsn = dsn

    @classmethod
    def from_env(cls, dsn: str | None = None) -> NewsArchiveHook:
        """Outside a task: `dsn`, else NEWS_ARCHIVE_DSN or AIRFLOW_CONN_NEWS_ARCHIVE, else the
        Airflow connection (looked up when a connection is first made)."""
        return cls(dsn=dsn or config.database_url())

    def connection_params(self) -> dict:
        """libpq parameters: from the DSN given, else from the Airflow connection's fields.

        (The Postgres provider's own hook returns psycopg 3 where it is installed; the
        package speaks psycopg2, so it builds its connection from the fields.)
        """
        if self.dsn:
            return db.dsn_params(self.dsn)
        connection = self.get_connection(self.news_archive_conn_id)
        extra = connection.extra_dejson or {}
        params = {
            "host": connection.host, "port": connection.port, "user": connection.login,
            "password": connection.password, "dbname": connection.schema,
            **{k: v for k, v in extra.items() if k in LIBPQ_EXTRAS},
        }
        return {k: v for k, v in params.items() if v not in (None, "")}

    def get_conn(self):
        """A new psycopg2 connection; the caller closes it (or use `connection()`)."""
        return db.connect_params(self.connection_params())

    @contextlib.contextmanager
    def connection(self, *, readonly: bool = False) -> Iterator:
        """A psycopg2 connection, closed when the block ends (each task's way in)."""
        conn = self.get_conn()
        try:
            if readonly:
                conn.set_session(readonly=True)
            yield conn
        finally:
            conn.close()

    def sqlalchemy_url(self) -> str:
        """The same database as a SQLAlchemy URL, for Great Expectations' SQL data source."""
        return db.sqlalchemy_url(self.connection_params())
