"""The archive's schema: numbered migrations, the analytics views, and the check every run makes.

Owns archive.schema_migrations and archive.view_versions. Schema changes are a deliberate
step (`news-archive migrate`, the compose init job, `make demo`); runs only check.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from news_archive.store.db import SQL_DIR
from news_archive.store.locks import MIGRATION_ADVISORY_KEY, take_lock


def migration_files(sql_dir: Path = SQL_DIR) -> list[Path]:
    return sorted((sql_dir / "migrations").glob("[0-9][0-9][0-9]_*.sql"))


def migrate(conn, sql_dir: Path = SQL_DIR) -> list[str]:
    """Apply the numbered migrations not yet applied; return their versions.

    Safe to run from several processes at once (the 'migration' pipeline lock serializes
    them) and as often as you like. An applied migration whose file changed is an error:
    write a new migration instead. The analytics views are re-created only when their
    file changed, so an up-to-date archive sees no DDL at all.
    """
    applied_now: list[str] = []
    with conn:
        with conn.cursor() as cur:
            cur.execute("SELECT to_regclass('archive.pipeline_locks') IS NOT NULL")
            if cur.fetchone()[0]:
                take_lock(cur, "migration")
            else:  # a new archive: no lock table yet (nothing to protect from other roles either)
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_ADVISORY_KEY,))
            cur.execute("CREATE SCHEMA IF NOT EXISTS archive")
            cur.execute(
                """CREATE TABLE IF NOT EXISTS archive.schema_migrations (
                       version text PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
                       applied_at timestamptz NOT NULL DEFAULT now())"""
            )
            cur.execute("SELECT version, checksum FROM archive.schema_migrations")
            applied = dict(cur.fetchall())
            for path in migration_files(sql_dir):
                version = path.name[:3]
                sql = path.read_text(encoding="utf-8")
                checksum = hashlib.sha256(sql.encode()).hexdigest()
                if version in applied:
                    if applied[version] != checksum:
                        raise RuntimeError(
                            f"migration {path.name} changed after it was applied; add a new migration instead"
                        )
                    continue
                cur.execute(sql)
                cur.execute(
                    "INSERT INTO archive.schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                    (version, path.name, checksum),
                )
                applied_now.append(version)
            # Views hold no data: re-created when their file changed (or a migration ran).
            cur.execute("SELECT to_regclass('archive.view_versions') IS NOT NULL")
            recorded = cur.fetchone()[0]  # (an archive older than migration 008 records none)
            for path in sorted((sql_dir / "views").glob("*.sql")):
                sql = path.read_text(encoding="utf-8")
                checksum = hashlib.sha256(sql.encode()).hexdigest()
                if recorded and not applied_now:
                    cur.execute("SELECT checksum FROM archive.view_versions WHERE name = %s", (path.name,))
                    row = cur.fetchone()
                    if row and row[0] == checksum:
                        continue
                cur.execute(sql)
                if recorded:
                    cur.execute(
                        """INSERT INTO archive.view_versions (name, checksum) VALUES (%s, %s)
                           ON CONFLICT (name) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = now()""",
                        (path.name, checksum))
    return applied_now


class SchemaOutOfDate(RuntimeError):
    """The archive's schema is not the one this code needs: `news-archive migrate` first."""


def code_schema_version(sql_dir: Path = SQL_DIR) -> str:
    return migration_files(sql_dir)[-1].name[:3]


def check_schema(conn, sql_dir: Path = SQL_DIR) -> str:
    """The archive's schema version, when it is the one this code needs; else SchemaOutOfDate.

    Runs check, they never migrate: schema changes are a deliberate step (`news-archive
    migrate`, the compose init job, `make demo`). Reads only, so a refused run changes nothing.
    """
    needed = code_schema_version(sql_dir)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass('archive.schema_migrations') IS NOT NULL")
        if not cur.fetchone()[0]:
            raise SchemaOutOfDate(f"the archive has no schema yet, this code needs {needed}: "
                                  "run `news-archive migrate`")
        cur.execute("SELECT max(version) FROM archive.schema_migrations")
        current = cur.fetchone()[0] or "000"
        if current < needed:
            raise SchemaOutOfDate(f"archive schema at {current}, this code needs {needed}: "
                                  "run `news-archive migrate`")
        if current > needed:
            raise SchemaOutOfDate(f"archive schema at {current} is newer than this code ({needed}): "
                                  "deploy the code that migrated it")
        cur.execute("SELECT name, checksum FROM archive.view_versions")  # (exists from 008 on)
        applied = dict(cur.fetchall())
    for path in sorted((sql_dir / "views").glob("*.sql")):
        if applied.get(path.name) != hashlib.sha256(path.read_text(encoding="utf-8").encode()).hexdigest():
            raise SchemaOutOfDate(f"the analytics views ({path.name}) changed since the archive was migrated: "
                                  "run `news-archive migrate`")
    return current
