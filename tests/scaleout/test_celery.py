"""Scale-out: the unchanged DAG under CeleryExecutor with two workers.

A real api-server, scheduler, dag-processor and two Celery workers (a Redis broker the
test starts on a free port, Airflow metadata in a throw-away Postgres database, on the
configured server or the embedded one) run one DAG run
over 500 files. Every file must be loaded exactly once, both workers must have run
mapped batches, and no task may have imported Great Expectations itself (each worker
preloads it: news_archive.celery_config). Slow (about two minutes), marked `slow`, and
run in CI.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time

import pytest

from devkit import evaluation
from tests.conftest import fetch
from tests.support.airflow_cluster import AirflowCluster
from tests.support.apiserver import free_port

pytestmark = pytest.mark.slow


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
    port = free_port()
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


def test_the_dag_runs_unchanged_on_two_celery_workers(metadata_db, dsn, tmp_path, redis_url):
    inbox = tmp_path / "data" / "inbox"
    inbox.mkdir(parents=True)
    names = []
    for aid, title, body in evaluation.generated_articles(500, seed=77):
        (inbox / f"{aid}.txt").write_text(f"{title}\n\n{body}\n")
        names.append(f"{aid}.txt")

    with AirflowCluster(tmp_path, dsn, metadata_db, inbox,
                        AIRFLOW__CORE__EXECUTOR="CeleryExecutor",
                        AIRFLOW__CELERY__BROKER_URL=redis_url,
                        AIRFLOW__CELERY__RESULT_BACKEND="db+" + metadata_db.replace("+psycopg2", ""),
                        AIRFLOW__CELERY__WORKER_CONCURRENCY="2",
                        NEWS_ARCHIVE_BATCH_SIZE="25") as cluster:  # 20 mapped batches to share between the workers
        for worker in ("worker1", "worker2"):
            cluster.start(worker, "celery", "worker", "--celery-hostname", f"{worker}@%h",
                          AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(free_port()))
        assert cluster.run_dag("celery-500") == "success", cluster.tail()
        meta = cluster.meta
        hosts = fetch(meta, """SELECT hostname, count(*) FROM task_instance
                               WHERE dag_id = 'news_ingest' AND run_id = 'celery-500'
                                 AND task_id = 'process_batch' AND state = 'success' GROUP BY hostname""")
        batches = fetch(meta, """SELECT count(*) FROM task_instance WHERE dag_id = 'news_ingest'
                                 AND run_id = 'celery-500' AND task_id = 'process_batch'""")[0][0]

    assert batches == 20
    # both workers ran mapped batches (the hostname Celery ran each task on)
    # ("Executing workload in Celery: ... log_path='dag_id=news_ingest/.../task_id=process_batch/map_index=N")
    ran = {n: sum(1 for line in cluster.logs[n].read_text().splitlines()
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
    # each task inherited Great Expectations from its worker (news_archive.preload, imported
    # before the pool forked): none spent a moment importing it
    imports = fetch(dsn, "SELECT batch_key, stats->'seconds'->>'import' FROM archive.run_batches ORDER BY 1")
    assert len(imports) == 21 and {seconds for _, seconds in imports} == {"0.0"}, imports
