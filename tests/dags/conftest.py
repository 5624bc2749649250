"""The DAG tier's fixtures: one DagBag for the session, the archive as an Airflow connection."""

from __future__ import annotations

import pytest

from tests.conftest import REPO


@pytest.fixture(scope="session")
def dagbag(airflow_db):
    """The dags/ folder parsed once per session, as the DAG processor parses it."""
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


@pytest.fixture
def news_ingest_dag(dagbag):
    dag = dagbag.get_dag("news_ingest")
    assert dag is not None, dagbag.import_errors
    return dag


@pytest.fixture
def airflow_archive(airflow_db, dsn, workdir, monkeypatch):
    """The test database as the Airflow connection `news_archive`, and the test inbox."""
    from news_archive.config import airflow_conn_json

    monkeypatch.setenv("AIRFLOW_CONN_NEWS_ARCHIVE", airflow_conn_json(dsn))
    return dsn, workdir / "inbox"
