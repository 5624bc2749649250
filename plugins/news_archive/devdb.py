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
