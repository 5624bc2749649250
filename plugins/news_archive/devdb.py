"""An embedded PostgreSQL for the demo and the tests when no database is configured.

`pgserver` (PyPI) ships PostgreSQL binaries and starts a server without root,
listening on a Unix socket inside its data folder. The server keeps running
after this process exits, and the next call reuses it.
"""

from __future__ import annotations

import warnings
from pathlib import Path

DATABASE = "news_archive"


def start(pgdata: str | Path):
    warnings.filterwarnings("ignore", module="platformdirs")
    import pgserver

    Path(pgdata).mkdir(parents=True, exist_ok=True)
    return pgserver.get_server(str(pgdata), cleanup_mode=None)


def ensure_embedded(pgdata: str | Path, database: str = DATABASE) -> str:
    """Start (or reuse) the embedded server, create `database`, return its URI."""
    import psycopg2

    server = start(pgdata)
    admin = psycopg2.connect(server.get_uri())
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{database}"')
    admin.close()
    return server.get_uri(database)


# --------------------------------------------------------------------------- throw-away databases
# Shared by the test suite (tests/conftest.py) and the benchmarks (bench/common.py).
def admin_dsn(*env_names: str) -> str:
    """A server to create throw-away databases on: the first of `env_names` that is set,
    else the embedded server in .devdb/pgdata (started on demand)."""
    import os

    from news_archive.config import REPO_ROOT

    for name in env_names:
        if os.environ.get(name):
            return os.environ[name]
    return start(REPO_ROOT / ".devdb" / "pgdata").get_uri()


def with_dbname(dsn: str, dbname: str) -> str:
    """The same server and credentials, another database."""
    from psycopg2.extensions import make_dsn, parse_dsn

    parts = parse_dsn(dsn)
    parts["dbname"] = dbname
    return make_dsn(**parts)


def _admin_exec(admin: str, sql: str) -> None:
    import psycopg2

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
        from news_archive import storage

        conn = storage.connect(dsn)
        try:
            storage.migrate(conn)
        finally:
            conn.close()
    return dsn


def drop_database(admin: str, name: str) -> None:
    _admin_exec(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
