"""A gate for archives, not only for today's feed: real archive shapes through the real DAG.

The fixtures in tests/fixtures/gate/ are the shapes that real archives hold: a 1987 wire item
with tickers in angle brackets, a 20-word brief, a dump with no title line, and markup that
must still be refused (escaped tags in an HTML page, a script in a text file). Every file's
fate is then read from analytics.files as the analyst role.
"""

from __future__ import annotations

import shutil

import psycopg2

from devkit import evaluation
from tests.conftest import REPO, fetch

GATE = REPO / "tests" / "fixtures" / "gate"


def _as_analyst(dsn: str, sql: str) -> list[tuple]:
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SET ROLE news_archive_analyst")
            cur.execute(sql)
            return cur.fetchall()
    finally:
        conn.rollback()
        conn.close()


def test_archive_shapes_land_and_markup_is_still_refused(airflow_archive, news_ingest_dag):
    dsn, inbox = airflow_archive
    for path in GATE.iterdir():
        shutil.copy(path, inbox / path.name)
    # ordinary articles beside them, as in a real delivery (and under the quarantine threshold)
    for aid, title, body in evaluation.generated_articles(12, seed=41):
        (inbox / f"{aid}.txt").write_text(f"{title}\n\n{body}\n")
    # the same bytes again under another name, and the same content in other bytes
    shutil.copy(GATE / "brief_20_words.txt", inbox / "zz-brief-again.txt")
    (inbox / "zz-brief-crlf.txt").write_bytes((GATE / "brief_20_words.txt").read_bytes().replace(b"\n", b"\r\n"))

    run = news_ingest_dag.test()
    assert run.state == "success"

    articles = {name: (title, words, date, warnings) for name, title, words, date, warnings in fetch(
        dsn, """SELECT r.original_name, a.title, a.word_count, a.published_at::date::text,
                       ARRAY(SELECT w ->> 'reason' FROM jsonb_array_elements(a.quality_warnings) w ORDER BY 1)
                FROM archive.articles a JOIN archive.raw_documents r ON r.id = a.raw_document_id""")}
    # 1987, tickers in angle brackets: text, landed as written
    title, words, date, warnings = articles["wire_1987_ticker.txt"]
    assert title == "ST. JOE GOLD <SJG> TO DEVELOP MINE"
    assert date == "1987-03-09"
    (body,) = fetch(dsn, "SELECT body FROM analytics.articles WHERE file_name = 'wire_1987_ticker.txt'")[0]
    assert "<FLR>" in body and "<SKPS.ST>" in body
    # a 20-word brief: an article, with a short_body warning
    title, words, date, warnings = articles["brief_20_words.txt"]
    assert (title, words) == ("Dollar opens lower in Tokyo", 20)
    assert "short_body" in warnings
    # a headless paragraph: its first sentence is the title, flagged derived_title
    title, words, date, warnings = articles["headless_paragraph.txt"]
    assert title == ("The city council voted on Tuesday night to close two of its three public swimming pools "
                     "this summer, saying that repairs to the ageing filters would cost more than the town "
                     "could afford.")
    assert "derived_title" in warnings and "short_body" not in warnings

    # markup that survives into the body is still a critical failure
    reasons = dict(fetch(dsn, """SELECT r.original_name, q.reason_codes FROM archive.quarantine q
                                 JOIN archive.raw_documents r ON r.id = q.raw_document_id"""))
    assert reasons == {"markup_survives.html": ["html_in_body"], "markup_in_text.txt": ["html_in_body"]}

    # every file's fate, as the analyst sees it
    files = {name: (outcome, article, same_as, reasons) for name, outcome, article, same_as, reasons in _as_analyst(
        dsn, "SELECT file_name, outcome, article_id, same_as_file, reason_codes FROM analytics.files")}
    assert len(files) == 12 + 7
    brief_article = files["brief_20_words.txt"][1]
    assert files["brief_20_words.txt"][0] == "article" and brief_article is not None
    assert files["zz-brief-again.txt"] == ("same_bytes_as", brief_article, "brief_20_words.txt", None)
    assert files["zz-brief-crlf.txt"] == ("same_content_as", brief_article, "brief_20_words.txt", None)
    assert files["markup_survives.html"][0] == "quarantined"
    assert files["markup_survives.html"][3] == ["html_in_body"]
    assert sum(outcome == "article" for outcome, *_ in files.values()) == 12 + 3
