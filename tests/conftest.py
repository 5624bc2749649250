"""Shared fixtures: a real PostgreSQL (throw-away databases) and an Airflow home.

`NEWS_ARCHIVE_TEST_ADMIN_DSN` names a server to create databases on (CI sets it
to the local PostgreSQL); unset, the embedded server in .devdb/ is started.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "data" / "samples"
SHARED = REPO.parent / "shared"
CORPORA = SHARED / "corpora"
SEED_000 = "000_6f48962354c83dfa.txt"
SEED_001 = "001_cfd06f4aef2e4722.txt"

# Airflow reads its configuration when first imported: set it up before any test does.
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="news-archive-airflow-"))
os.environ["AIRFLOW_HOME"] = str(_AIRFLOW_HOME)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags")
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(REPO / "plugins")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_AIRFLOW_HOME}/airflow.db"
os.environ["GX_ANALYTICS_ENABLED"] = "false"
os.environ.pop("NEWS_ARCHIVE_DSN", None)
os.environ.pop("AIRFLOW_CONN_NEWS_ARCHIVE", None)


@pytest.fixture(scope="session")
def admin_dsn() -> str:
    from devkit.databases import admin_dsn

    return admin_dsn("NEWS_ARCHIVE_TEST_ADMIN_DSN")


class DatabaseFactory:
    """Creates databases named news_archive_test_*, drops them at session end."""

    def __init__(self, admin: str):
        self.admin = admin
        self.created: list[str] = []

    def create(self, migrate: bool = True) -> str:
        from devkit.databases import create_database

        name = f"news_archive_test_{uuid.uuid4().hex[:10]}"
        self.created.append(name)
        return create_database(self.admin, name, migrate=migrate)

    def drop_all(self) -> None:
        from devkit.databases import drop_database

        for name in self.created:
            drop_database(self.admin, name)


@pytest.fixture(scope="session")
def databases(admin_dsn):
    factory = DatabaseFactory(admin_dsn)
    yield factory
    factory.drop_all()


@pytest.fixture
def dsn(databases) -> str:
    """A fresh, migrated database for one test."""
    return databases.create()


@pytest.fixture
def conn(dsn):
    from news_archive import store

    c = store.db.connect(dsn)
    yield c
    c.close()


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """An inbox with its sibling folders, wired through the environment."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    monkeypatch.setenv("NEWS_ARCHIVE_INBOX", str(inbox))
    return tmp_path


@pytest.fixture
def settings(workdir):
    from news_archive.config import Settings

    return Settings.from_env()


def built_speedups():
    """news_archive._speedups of the version the package expects: make install builds it (the
    machines this project runs on have a C compiler; without one the pure forms run alone)."""
    from news_archive import compiled

    try:
        from news_archive import _speedups as module
    except ImportError:
        pytest.fail("news_archive._speedups is not built: `make install` builds it (setup.py)")
    assert module.ABI_VERSION == compiled.ABI_VERSION, "news_archive._speedups is stale: run `make install`"
    return module


def put_samples(inbox: Path, names: list[str] | None = None) -> None:
    for path in sorted(SAMPLES.iterdir()):
        if names is None or path.name in names:
            shutil.copy(path, inbox / path.name)


@pytest.fixture(scope="session")
def airflow_db():
    """The Airflow metadata database (SQLite), migrated once per session."""
    result = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"], capture_output=True, text=True, env=os.environ.copy()
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return _AIRFLOW_HOME


def fetch(dsn: str, sql: str, params=None) -> list[tuple]:
    import psycopg2

    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        conn.close()


def run_concurrently(*calls):
    """Run each callable in its own thread, all released together; return their results in order.

    The first exception any of them raised is raised here, after every thread has finished.
    """
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    errors: list[BaseException] = []

    def runner(i: int, call) -> None:
        try:
            barrier.wait()
            results[i] = call()
        except BaseException as exc:  # noqa: BLE001  (re-raised below)
            errors.append(exc)

    threads = [threading.Thread(target=runner, args=(i, call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results
