"""The Great Expectations gate: row-level quarantine, results in Postgres, the threshold."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import pytest

from news_archive import pipeline, quality
from tests.conftest import fetch

GOOD_BODY = " ".join(f"Sentence number {i} tells the council budget story in plain words." for i in range(12))


def _doc(title: str, body: str = GOOD_BODY, header: str = "") -> bytes:
    return f"{header}{title}\n\n{body}\n".encode()


def test_known_bad_rows_are_quarantined_and_the_rest_loads(conn, dsn, settings):
    files = {
        "good-1.txt": _doc("Council approves the budget"),
        "good-2.txt": _doc("Mayor welcomes the council vote", GOOD_BODY.replace("council", "city")),
        "future.txt": _doc("Budget from the future", GOOD_BODY.replace("plain", "future"), "Date: 2999-01-01\n"),
        "ancient.txt": _doc("Budget from long ago", GOOD_BODY.replace("plain", "ancient"), "Date: 1799-05-05\n"),
        "tags.txt": _doc("Council <b>approves</b> budget", GOOD_BODY.replace("plain", "tagged")),
        "replacement.txt": _doc("Garbled budget story", GOOD_BODY.replace("e", "\ufffd")),
        "short-title.txt": _doc("Hi", GOOD_BODY.replace("plain", "short")),
    }
    for name, data in files.items():
        (settings.inbox / name).write_bytes(data)
    result = pipeline.run_once(conn, settings, "gx-run")
    # 5 of 7 quarantined is over the 20% threshold: the run fails, but only after loading the good rows
    assert result["status"] == "failed"
    loaded = sorted(n for (n,) in fetch(dsn, """SELECT r.original_name FROM archive.articles a
                                                JOIN archive.raw_documents r ON r.id = a.raw_document_id"""))
    assert loaded == ["good-1.txt", "good-2.txt"]
    reasons = dict(fetch(dsn, """SELECT r.original_name, q.reason_codes FROM archive.quarantine q
                                 JOIN archive.raw_documents r ON r.id = q.raw_document_id"""))
    assert reasons == {
        "future.txt": ["date_out_of_range"],
        "ancient.txt": ["date_out_of_range"],
        "tags.txt": ["html_in_title"],
        "replacement.txt": ["replacement_characters"],
        "short-title.txt": ["title_length"],
    }
    (message, failed) = fetch(dsn, """SELECT q.message, q.failed_expectations FROM archive.quarantine q
                                      JOIN archive.raw_documents r ON r.id = q.raw_document_id
                                      WHERE r.original_name = 'future.txt'""")[0]
    assert "not in the future" in message and "2999-01-01" in message
    assert failed[0]["expectation"] == "expect_column_values_to_be_between"
    results = fetch(dsn, """SELECT expectation, column_name, success, unexpected_count FROM archive.validation_results
                            WHERE run_id = 'gx-run' ORDER BY expectation, column_name""")
    by_column = {(e, c): (s, n) for e, c, s, n in results}
    assert by_column[("expect_column_values_to_be_between", "published_at")] == (False, 2)
    assert by_column[("expect_column_value_lengths_to_be_between", "title")] == (False, 1)
    assert by_column[("expect_column_values_to_not_be_null", "title")] == (True, 0)
    (error,) = fetch(dsn, "SELECT error FROM archive.ingest_runs WHERE run_id = 'gx-run'")[0]
    assert "5 of 7 documents quarantined" in error
    # the quarantined files went to quarantine/, the good ones to processed/
    assert sorted(p.name for p in (settings.quarantine_dir).rglob("*.txt")) == sorted(
        n for n in files if not n.startswith("good"))


def test_a_batch_under_the_threshold_succeeds(conn, dsn, settings):
    for i in range(9):
        (settings.inbox / f"ok-{i}.txt").write_bytes(_doc(f"Council story {i}", GOOD_BODY.replace("plain", f"p{i}")))
    (settings.inbox / "short.txt").write_bytes(_doc("Too short a story", "only a few words here"))
    result = pipeline.run_once(conn, settings, "gx-ok")
    assert result["status"] == "success"
    assert fetch(dsn, "SELECT reason_codes, stage FROM archive.quarantine") == [(["body_too_short"], "parse")]


def test_duplicate_content_in_a_batch_loads_once(conn, dsn, settings):
    (settings.inbox / "a.txt").write_bytes(_doc("Council approves the budget"))
    (settings.inbox / "b.txt").write_bytes(_doc("Council approves the budget").replace(b"\n", b"\r\n"))
    result = pipeline.run_once(conn, settings, "dup-run")
    assert result["status"] == "success"
    assert fetch(dsn, "SELECT count(*) FROM archive.articles")[0][0] == 1
    assert fetch(dsn, "SELECT count(*) FROM archive.content_duplicates")[0][0] == 1
    (ok, n) = fetch(dsn, """SELECT success, unexpected_count FROM archive.validation_results
                            WHERE column_name = 'content_hash'""")[0]
    assert (ok, n) == (False, 2)


def test_post_load_suite_fails_on_an_orphaned_version_link(conn, dsn, settings):
    from news_archive import store
    from tests.conftest import put_samples

    put_samples(settings.inbox)
    assert pipeline.run_once(conn, settings, "clean", store.db.sqlalchemy_url(dsn))["status"] == "success"
    ok = fetch(dsn, "SELECT count(*), bool_and(success) FROM archive.validation_results WHERE batch_key = 'post_load'")
    assert ok == [(3, True)]
    # corrupt the archive on purpose: a link to an article that does not exist (constraints bypassed)
    with conn, conn.cursor() as cur:
        cur.execute("SET session_replication_role = replica")
        cur.execute("""INSERT INTO archive.version_links (parent_article_id, child_article_id, relation, method_version)
                       VALUES (1, 424242, 'duplicate', 'test')""")
        cur.execute("SET session_replication_role = DEFAULT")
    store.runs.start_run(conn, "check-run")
    with pytest.raises(pipeline.PostLoadCheckFailed, match="no version link points to a missing article"):
        pipeline.check_step(conn, store.db.sqlalchemy_url(dsn), settings, "check-run")
    rows = fetch(dsn, """SELECT details->>'description', success, unexpected_count, unexpected_sample
                         FROM archive.validation_results WHERE run_id = 'check-run' ORDER BY id""")
    failed = [r for r in rows if not r[1]]
    assert len(rows) == 3 and len(failed) == 1
    assert failed[0][2] == 1 and failed[0][3][0]["child_article_id"] == 424242
    assert (settings.data_docs_dir / "index.html").exists()


def _check_step(dsn, settings, run_id: str) -> dict:
    from news_archive import store

    conn = store.db.connect(dsn)
    try:
        return pipeline.check_step(conn, store.db.sqlalchemy_url(dsn), settings, run_id)
    finally:
        conn.close()


def test_batch_results_are_rendered_into_data_docs_once_per_run(conn, dsn, settings):
    """Batches save their GX results; the run's check task renders every page at once."""
    from tests.conftest import put_samples

    put_samples(settings.inbox)
    for i in range(3):
        (settings.inbox / f"extra-{i}.txt").write_bytes(_doc(f"Extra article number {i}"))
    import dataclasses

    settings = dataclasses.replace(settings, batch_size=2)
    batches = pipeline.claim_step(conn, settings, "docs")
    for batch in batches:
        pipeline.process_batch(conn, settings, "docs", batch)
    docs = settings.data_docs_dir
    pending = docs / quality.PENDING_DOCS
    assert len(list(pending.glob("*.json"))) == len(batches) == 3
    assert not list(docs.glob("validations/**/*.html"))  # nothing rendered per batch

    pipeline.link_step(conn, "docs")
    # In a fresh process, as Airflow runs each task: GX has no context yet there.
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        checked = pool.submit(_check_step, dsn, settings, "docs").result()
    assert (checked["checks"], checked["failed"]) == (3, 0)
    assert checked["seconds"]["import"] > 0  # that fresh process imported GX itself, and says how long it took
    pages = {p.relative_to(docs).parts[1:3] for p in docs.glob("validations/**/*.html")}
    assert pages == {("articles_pre_load", f"docs_batch-000{i}") for i in (1, 2, 3)} | {
        ("archive_post_load_articles", "docs_post_load"), ("archive_post_load_version_links", "docs_post_load")}
    assert (docs / "expectations" / "articles_pre_load.html").exists()
    index = (docs / "index.html").read_text()
    assert "docs_batch-0003" in index and "docs_post_load" in index
    assert not list(pending.glob("*.json"))


def _run_in_a_fresh_interpreter(dsn, settings, run_id: str) -> dict:
    """A whole run (the batch's suite, the post-load suite and their Data Docs) in a process
    that starts as a task's does, then what became there of the modules GX imports for
    expectations this suite does not use (quality.DEFERRED_MODULES)."""
    import sys

    from news_archive import store

    conn = store.db.connect(dsn)
    try:
        result = pipeline.run_once(conn, settings, run_id)
    finally:
        conn.close()
    # a module whose code ran holds the names it defines
    ran = {name: name in sys.modules and defined in vars(sys.modules[name])
           for name, defined in (("scipy.stats", "norm"), ("altair", "Chart"))}
    import altair as alt  # what an expectation that does need them would do
    import pandas as pd
    from scipy import stats

    chart = alt.Chart(pd.DataFrame({"day": [1, 2], "articles": [3, 4]})).mark_bar().encode(x="day", y="articles")
    return {"status": result["status"], "modules run by the run": ran,
            "norm.cdf(0)": float(stats.norm.cdf(0.0)), "chart": chart.to_dict()["encoding"]["x"]["field"]}


def test_a_run_never_pays_for_the_modules_it_does_not_use_and_they_still_work_when_used(dsn, settings):
    """GX's import runs scipy.stats and altair for an expectation this suite does not use
    (about a third of the import a task paid): quality.defer leaves each to its first use."""
    from tests.conftest import put_samples

    put_samples(settings.inbox)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        seen = pool.submit(_run_in_a_fresh_interpreter, dsn, settings, "lazy-modules").result()
    assert seen == {"status": "success", "modules run by the run": {"scipy.stats": False, "altair": False},
                    "norm.cdf(0)": 0.5, "chart": "day"}
    assert fetch(dsn, "SELECT count(*) FROM archive.validation_results WHERE run_id = 'lazy-modules'")[0][0] > 0
