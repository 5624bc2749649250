"""The deployment's default executor: the scheduler's LocalExecutor, with the preload settings
docker/docker-compose.yml sets (news_archive.config.PRELOAD_SETTINGS).

A real api-server, dag-processor and scheduler run one DAG run over 100 files in 4 mapped
batches. The scheduler starts its workers through a forkserver that imported
news_archive.preload, so every task process, forked from a worker, inherits Great
Expectations: each task records the seconds it spent importing it, and all must be 0. No
log gets GX's import-time chatter.
Slow (about half a minute), marked `slow`, and run in CI.
"""

from __future__ import annotations

import pytest

from devkit import evaluation
from tests.conftest import fetch
from tests.support.airflow_cluster import AirflowCluster

pytestmark = pytest.mark.slow


def test_tasks_inherit_great_expectations_from_the_local_executor(metadata_db, dsn, tmp_path):
    inbox = tmp_path / "data" / "inbox"
    inbox.mkdir(parents=True)
    for aid, title, body in evaluation.generated_articles(100, seed=78):
        (inbox / f"{aid}.txt").write_text(f"{title}\n\n{body}\n")

    with AirflowCluster(tmp_path, dsn, metadata_db, inbox, AIRFLOW__CORE__EXECUTOR="LocalExecutor",
                        NEWS_ARCHIVE_BATCH_SIZE="25") as cluster:
        assert cluster.run_dag("local-100") == "success", cluster.tail()
    scheduler_log = cluster.logs["scheduler"].read_text()
    assert "Set forkserver preload modules for scheduler" in scheduler_log, scheduler_log[-3000:]
    # Importing GX under Airflow's logging does not flood the scheduler's or the tasks' logs
    task_logs = [p for p in (tmp_path / "airflow" / "logs").rglob("*") if p.is_file()]
    assert any("process_batch" in str(p) for p in task_logs)
    for log in [cluster.logs["scheduler"], *task_logs]:
        assert "great_expectations._docs_decorators" not in log.read_text(errors="replace"), log

    assert fetch(dsn, "SELECT status, files_seen, loaded FROM archive.ingest_runs") == [("success", 100, 100)]
    imports = fetch(dsn, "SELECT batch_key, stats->'seconds'->>'import' FROM archive.run_batches ORDER BY 1")
    # 4 mapped batches and the post-load check: none imported Great Expectations itself
    assert len(imports) == 5 and {seconds for _, seconds in imports} == {"0.0"}, imports
