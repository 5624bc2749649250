"""Settings read from environment variables, each with a documented default.

Every knob of the pipeline lives here so that the DAG, the command line and the
tests agree on one set of names. The table in README.md ("Configuration") lists
them; `.env.example` shows a deployment's values.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import quote

REPO_ROOT = Path(__file__).resolve().parents[2]
CONN_ID = "news_archive"

# Airflow settings under which every task inherits Great Expectations and the rest from a
# long-lived parent instead of importing them (news_archive.preload): the scheduler's
# LocalExecutor forks its workers from a forkserver that imports them first, and a Celery
# worker imports them before it forks its pool. docker/docker-compose.yml and scripts/env.sh
# set them; tests/test_docker.py checks the compose file against this.
PRELOAD_SETTINGS = {
    "AIRFLOW__SCHEDULER__MP_START_METHOD": "forkserver",
    "AIRFLOW__SCHEDULER__MP_FORKSERVER_PRELOAD": "airflow,airflow.executors.local_executor,news_archive.preload",
    "AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS": "news_archive.celery_config.CELERY_CONFIG",
}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def _env_date(name: str, default: str) -> date:
    value = os.environ.get(name) or default
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValueError(f"{name}={value!r} is not an ISO date (YYYY-MM-DD)") from exc


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else default


@dataclass(frozen=True)
class Settings:
    """A snapshot of the environment; build one with `Settings.from_env()`."""

    inbox: Path
    claimed_dir: Path
    processed_dir: Path
    quarantine_dir: Path
    batch_size: int = 5000
    max_bytes: int = 5 * 1024 * 1024
    min_body_words: int = 15  # a shorter body is no article (quarantined: body_too_short)
    short_body_words: int = 50  # a shorter body loads with a short_body warning (wire briefs)
    min_date: date = date(1800, 1, 1)  # earliest plausible published date (archives go back far)
    quarantine_threshold: float = 0.20
    claim_ttl_seconds: int = 3600
    max_files_per_run: int = 20000
    data_docs_dir: Path = field(default_factory=lambda: REPO_ROOT / "data" / "data_docs")
    data_docs_keep_days: int = 90  # every run's Data Docs pages are kept this long

    @classmethod
    def from_env(cls) -> Settings:
        inbox = _env_path("NEWS_ARCHIVE_INBOX", REPO_ROOT / "data" / "inbox")
        base = inbox.parent
        return cls(
            inbox=inbox,
            claimed_dir=_env_path("NEWS_ARCHIVE_CLAIMED_DIR", base / "claimed"),
            processed_dir=_env_path("NEWS_ARCHIVE_PROCESSED_DIR", base / "processed"),
            quarantine_dir=_env_path("NEWS_ARCHIVE_QUARANTINE_DIR", base / "quarantine"),
            batch_size=_env_int("NEWS_ARCHIVE_BATCH_SIZE", 5000),
            max_bytes=_env_int("NEWS_ARCHIVE_MAX_BYTES", 5 * 1024 * 1024),
            min_body_words=_env_int("NEWS_ARCHIVE_MIN_BODY_WORDS", 15),
            short_body_words=_env_int("NEWS_ARCHIVE_SHORT_BODY_WORDS", 50),
            min_date=_env_date("NEWS_ARCHIVE_MIN_DATE", "1800-01-01"),
            quarantine_threshold=_env_float("NEWS_ARCHIVE_QUARANTINE_THRESHOLD", 0.20),
            claim_ttl_seconds=_env_int("NEWS_ARCHIVE_CLAIM_TTL_SECONDS", 3600),
            max_files_per_run=_env_int("NEWS_ARCHIVE_MAX_FILES_PER_RUN", 20000),
            data_docs_dir=_env_path("NEWS_ARCHIVE_DATA_DOCS_DIR", base / "data_docs"),
            data_docs_keep_days=_env_int("NEWS_ARCHIVE_DATA_DOCS_KEEP_DAYS", 90),
        )


def _uri_from_airflow_json(raw: str) -> str:
    """Airflow also accepts connections as JSON; turn one into a libpq URI."""
    spec = json.loads(raw)
    user = quote(spec.get("login") or "", safe="")
    password = quote(spec.get("password") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = spec.get("host") or ""
    port = f":{spec['port']}" if spec.get("port") else ""
    schema = spec.get("schema") or ""
    return f"postgresql://{auth}{host}{port}/{schema}"


def database_url() -> str | None:
    """The archive's libpq URI outside Airflow, or None when none is configured.

    `NEWS_ARCHIVE_DSN` wins; otherwise the Airflow connection given as the
    environment variable `AIRFLOW_CONN_NEWS_ARCHIVE` (URI or JSON form).
    """
    dsn = os.environ.get("NEWS_ARCHIVE_DSN")
    if dsn:
        return dsn
    conn = os.environ.get("AIRFLOW_CONN_NEWS_ARCHIVE")
    if not conn:
        return None
    if conn.lstrip().startswith("{"):
        return _uri_from_airflow_json(conn)
    # Airflow spells the scheme "postgres://" in some docs; libpq wants postgresql://
    if conn.startswith("postgres://"):
        conn = "postgresql://" + conn[len("postgres://") :]
    return conn


def airflow_conn_json(dsn: str) -> str:
    """A libpq URI as an Airflow connection in JSON form (keeps socket hosts intact)."""
    from psycopg2.extensions import parse_dsn

    parts = parse_dsn(dsn)
    spec = {
        "conn_type": "postgres",
        "host": parts.get("host", ""),
        "login": parts.get("user", ""),
        "password": parts.get("password", ""),
        "schema": parts.get("dbname", ""),
    }
    if parts.get("port"):
        spec["port"] = int(parts["port"])
    return json.dumps(spec)
