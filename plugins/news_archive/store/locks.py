"""Pipeline locks: the rows of archive.pipeline_locks ('archive', 'load', 'link', 'migration').

A lock is a row taken FOR UPDATE until the transaction ends. Unlike an advisory lock, a
row lock needs only the privileges on that table, and pg_locks shows who holds it.
"""

from __future__ import annotations

import os

from news_archive.store.db import statement

# Only a new archive's first migration, before archive.pipeline_locks exists, uses this key.
MIGRATION_ADVISORY_KEY = 7_246_001


class PipelineLockTimeout(RuntimeError):
    """A pipeline lock was not had within NEWS_ARCHIVE_LOCK_TIMEOUT_SECONDS."""


def lock_timeout_seconds() -> float:
    value = os.environ.get("NEWS_ARCHIVE_LOCK_TIMEOUT_SECONDS")
    return float(value) if value not in (None, "") else 300.0


def take_lock(cur, name: str, timeout: float | None = None) -> None:
    """Take the pipeline lock `name` (a row of archive.pipeline_locks) until the transaction ends.

    Waits at most `timeout` seconds (NEWS_ARCHIVE_LOCK_TIMEOUT_SECONDS, default 300); every
    later lock wait of the transaction is time-boxed the same way. When the wait runs out,
    raises PipelineLockTimeout naming the session that holds the lock.
    """
    import psycopg2.errors

    timeout = lock_timeout_seconds() if timeout is None else timeout
    cur.execute("SELECT set_config('lock_timeout', %s, true)", (f"{max(int(timeout * 1000), 1)}ms",))
    cur.execute("SAVEPOINT pipeline_lock")
    try:
        cur.execute("SELECT 1 FROM archive.pipeline_locks WHERE name = %s FOR UPDATE NOWAIT", (name,))
        cur.execute("RELEASE SAVEPOINT pipeline_lock")
        return
    except psycopg2.errors.LockNotAvailable:
        cur.execute("ROLLBACK TO SAVEPOINT pipeline_lock")
    holder = lock_holder(cur, name)
    try:
        cur.execute("SELECT 1 FROM archive.pipeline_locks WHERE name = %s FOR UPDATE", (name,))
        cur.execute("RELEASE SAVEPOINT pipeline_lock")
    except psycopg2.errors.LockNotAvailable as exc:
        raise PipelineLockTimeout(
            f"waited {timeout:g} s for the pipeline's {name!r} lock, held by {holder}; end that session "
            f"(SELECT pg_terminate_backend(pid)) or raise NEWS_ARCHIVE_LOCK_TIMEOUT_SECONDS") from exc


def take_lock_and_mark(cur, name: str, timeout: float | None = None) -> tuple[str, str]:
    """`take_lock`, then mark the lock's row as this transaction's: (the transaction that
    marked it last, this one).

    The mark is a no-op UPDATE of the row, so the row's version (xmin) names the last
    transaction that took the lock this way and committed. A holder that works across
    transactions learns from it whether anyone else held the lock in between.
    """
    take_lock(cur, name, timeout)
    cur.execute("SELECT xmin::text FROM archive.pipeline_locks WHERE name = %s", (name,))
    before = cur.fetchone()[0]
    cur.execute("UPDATE archive.pipeline_locks SET name = name WHERE name = %s RETURNING xmin::text", (name,))
    return before, cur.fetchone()[0]


def lock_holder(cur, name: str) -> str:
    """Who holds a pipeline lock, in words."""
    cur.execute(statement("locks/holder"), (name,))
    row = cur.fetchone()
    if not row:
        return "another session (it could not be identified)"
    pid, user, app, addr, state, since, query = row
    return (f"session pid {pid} (user {user}, application {app or '-'}, client {addr or 'local'}, "
            f"{state}, in a transaction since {since}; last query: {query!r})")
