"""The DAG tier: it imports cleanly and cheaply, and a real run lands the seeds in Postgres."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from tests.conftest import REPO, SAMPLES, SEED_000, SEED_001, fetch, put_samples

HEAVY = ("great_expectations", "pandas", "bs4", "psycopg2", "news_archive.quality", "news_archive.parsing")


def test_dagbag_has_no_import_errors_and_follows_policy(dagbag):
    assert dagbag.import_errors == {}
    dag = dagbag.get_dag("news_ingest")
    assert dag is not None
    assert dag.doc_md and "When a run is red" in dag.doc_md
    assert dag.catchup is False
    assert dag.max_active_runs == 1
    assert dag.tags and "news_archive" in dag.tags
    for t in dag.tasks:
        assert t.retries >= 1, t.task_id
        assert t.owner == "data-platform"
    assert {t.task_id for t in dag.tasks} == {"claim_inbox", "process_batch", "link_versions", "check_archive", "finalize"}


def test_parsing_the_dag_file_does_no_heavy_imports_and_no_io(tmp_path):
    """Import the DAG file in a clean interpreter with an unreachable database and no inbox."""
    probe = f"""
import builtins, sys, socket
opened = []
real_open = builtins.open
def spy_open(file, *a, **k):
    opened.append(str(file)); return real_open(file, *a, **k)
def no_network(*a, **k):
    raise AssertionError("network access at parse time")
socket.socket.connect = no_network
import airflow.sdk  # Airflow itself may read its config; count only what the DAG file does
builtins.open = spy_open
sys.path.insert(0, {str(REPO / "plugins")!r})
import importlib.util
spec = importlib.util.spec_from_file_location("news_ingest", {str(REPO / "dags" / "news_ingest.py")!r})
module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)
builtins.open = real_open
heavy = [m for m in {HEAVY!r} if m in sys.modules]
print("HEAVY", heavy)
print("OPENED", [f for f in opened if "news_archive" in f or "inbox" in f or f.endswith((".txt", ".sql"))])
"""
    env = dict(os.environ, NEWS_ARCHIVE_INBOX=str(tmp_path / "missing-inbox"),
               AIRFLOW_CONN_NEWS_ARCHIVE="postgresql://nobody@192.0.2.1:1/none")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "HEAVY []" in out.stdout, out.stdout
    assert "OPENED []" in out.stdout, out.stdout
    assert not (tmp_path / "missing-inbox").exists()


def test_dag_run_loads_the_seeds_links_them_and_is_idempotent(airflow_archive, workdir, news_ingest_dag):
    dsn, inbox = airflow_archive
    put_samples(inbox)
    run = news_ingest_dag.test()
    assert run.state == "success"

    articles = fetch(dsn, """SELECT r.original_name, a.title, a.body, a.published_at::date::text, a.published_precision
                             FROM archive.articles a JOIN archive.raw_documents r ON r.id = a.raw_document_id
                             ORDER BY r.original_name""")
    assert len(articles) == 2
    (n0, t0, b0, d0, p0), (n1, t1, b1, d1, p1) = articles
    assert (n0, n1) == (SEED_000, SEED_001)
    assert t0 == "Russia Orders U.S. Diplomats in Country for Over 3 Years to Leave By January 31"
    assert d0 is None and p0 is None  # never invented from the clock
    assert t1 == ("Russian diplomats who have been in the country for more than three years "
                  "have been ordered to leave by January 31.")
    assert (d1, p1) == ("2021-12-01", "day")
    for text in (t1, b1):
        assert not text.lower().lstrip().startswith("date")
        assert "2021-12-01" not in text

    links = fetch(dsn, """SELECT rp.original_name, rc.original_name, l.relation
                          FROM archive.version_links l
                          JOIN archive.articles p ON p.id = l.parent_article_id
                          JOIN archive.raw_documents rp ON rp.id = p.raw_document_id
                          JOIN archive.articles c ON c.id = l.child_article_id
                          JOIN archive.raw_documents rc ON rc.id = c.raw_document_id""")
    assert len(links) == 1
    assert links[0][:2] == (SEED_000, SEED_001)
    assert links[0][2] in ("paraphrase", "condensed")

    # files left the inbox for processed/, and the run history says what happened
    assert sorted(os.listdir(inbox)) == []
    processed = [p.name for p in (workdir / "processed").rglob("*.txt")]
    assert sorted(processed) == [SEED_000, SEED_001]
    history = fetch(dsn, "SELECT status, files_seen, files_archived, loaded, links_made FROM archive.ingest_runs")
    assert history == [("success", 2, 2, 2, 1)]

    # the raw bytes read back byte for byte
    for name in (SEED_000, SEED_001):
        (content,) = fetch(dsn, "SELECT content FROM archive.raw_documents WHERE original_name = %s", (name,))[0]
        assert bytes(content) == (SAMPLES / name).read_bytes()

    def counts():
        return fetch(dsn, """SELECT (SELECT count(*) FROM archive.raw_documents), (SELECT count(*) FROM archive.articles),
                                    (SELECT count(*) FROM archive.version_links), (SELECT count(*) FROM archive.deliveries),
                                    (SELECT count(*) FROM archive.quarantine), (SELECT count(*) FROM archive.stories)""")[0]

    before = counts()
    # the same files again: no new rows
    put_samples(inbox)
    assert news_ingest_dag.test().state == "success"
    assert counts() == before

    # the same bytes under another name: a duplicate delivery of the archived document, not an article
    shutil.copy(SAMPLES / SEED_000, inbox / "copy-of-000.txt")
    assert news_ingest_dag.test().state == "success"
    raw, art, links_n, deliveries, quarantined, stories = counts()
    assert (raw, art, links_n, quarantined, stories) == (before[0], before[1], before[2], before[4], before[5])
    assert deliveries == before[3] + 1
    dup = fetch(dsn, """SELECT d.is_duplicate, r.original_name FROM archive.deliveries d
                        JOIN archive.raw_documents r ON r.id = d.raw_document_id WHERE d.file_name = 'copy-of-000.txt'""")
    assert dup == [(True, SEED_000)]
    runs = fetch(dsn, "SELECT files_seen, files_archived, duplicates, loaded FROM archive.ingest_runs ORDER BY started_at")
    assert runs[1:] == [(2, 0, 2, 0), (1, 0, 1, 0)]


def test_asset_and_connection_settings(airflow_db, news_ingest_dag):
    dag = news_ingest_dag
    finalize = dag.get_task("finalize")
    assert [o.name for o in finalize.outlets] == ["news_archive"]
    spec = json.loads(__import__("news_archive.config", fromlist=["x"]).airflow_conn_json(
        "postgresql://u:p@db.example:6543/arch"))
    assert spec == {"conn_type": "postgres", "host": "db.example", "login": "u", "password": "p",
                    "schema": "arch", "port": 6543}


def test_the_demo_script_prints_what_landed(airflow_db, databases, tmp_path):
    """`make demo`'s script, run as a user runs it, against a throw-away database."""
    dsn = databases.create(migrate=False)
    (airflow_db / ".migrated").touch()
    env = dict(os.environ, NEWS_ARCHIVE_DSN=dsn, AIRFLOW_HOME=str(airflow_db),
               NEWS_ARCHIVE_INBOX=str(tmp_path / "inbox"),
               PATH=f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}")
    env.pop("AIRFLOW_CONN_NEWS_ARCHIVE", None)
    out = subprocess.run(["bash", str(REPO / "scripts" / "demo.sh")], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "articles (2):" in out.stdout
    assert "version links (1):" in out.stdout
    assert f"[{SEED_000}] -> #2 [{SEED_001}]" in out.stdout
    assert "published: 2021-12-01" in out.stdout
    assert "published: NULL" in out.stdout


def test_a_batch_over_the_threshold_fails_after_loading_the_good_rows(airflow_archive, workdir, news_ingest_dag):
    dsn, inbox = airflow_archive
    put_samples(inbox)
    (inbox / "empty.txt").write_bytes(b"")
    run = news_ingest_dag.test()
    assert run.state == "failed"
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states["process_batch"] == "failed" and states["finalize"] == "failed"
    assert states["link_versions"] == "success"
    assert fetch(dsn, "SELECT count(*) FROM archive.articles")[0][0] == 2
    assert fetch(dsn, "SELECT count(*) FROM archive.version_links")[0][0] == 1
    assert fetch(dsn, "SELECT reason_codes FROM archive.quarantine") == [(["empty"],)]
    assert fetch(dsn, "SELECT count(*) FROM archive.validation_results WHERE batch_key = 'batch-0001'")[0][0] == 11
    (status, error) = fetch(dsn, "SELECT status, error FROM archive.ingest_runs")[0]
    assert status == "failed" and "1 of 3 documents quarantined" in error
    assert [p.name for p in (workdir / "quarantine").rglob("*.txt")] == ["empty.txt"]


def test_a_failed_run_calls_the_notifier_named_in_the_environment(airflow_archive, monkeypatch, tmp_path, news_ingest_dag):
    """No code change: NEWS_ARCHIVE_NOTIFIER names any Airflow notifier class."""
    dsn, inbox = airflow_archive
    sent = tmp_path / "notifications.jsonl"
    monkeypatch.setenv("NEWS_ARCHIVE_NOTIFIER", "tests.support.notifiers.FileNotifier")
    monkeypatch.setenv("NEWS_ARCHIVE_NOTIFIER_KWARGS", json.dumps({"path": str(sent)}))
    put_samples(inbox)
    (inbox / "empty.txt").write_bytes(b"")  # one of three quarantined: over the 20% threshold
    run = news_ingest_dag.test()
    assert run.state == "failed"
    notes = [json.loads(line) for line in sent.read_text().splitlines()]
    assert len(notes) == 1, notes  # one notification per failed run, not one per failed task
    assert notes[0]["run_id"] == run.run_id and notes[0]["dag_id"] == "news_ingest"
    assert notes[0]["task_id"] == "finalize" and notes[0]["reason"]
