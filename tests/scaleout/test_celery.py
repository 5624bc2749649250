"""Scale-out: the unchanged DAG under CeleryExecutor with two workers.

A real api-server, scheduler, dag-processor and two Celery workers (a Redis broker the
test starts on a free port, Airflow metadata in a throw-away Postgres database, on the
configured server or the embedded one) run one DAG run
over 500 files. Every file must be loaded exactly once, and both workers must have run
mapped batches. Slow (about two minutes), marked `slow`, and run in CI.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devkit import evaluation
from devkit.databases import with_dbname
from news_archive.config import airflow_conn_json
from tests.conftest import REPO, fetch

pytestmark = pytest.mark.slow

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis_url(tmp_path):
    """A Redis of the test's own, on a free port (NEWS_ARCHIVE_TEST_REDIS_URL names another).

    scripts/test.sh installs Debian's redis-server when it is missing."""
    if url := os.environ.get("NEWS_ARCHIVE_TEST_REDIS_URL"):
        yield url
        return
    server = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.path.exists(server):
        pytest.fail("redis-server is missing: scripts/test.sh installs it (apt-get install redis-server)")
    port = _free_port()
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    pytest.fail("redis-server did not start")
                time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture
def metadata_db(databases) -> str:
    dsn = databases.create(migrate=False)
    # a SQLAlchemy URL of the same database; a Unix socket (the embedded server) goes in
    # the query, as libpq's host=, not in the URL's host
    from news_archive.store.db import sqlalchemy_url

    return sqlalchemy_url(dsn)


def test_the_dag_runs_unchanged_on_two_celery_workers(metadata_db, dsn, tmp_path, redis_url):
    home = tmp_path / "airflow"
    home.mkdir()
    inbox = tmp_path / "data" / "inbox"
    inbox.mkdir(parents=True)
    names = []
    for aid, title, body in evaluation.generated_articles(500, seed=77):
        (inbox / f"{aid}.txt").write_text(f"{title}\n\n{body}\n")
        names.append(f"{aid}.txt")

    port = _free_port()
    env = dict(os.environ)
    for key in [k for k in env if k.startswith("AIRFLOW__")]:
        env.pop(key)
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_db,
        "AIRFLOW__CELERY__BROKER_URL": redis_url,
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + metadata_db.replace("+psycopg2", ""),
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
        "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "5",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW_CONN_NEWS_ARCHIVE": airflow_conn_json(dsn),
        "NEWS_ARCHIVE_INBOX": str(inbox),
        "NEWS_ARCHIVE_BATCH_SIZE": "25",  # 20 mapped batches to share between the workers
        "NEWS_ARCHIVE_SCHEDULE": "manual",
        "GX_ANALYTICS_ENABLED": "false",
    })
    airflow = [sys.executable, "-m", "airflow"]
    out = subprocess.run([*airflow, "db", "migrate"], env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]

    procs: list[subprocess.Popen] = []
    logs: dict[str, Path] = {}

    def start(name: str, *args: str, **extra: str) -> None:
        logs[name] = tmp_path / f"{name}.log"
        procs.append(subprocess.Popen([*airflow, *args], env={**env, **extra}, stdout=open(logs[name], "w"),  # noqa: SIM115
                                      stderr=subprocess.STDOUT))

    def tail() -> str:
        return "\n".join(f"--- {n}\n{p.read_text()[-2500:]}" for n, p in logs.items())

    try:
        start("api-server", "api-server", "--port", str(port), "--host", "127.0.0.1")
        start("dag-processor", "dag-processor")
        start("scheduler", "scheduler")
        start("worker1", "celery", "worker", "--celery-hostname", "worker1@%h",
              AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(_free_port()))
        start("worker2", "celery", "worker", "--celery-hostname", "worker2@%h",
              AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(_free_port()))

        meta = with_dbname(dsn, __import__("sqlalchemy").engine.make_url(metadata_db).database)
        deadline = time.time() + 240
        while not fetch(meta, "SELECT 1 FROM dag WHERE dag_id = 'news_ingest'"):
            assert time.time() < deadline, "the DAG was never parsed\n" + tail()
            assert all(p.poll() is None for p in procs), "a component died\n" + tail()
            time.sleep(2)

        out = subprocess.run([*airflow, "dags", "trigger", "news_ingest", "--run-id", "celery-500", "--output", "json"],
                             env=env, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr[-3000:]

        deadline = time.time() + 600
        state = None
        while state not in ("success", "failed"):
            assert time.time() < deadline, f"run still {state}\n" + tail()
            assert all(p.poll() is None for p in procs), "a component died\n" + tail()
            time.sleep(3)
            rows = fetch(meta, "SELECT state FROM dag_run WHERE dag_id = 'news_ingest' AND run_id = 'celery-500'")
            state = rows[0][0] if rows else None
        assert state == "success", tail()

        hosts = fetch(meta, """SELECT hostname, count(*) FROM task_instance
                               WHERE dag_id = 'news_ingest' AND run_id = 'celery-500'
                                 AND task_id = 'process_batch' AND state = 'success' GROUP BY hostname""")
        batches = fetch(meta, """SELECT count(*) FROM task_instance WHERE dag_id = 'news_ingest'
                                 AND run_id = 'celery-500' AND task_id = 'process_batch'""")[0][0]
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()

    assert batches == 20
    # both workers ran mapped batches (the hostname Celery ran each task on)
    # ("Executing workload in Celery: ... log_path='dag_id=news_ingest/.../task_id=process_batch/map_index=N")
    ran = {n: sum(1 for line in logs[n].read_text().splitlines()
                  if "Executing workload" in line and "task_id=process_batch/" in line)
           for n in ("worker1", "worker2")}
    assert all(ran.values()) and sum(ran.values()) == 20, (ran, hosts)

    # every file loaded exactly once
    assert fetch(dsn, "SELECT count(*), count(DISTINCT raw_document_id) FROM archive.articles") == [(500, 500)]
    assert fetch(dsn, "SELECT count(*), count(DISTINCT file_name) FROM archive.deliveries") == [(500, 500)]
    assert fetch(dsn, "SELECT count(*) FROM archive.quarantine") == [(0,)]
    processed = sorted(p.name for p in (inbox.parent / "processed").rglob("*.txt"))
    assert processed == sorted(names)
    history = fetch(dsn, "SELECT status, files_seen, loaded FROM archive.ingest_runs")
    assert history == [("success", 500, 500)], json.dumps(history)
