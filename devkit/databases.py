"""Throw-away databases for the test suite (tests/conftest.py) and the benchmarks (bench/common.py).

Not part of the shipped package: a deployment never creates or drops databases.
"""

from __future__ import annotations

import os

import psycopg2
from psycopg2.extensions import make_dsn, parse_dsn

from news_archive import store
from news_archive.config import REPO_ROOT
from news_archive.devdb import start


def admin_dsn(*env_names: str) -> str:
    """A server to create throw-away databases on: the first of `env_names` that is set,
    else the embedded server in .devdb/pgdata (started on demand)."""
    for name in env_names:
        if os.environ.get(name):
            return os.environ[name]
    return start(REPO_ROOT / ".devdb" / "pgdata").get_uri()


def with_dbname(dsn: str, dbname: str) -> str:
    """The same server and credentials, another database."""
    parts = parse_dsn(dsn)
    parts["dbname"] = dbname
    return make_dsn(**parts)


def _admin_exec(admin: str, sql: str) -> None:
    conn = psycopg2.connect(admin)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


def create_database(admin: str, name: str, *, migrate: bool = True) -> str:
    """Create database `name` on the admin DSN's server (migrated unless told not to); its DSN."""
    _admin_exec(admin, f'CREATE DATABASE "{name}"')
    dsn = with_dbname(admin, name)
    if migrate:
        conn = store.db.connect(dsn)
        try:
            store.schema.migrate(conn)
        finally:
            conn.close()
    return dsn


def drop_database(admin: str, name: str) -> None:
    _admin_exec(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
