"""What the benchmarks share: a throw-away database and a throw-away inbox."""

from __future__ import annotations

import contextlib
import os
import resource
import tempfile
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def admin_dsn() -> str:
    """A server to create scratch databases on.

    NEWS_ARCHIVE_BENCH_ADMIN_DSN, else NEWS_ARCHIVE_TEST_ADMIN_DSN, else the embedded
    server in .devdb/ (started on demand, as the tests do).
    """
    for name in ("NEWS_ARCHIVE_BENCH_ADMIN_DSN", "NEWS_ARCHIVE_TEST_ADMIN_DSN"):
        if os.environ.get(name):
            return os.environ[name]
    from news_archive.devdb import start

    return start(REPO / ".devdb" / "pgdata").get_uri()


def _with_db(dsn: str, dbname: str) -> str:
    from psycopg2.extensions import make_dsn, parse_dsn

    parts = parse_dsn(dsn)
    parts["dbname"] = dbname
    return make_dsn(**parts)


def _admin_exec(admin: str, sql: str) -> None:
    import psycopg2

    conn = psycopg2.connect(admin)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql)
    conn.close()


@contextlib.contextmanager
def scratch_database(prefix: str = "news_archive_bench", keep: bool = False):
    """A fresh, migrated database; dropped afterwards unless keep=True."""
    from news_archive import storage

    admin = admin_dsn()
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    _admin_exec(admin, f'CREATE DATABASE "{name}"')
    dsn = _with_db(admin, name)
    conn = storage.connect(dsn)
    storage.migrate(conn)
    conn.close()
    try:
        yield dsn
    finally:
        if keep:
            print(f"kept database {name}: {dsn}")
        else:
            _admin_exec(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def scratch_inbox():
    """An inbox with its sibling folders; yields Settings pointing at it."""
    from news_archive.config import Settings

    with tempfile.TemporaryDirectory(prefix="news-archive-bench-") as tmp:
        inbox = Path(tmp) / "inbox"
        inbox.mkdir()
        old = os.environ.get("NEWS_ARCHIVE_INBOX")
        os.environ["NEWS_ARCHIVE_INBOX"] = str(inbox)
        try:
            yield Settings.from_env()
        finally:
            if old is None:
                os.environ.pop("NEWS_ARCHIVE_INBOX", None)
            else:
                os.environ["NEWS_ARCHIVE_INBOX"] = old


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_children_rss_mib() -> float:
    """The largest peak RSS of any child process that has finished (task and fingerprint workers)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
