"""PostgreSQL at the edges: migrations, the raw archive, article loads, run history.

Every write is idempotent: raw bytes are keyed by sha256, deliveries by
(raw document, file name), articles by raw document and content hash, and run
statistics by (run, batch). A retry or a re-run writes the same rows again, or
nothing.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.extras

from news_archive.config import REPO_ROOT

SQL_DIR = Path(os.environ.get("NEWS_ARCHIVE_SQL_DIR", REPO_ROOT / "sql"))
# Pipeline locks are rows of archive.pipeline_locks (take_lock): 'archive', 'load', 'link',
# 'migration'. Only a new archive's first migration, before that table exists, uses this key.
MIGRATION_LOCK = 7_246_001


# Lookups by hash. The hashes are char(64): a text[] parameter would compare column::text,
# which no index serves (a scan of the whole table per batch); hence the ::bpchar[].
SHA256_LOOKUP = "SELECT sha256, id FROM archive.raw_documents WHERE sha256 = ANY(%s::bpchar[])"
CONTENT_HASH_LOOKUP = ("SELECT content_hash, id, raw_document_id FROM archive.articles "
                       "WHERE content_hash = ANY(%s::bpchar[])")


def connect(dsn: str) -> psycopg2.extensions.connection:
    return psycopg2.connect(dsn, application_name="news_archive")


def airflow_params(connection) -> dict:
    """libpq parameters from an Airflow Connection (host, port, login, password, schema, extras).

    The Postgres provider's hook returns psycopg 3 when it is installed; the
    package speaks psycopg2, so it builds its own connection from the fields.
    """
    extra = connection.extra_dejson or {}
    params = {
        "host": connection.host, "port": connection.port, "user": connection.login,
        "password": connection.password, "dbname": connection.schema,
        **{k: v for k, v in extra.items() if k in ("sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout")},
    }
    return {k: v for k, v in params.items() if v not in (None, "")}


def dsn_params(dsn: str) -> dict:
    from psycopg2.extensions import parse_dsn

    return parse_dsn(dsn)


def connect_params(params: dict) -> psycopg2.extensions.connection:
    return psycopg2.connect(application_name="news_archive", **params)


# --------------------------------------------------------------------------- migrations
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
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
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
    holder = _lock_holder(cur, name)
    try:
        cur.execute("SELECT 1 FROM archive.pipeline_locks WHERE name = %s FOR UPDATE", (name,))
        cur.execute("RELEASE SAVEPOINT pipeline_lock")
    except psycopg2.errors.LockNotAvailable as exc:
        raise PipelineLockTimeout(
            f"waited {timeout:g} s for the pipeline's {name!r} lock, held by {holder}; end that session "
            f"(SELECT pg_terminate_backend(pid)) or raise NEWS_ARCHIVE_LOCK_TIMEOUT_SECONDS") from exc


def _lock_holder(cur, name: str) -> str:
    """Who holds a pipeline lock row: the transaction in the row's xmax, found in pg_locks."""
    cur.execute(
        """SELECT a.pid, a.usename, a.application_name, a.client_addr, a.state,
                  to_char(a.xact_start, 'YYYY-MM-DD HH24:MI:SS TZ'), left(a.query, 200)
           FROM archive.pipeline_locks p
           JOIN pg_locks l ON l.locktype = 'transactionid' AND l.transactionid::text = p.xmax::text
                          AND l.mode = 'ExclusiveLock' AND l.granted
           JOIN pg_stat_activity a ON a.pid = l.pid
           WHERE p.name = %s""",
        (name,),
    )
    row = cur.fetchone()
    if not row:
        return "another session (it could not be identified)"
    pid, user, app, addr, state, since, query = row
    return (f"session pid {pid} (user {user}, application {app or '-'}, client {addr or 'local'}, "
            f"{state}, in a transaction since {since}; last query: {query!r})")


# --------------------------------------------------------------------------- runs
def start_run(conn, run_id: str, dag_id: str | None = None) -> None:
    with conn, conn.cursor() as cur:
        cur.execute(
            """INSERT INTO archive.ingest_runs (run_id, dag_id) VALUES (%s, %s)
               ON CONFLICT (run_id) DO UPDATE SET status = 'running', finished_at = NULL, error = NULL""",
            (run_id, dag_id),
        )


def record_batch_stats(conn, run_id: str, batch_key: str, stats: dict[str, Any]) -> None:
    """Per-batch counters, keyed by (run, batch): a retried batch overwrites its row."""
    with conn, conn.cursor() as cur:
        cur.execute(
            """INSERT INTO archive.run_batches (run_id, batch_key, stats) VALUES (%s, %s, %s)
               ON CONFLICT (run_id, batch_key) DO UPDATE SET stats = EXCLUDED.stats, recorded_at = now()""",
            (run_id, batch_key, json.dumps(stats)),
        )


COUNTERS = ("files_seen", "files_archived", "duplicates", "quarantined", "loaded")


def finish_run(conn, run_id: str, *, links_made: int, stage_seconds: dict[str, float], error: str | None) -> dict:
    with conn, conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        sums = ", ".join(f"COALESCE(SUM((stats->>'{c}')::int), 0) AS {c}" for c in COUNTERS)
        cur.execute(f"SELECT {sums} FROM archive.run_batches WHERE run_id = %s", (run_id,))
        totals = dict(cur.fetchone())
        cur.execute(
            """SELECT key, SUM(value::numeric) AS total FROM archive.run_batches,
                      jsonb_each_text(stats->'seconds') WHERE run_id = %s GROUP BY key""",
            (run_id,),
        )
        seconds = {r["key"]: round(float(r["total"]), 3) for r in cur.fetchall()}
        seconds.update({k: round(v, 3) for k, v in stage_seconds.items()})
        cur.execute(
            "SELECT stats->>'error' AS error FROM archive.run_batches WHERE run_id = %s AND stats ? 'error' ORDER BY batch_key",
            (run_id,),
        )
        errors = [r["error"] for r in cur.fetchall()] + ([error] if error else [])
        error = "; ".join(errors) or None
        cur.execute(
            f"""UPDATE archive.ingest_runs SET finished_at = now(),
                   status = %s, error = %s, links_made = %s, stage_seconds = %s,
                   {", ".join(f"{c} = %s" for c in COUNTERS)}
               WHERE run_id = %s RETURNING *""",
            ("failed" if error else "success", error, links_made, json.dumps(seconds),
             *(totals[c] for c in COUNTERS), run_id),
        )
        return dict(cur.fetchone())


# --------------------------------------------------------------------------- raw archive
@dataclass(frozen=True)
class Archived:
    path: str
    raw_id: int
    sha256: str
    size: int
    new: bool  # first time these bytes were archived


ARCHIVE_CHUNK_BYTES = 64 * 1024 * 1024


def archive_files(conn, run_id: str, paths: Sequence[Path]) -> list[Archived]:
    """Archive each file's bytes (once per sha256) and record its delivery.

    Files are read and written in chunks of at most 64 MB (memory stays bounded whatever
    the files), three statements per chunk. Concurrent runs archiving the same bytes are
    safe: ON CONFLICT keeps one row and the other reads its id.
    """
    out: list[Archived] = []
    items: list[tuple] = []
    size = 0
    for path in paths:
        data = Path(path).read_bytes()
        items.append((str(path), Path(path).name, hashlib.sha256(data).hexdigest(), data))
        size += len(data)
        if size >= ARCHIVE_CHUNK_BYTES:
            out.extend(_archive_chunk(conn, run_id, items))
            items, size = [], 0
    if items:
        out.extend(_archive_chunk(conn, run_id, items))
    return out


def _archive_chunk(conn, run_id: str, items: list[tuple]) -> list[Archived]:
    with conn, conn.cursor() as cur:
        # Batches archiving in parallel may hold the same bytes in opposite orders: one lock
        # around the insert keeps their unique-index waits from deadlocking, and raw ids
        # follow the files' order (the order of ingestion within a batch).
        take_lock(cur, "archive")
        first: dict[str, tuple] = {}
        for item in items:
            first.setdefault(item[2], item)  # the same bytes twice in one batch: one raw document
        inserted = psycopg2.extras.execute_values(
            cur,
            """INSERT INTO archive.raw_documents (sha256, original_name, size_bytes, run_id, content)
               VALUES %s ON CONFLICT (sha256) DO NOTHING RETURNING sha256, id""",
            [(sha, name, len(data), run_id, psycopg2.Binary(data)) for _, name, sha, data in first.values()],
            page_size=200, fetch=True,
        )
        new_ids = dict(inserted)
        ids = dict(new_ids)
        known = [sha for sha in first if sha not in new_ids]  # archived before: read their ids
        if known:
            cur.execute(SHA256_LOOKUP, (known,))
            ids.update(cur.fetchall())
        out: list[Archived] = []
        deliveries = []
        seen_new: set[str] = set()
        for path, name, sha, data in items:
            new = sha in new_ids and sha not in seen_new
            seen_new.add(sha)
            out.append(Archived(path, ids[sha], sha, len(data), new))
            deliveries.append((ids[sha], name, run_id, not new))
        psycopg2.extras.execute_values(
            cur,
            """INSERT INTO archive.deliveries (raw_document_id, file_name, run_id, is_duplicate)
               VALUES %s ON CONFLICT (raw_document_id, file_name) DO NOTHING""",
            sorted(deliveries, key=lambda d: (d[0], d[1])), page_size=1000,
        )
    return out


def delivered_raw_ids(conn, run_id: str, file_names: Sequence[str]) -> dict[str, int]:
    """file name -> raw document id, for the files `run_id` archived (its deliveries)."""
    if not file_names:
        return {}
    with conn, conn.cursor() as cur:
        cur.execute("""SELECT file_name, raw_document_id FROM archive.deliveries
                       WHERE run_id = %s AND file_name = ANY(%s)""", (run_id, list(file_names)))
        return dict(cur.fetchall())


def batch_counts(conn, run_id: str, archived: Sequence[Archived]) -> dict[str, int]:
    """What the run did with a batch's files, read from the archive, not from this attempt.

    A retried batch finds its bytes archived and its articles loaded by the attempt that
    died: counted from what this attempt saw, they would be duplicates and nothing loaded.
    A file counts as archived when its delivery is this run's first delivery of those bytes;
    articles, quarantine rows and content duplicates count when this run made them from
    those files (bytes first archived by another batch of the run count there, not here).
    """
    if not archived:
        return {"files_archived": 0, "duplicates": 0, "quarantined": 0, "loaded": 0}
    pairs = sorted({(a.raw_id, Path(a.path).name) for a in archived})
    with conn, conn.cursor() as cur:
        cur.execute(
            """WITH batch AS (SELECT * FROM unnest(%s::bigint[], %s::text[]) AS b(raw_id, file_name)),
                    firsts AS (SELECT DISTINCT b.raw_id FROM batch b JOIN archive.deliveries d
                               ON d.raw_document_id = b.raw_id AND d.file_name = b.file_name
                               WHERE d.run_id = %s AND NOT d.is_duplicate)
               SELECT (SELECT count(*) FROM firsts),
                      (SELECT count(*) FROM archive.content_duplicates c JOIN firsts f ON f.raw_id = c.raw_document_id
                       WHERE c.run_id = %s),
                      (SELECT count(*) FROM archive.quarantine q JOIN firsts f ON f.raw_id = q.raw_document_id
                       WHERE q.run_id = %s),
                      (SELECT count(*) FROM archive.articles a JOIN firsts f ON f.raw_id = a.raw_document_id
                       WHERE a.run_id = %s)""",
            ([r for r, _ in pairs], [n for _, n in pairs], run_id, run_id, run_id, run_id),
        )
        archived_n, content_duplicates, quarantined, loaded = cur.fetchone()
    return {"files_archived": archived_n, "duplicates": len(archived) - archived_n + content_duplicates,
            "quarantined": quarantined, "loaded": loaded}


def unprocessed(conn, raw_ids: Iterable[int]) -> list[int]:
    """Raw documents with no outcome yet: no article, no quarantine, no content duplicate."""
    with conn, conn.cursor() as cur:
        cur.execute(
            """SELECT r.id FROM archive.raw_documents r WHERE r.id = ANY(%s)
                 AND NOT EXISTS (SELECT 1 FROM archive.articles a WHERE a.raw_document_id = r.id)
                 AND NOT EXISTS (SELECT 1 FROM archive.quarantine q WHERE q.raw_document_id = r.id)
                 AND NOT EXISTS (SELECT 1 FROM archive.content_duplicates d WHERE d.raw_document_id = r.id)
               ORDER BY r.id""",
            (list(raw_ids),),
        )
        return [r[0] for r in cur.fetchall()]


def iter_raw(conn, raw_ids: Sequence[int], chunk: int = 500) -> Iterator[tuple[int, str, bytes]]:
    """(id, original name, bytes) for the given raw documents, fetched in chunks."""
    ids = list(raw_ids)
    with conn.cursor() as cur:
        for start in range(0, len(ids), chunk):
            cur.execute(
                "SELECT id, original_name, content FROM archive.raw_documents WHERE id = ANY(%s) ORDER BY id",
                (ids[start : start + chunk],),
            )
            for raw_id, name, content in cur.fetchall():
                yield raw_id, name, bytes(content)
    conn.commit()


def read_raw(conn, raw_id: int) -> bytes:
    with conn, conn.cursor() as cur:
        cur.execute("SELECT content FROM archive.raw_documents WHERE id = %s", (raw_id,))
        return bytes(cur.fetchone()[0])


def outcomes(conn, raw_ids: Iterable[int]) -> dict[int, str]:
    """raw id -> 'loaded' | 'duplicate' | 'quarantined' | 'pending'."""
    with conn, conn.cursor() as cur:
        cur.execute(
            """SELECT r.id,
                      CASE WHEN EXISTS (SELECT 1 FROM archive.articles a WHERE a.raw_document_id = r.id) THEN 'loaded'
                           WHEN EXISTS (SELECT 1 FROM archive.content_duplicates d WHERE d.raw_document_id = r.id) THEN 'duplicate'
                           WHEN EXISTS (SELECT 1 FROM archive.quarantine q WHERE q.raw_document_id = r.id) THEN 'quarantined'
                           ELSE 'pending' END
               FROM archive.raw_documents r WHERE r.id = ANY(%s)""",
            (list(raw_ids),),
        )
        return dict(cur.fetchall())


# --------------------------------------------------------------------------- article load
ARTICLE_COLUMNS = (
    "raw_document_id", "title", "body", "published_at", "published_precision", "source", "url",
    "author", "language", "extra_headers", "source_format", "encoding", "word_count",
    "content_hash", "body_hash", "parser_version", "parse_warnings", "boilerplate_removed",
    "quality_warnings", "run_id",
)


@dataclass
class Quarantined:
    raw_id: int
    stage: str
    reason_codes: list[str]
    message: str
    failed_expectations: list[dict]
    parser_version: str | None


def article_row(raw_id: int, article, quality_warnings: list[dict], run_id: str) -> tuple:
    return (
        raw_id, article.title, article.body,
        article.published_at.isoformat() if article.published_at else None,
        article.published_precision, article.source, article.url, article.author, article.language,
        json.dumps(article.extra_headers, ensure_ascii=False), article.source_format, article.encoding,
        article.word_count, article.content_hash, article.body_hash, article.parser_version,
        json.dumps(article.parse_warnings, ensure_ascii=False),
        json.dumps(article.boilerplate_removed, ensure_ascii=False),
        json.dumps(quality_warnings, ensure_ascii=False), run_id,
    )


def _csv_field(value) -> str:
    if value is None:
        return ""  # unquoted empty: NULL in COPY's CSV format
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return '"' + str(value).replace('"', '""') + '"'  # quoted: always data, even "", "\\N" or "\\."


def _copy_rows(cur, table: str, columns: Sequence[str], rows: Iterable[tuple]) -> None:
    """COPY rows in CSV form; every text value quoted, so tabs, backslashes, a lone `\\.`
    and the text `\\N` are plain data, and only a real None is NULL."""
    buf = io.StringIO()
    for row in rows:
        buf.write(",".join(map(_csv_field, row)))
        buf.write("\n")
    buf.seek(0)
    cur.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)", buf)


def load_batch(conn, run_id: str, rows: list[tuple], quarantined: list[Quarantined]) -> dict[str, list[int]]:
    """Insert articles and quarantine rows in one transaction.

    `rows` are `article_row(...)` tuples. An article whose content hash is
    already archived under another raw document is recorded as a content
    duplicate of that article instead. Returns the ids touched.
    """
    raw_col, hash_col = ARTICLE_COLUMNS.index("raw_document_id"), ARTICLE_COLUMNS.index("content_hash")
    rows = sorted(rows, key=lambda r: r[raw_col])  # article ids follow raw document order (ingestion)
    with conn, conn.cursor() as cur:
        # One loader at a time inserts articles: batches loading in parallel may hold the same
        # content in opposite orders, and with the lock the dedup below cannot race. The lock
        # is held from here to commit (a fraction of a second per batch).
        waited = time.perf_counter()
        take_lock(cur, "load")
        waited = time.perf_counter() - waited
        hashes = sorted({r[hash_col] for r in rows})
        cur.execute(CONTENT_HASH_LOOKUP, (hashes,))
        existing = {h: (aid, raw) for h, aid, raw in cur.fetchall()}
        fresh: list[tuple] = []
        first_of: dict[str, int] = {}  # content hash -> raw id of its first copy in this batch
        duplicate_of: list[tuple[int, str]] = []  # (raw id, content hash) stored once already
        for row in rows:
            raw_id, content_hash = row[raw_col], row[hash_col]
            if content_hash in existing:
                if existing[content_hash][1] != raw_id:  # (a retried batch finds its own rows)
                    duplicate_of.append((raw_id, content_hash))
            elif content_hash in first_of:
                duplicate_of.append((raw_id, content_hash))
            else:
                first_of[content_hash] = raw_id
                fresh.append(row)
        inserted: list[int] = []
        if fresh:
            # Ids drawn up front (in raw document order) and written by the COPY, so nothing
            # has to be read back; straight into the table: no staging copy, no INSERT ... SELECT.
            cur.execute("SELECT nextval(pg_get_serial_sequence('archive.articles', 'id')) AS id "
                        "FROM generate_series(1, %s) ORDER BY id", (len(fresh),))
            inserted = [r[0] for r in cur.fetchall()]
            _copy_rows(cur, "archive.articles", ("id", *ARTICLE_COLUMNS),
                       ((aid, *row) for aid, row in zip(inserted, fresh, strict=True)))
            existing.update({row[hash_col]: (aid, row[raw_col]) for aid, row in zip(inserted, fresh, strict=True)})
        duplicates: list[int] = []
        if duplicate_of:
            result = psycopg2.extras.execute_values(
                cur,
                """INSERT INTO archive.content_duplicates (raw_document_id, article_id, run_id) VALUES %s
                   ON CONFLICT (raw_document_id) DO NOTHING RETURNING raw_document_id""",
                [(raw_id, existing[h][0], run_id) for raw_id, h in duplicate_of], fetch=True,
            )
            duplicates = [r[0] for r in result]
        if quarantined:
            psycopg2.extras.execute_values(
                cur,
                """INSERT INTO archive.quarantine
                       (raw_document_id, stage, reason_codes, message, failed_expectations, parser_version, run_id)
                   VALUES %s
                   ON CONFLICT (raw_document_id) DO UPDATE SET stage = EXCLUDED.stage,
                       reason_codes = EXCLUDED.reason_codes, message = EXCLUDED.message,
                       failed_expectations = EXCLUDED.failed_expectations,
                       parser_version = EXCLUDED.parser_version, run_id = EXCLUDED.run_id,
                       quarantined_at = now()""",
                [
                    (q.raw_id, q.stage, q.reason_codes, q.message, json.dumps(q.failed_expectations, default=str),
                     q.parser_version, run_id)
                    for q in quarantined
                ],
            )
    return {"inserted": inserted, "content_duplicates": duplicates, "lock_wait_seconds": waited}


SEARCH_VECTOR = ("setweight(to_tsvector('english', coalesce(a.title, '')), 'A') || "
                 "setweight(to_tsvector('english', coalesce(a.body, '')), 'B')")


def index_search(conn, article_ids: list[int] | None = None) -> int:
    """Full-text vectors for the articles (all, or `article_ids`) that have none yet; idempotent.

    Returns how many were indexed. The loading task indexes its own articles; the link
    task calls it without ids to catch any a failed task left out.
    """
    if article_ids is not None and not article_ids:
        return 0
    only = "AND a.id = ANY(%(ids)s)" if article_ids is not None else ""
    with conn, conn.cursor() as cur:
        cur.execute(
            f"""INSERT INTO archive.article_search (article_id, search)
                SELECT a.id, {SEARCH_VECTOR} FROM archive.articles a
                WHERE NOT EXISTS (SELECT 1 FROM archive.article_search s WHERE s.article_id = a.id) {only}
                ON CONFLICT (article_id) DO NOTHING""",
            {"ids": article_ids},
        )
        return cur.rowcount


def record_validation(conn, run_id: str, batch_key: str, suite: str, results: list[dict]) -> None:
    """Store one validation's expectation results, replacing a retried batch's."""
    with conn, conn.cursor() as cur:
        cur.execute(
            "DELETE FROM archive.validation_results WHERE run_id = %s AND batch_key = %s AND suite = %s",
            (run_id, batch_key, suite),
        )
        if results:
            psycopg2.extras.execute_values(
                cur,
                """INSERT INTO archive.validation_results
                       (run_id, batch_key, suite, expectation, column_name, severity, success,
                        element_count, unexpected_count, unexpected_sample, details)
                   VALUES %s""",
                [
                    (run_id, batch_key, suite, r["expectation"], r.get("column"), r["severity"], r["success"],
                     r.get("element_count"), r.get("unexpected_count"),
                     json.dumps(r.get("unexpected_sample", []), default=str),
                     json.dumps(r.get("details", {}), default=str))
                    for r in results
                ],
            )
