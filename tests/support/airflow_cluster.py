"""A real Airflow deployment for the scale-out tests: api-server, dag-processor, scheduler
(and any workers) as separate processes, on a throw-away Airflow home and metadata database,
with the deployment's settings (news_archive.config.PRELOAD_SETTINGS among them)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

from news_archive.config import PRELOAD_SETTINGS, airflow_conn_json
from tests.conftest import REPO, fetch
from tests.support.apiserver import free_port


class AirflowCluster:
    """Start components with `start`, run the DAG with `run_dag`; `stop` (or the `with`
    block's end) terminates them all. `meta` is the metadata database's DSN (psycopg2)."""

    def __init__(self, tmp_path: Path, dsn: str, metadata_db: str, inbox: Path, **settings: str):
        from devkit.databases import with_dbname

        self.tmp_path = tmp_path
        home = tmp_path / "airflow"
        home.mkdir()
        self.port = free_port()
        self.meta = with_dbname(dsn, __import__("sqlalchemy").engine.make_url(metadata_db).database)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__")}
        env.update({
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.port}/execution/",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_db,
            "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW_CONN_NEWS_ARCHIVE": airflow_conn_json(dsn),
            "NEWS_ARCHIVE_INBOX": str(inbox),
            "NEWS_ARCHIVE_SCHEDULE": "manual",
            "GX_ANALYTICS_ENABLED": "false",
            **PRELOAD_SETTINGS,  # as docker/docker-compose.yml deploys it
            **settings,
        })
        self.env = env
        self.airflow = [sys.executable, "-m", "airflow"]
        self.procs: list[subprocess.Popen] = []
        self.logs: dict[str, Path] = {}
        out = subprocess.run([*self.airflow, "db", "migrate"], env=env, capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr[-3000:]

    def __enter__(self) -> AirflowCluster:
        self.start("api-server", "api-server", "--port", str(self.port), "--host", "127.0.0.1")
        self.start("dag-processor", "dag-processor")
        self.start("scheduler", "scheduler")
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self, name: str, *args: str, **extra: str) -> None:
        self.logs[name] = self.tmp_path / f"{name}.log"
        self.procs.append(subprocess.Popen([*self.airflow, *args], env={**self.env, **extra},
                                           stdout=open(self.logs[name], "w"),  # noqa: SIM115
                                           stderr=subprocess.STDOUT))

    def tail(self) -> str:
        return "\n".join(f"--- {n}\n{p.read_text()[-2500:]}" for n, p in self.logs.items())

    def run_dag(self, run_id: str, timeout: float = 600) -> str:
        """Trigger news_ingest once the DAG is parsed; its final state."""
        deadline = time.time() + 240
        while not fetch(self.meta, "SELECT 1 FROM dag WHERE dag_id = 'news_ingest'"):
            assert time.time() < deadline, "the DAG was never parsed\n" + self.tail()
            assert all(p.poll() is None for p in self.procs), "a component died\n" + self.tail()
            time.sleep(2)
        out = subprocess.run([*self.airflow, "dags", "trigger", "news_ingest", "--run-id", run_id, "--output", "json"],
                             env=self.env, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr[-3000:]
        deadline = time.time() + timeout
        state = None
        while state not in ("success", "failed"):
            assert time.time() < deadline, f"run still {state}\n" + self.tail()
            assert all(p.poll() is None for p in self.procs), "a component died\n" + self.tail()
            time.sleep(3)
            rows = fetch(self.meta, "SELECT state FROM dag_run WHERE dag_id = 'news_ingest' AND run_id = %s",
                         (run_id,))
            state = rows[0][0] if rows else None
        return state

    def stop(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
