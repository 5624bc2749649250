"""What an analyst gets: the analytics views, full-text search, the example queries
in sql/queries/ (each one run here as the analyst role), and what the roles may not do."""

from __future__ import annotations

import psycopg2
import pytest

from devkit import evaluation
from news_archive import pipeline, store
from tests.conftest import REPO, SEED_000, SEED_001, fetch, put_samples

QUERIES = sorted((REPO / "sql" / "queries").glob("*.sql"))


@pytest.fixture
def archive(conn, dsn, settings):
    put_samples(settings.inbox)
    for aid, title, body in evaluation.generated_articles(6, seed=2):
        (settings.inbox / f"{aid}.txt").write_text(f"{title}\n\n{body}\n")
    (settings.inbox / "too-short.txt").write_text("A headline\n\nOnly a few words here.\n")
    pipeline.run_once(conn, settings, "analytics-run", database_url=store.db.sqlalchemy_url(dsn))
    return dsn


def _as_role(dsn: str, role: str, sql: str, params=None):
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SET ROLE {role}")
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else cur.rowcount
    finally:
        conn.rollback()
        conn.close()


def test_every_example_query_runs_as_the_analyst_and_answers(archive):
    assert [q.name for q in QUERIES] == [
        "01_search_ranked.sql", "02_story_timeline.sql", "03_link_diff.sql", "04_links_with_titles.sql",
        "05_quarantine_reasons.sql", "06_run_history.sql"]
    answers = {q.name: _as_role(archive, "news_archive_analyst", q.read_text()) for q in QUERIES}
    for name, rows in answers.items():
        assert rows, f"{name} returned nothing"

    # the ranked search finds both seeds, the one with the words in its title first
    titles = [r[2] for r in answers["01_search_ranked.sql"]]
    assert len(titles) == 1  # one story: the latest version of the seeds' story
    timeline = answers["02_story_timeline.sql"]
    assert [(r[1], r[5]) for r in timeline] == [(1, None), (2, timeline[1][5])]
    assert timeline[1][5] in ("paraphrase", "condensed")
    ops = [r[1] for r in answers["03_link_diff.sql"]]
    assert set(ops) <= {"kept", "changed", "added", "removed"} and "changed" in ops
    assert answers["05_quarantine_reasons.sql"][0][:3] == ("body_too_short", 1, "too-short.txt")
    assert answers["06_run_history.sql"][0][0] == "analytics-run"


def test_current_articles_and_story_timeline_follow_the_versions(archive):
    seeds = fetch(archive, """SELECT article_id, story_id FROM analytics.articles
                              WHERE file_name IN (%s, %s) ORDER BY file_name""", (SEED_000, SEED_001))
    (a0, story), (a1, story1) = seeds
    assert story == story1
    current = fetch(archive, "SELECT article_id, versions FROM analytics.current_articles WHERE story_id = %s",
                    (story,))
    # 000 has no date: versions follow ingestion order, as the link's direction does; 001 is the latest
    assert current == [(a1, 2)]
    links = fetch(archive, """SELECT parent_article_id, parent_title, child_article_id, child_title, relation
                              FROM analytics.version_links""")
    assert [(p, c) for p, _, c, _, _ in links] == [(a0, a1)]
    assert links[0][1].startswith("Russia Orders U.S. Diplomats")


def test_full_text_search_uses_the_gin_index_and_weights_titles_first(archive):
    plan = fetch(archive, """SET enable_seqscan = off;
                             EXPLAIN SELECT article_id FROM archive.article_search
                             WHERE search @@ websearch_to_tsquery('english', 'diplomats')""")
    assert "article_search_idx" in "\n".join(r[0] for r in plan)
    # every article is indexed by the end of the run
    assert fetch(archive, """SELECT count(*) FROM archive.articles a
                             LEFT JOIN archive.article_search s ON s.article_id = a.id WHERE s.search IS NULL""") == [(0,)]
    ranked = fetch(archive, """SELECT file_name, ts_rank(search, q) FROM analytics.articles,
                                      websearch_to_tsquery('english', 'russia') q
                               WHERE search @@ q ORDER BY 2 DESC""")
    assert ranked[0][0] == SEED_000  # "Russia" is in 000's title (weight A), only in 001's body


def test_the_analyst_can_neither_write_nor_read_raw_documents(archive):
    for sql in ("SELECT content FROM archive.raw_documents LIMIT 1",
                "SELECT * FROM archive.articles LIMIT 1",
                "SELECT * FROM archive.quarantine LIMIT 1"):
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            _as_role(archive, "news_archive_analyst", sql)
    for sql in ("DELETE FROM analytics.refused_files",  # single-table views are updatable: privileges stop it
                "UPDATE analytics.ingest_runs SET status = 'failed'",
                "INSERT INTO archive.ingest_runs (run_id) VALUES ('x')",
                "CREATE TABLE analytics.mine (x int)"):
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            _as_role(archive, "news_archive_analyst", sql)
    columns = {r[0] for r in fetch(archive, """SELECT column_name FROM information_schema.columns
                                               WHERE table_schema = 'analytics'""")}
    assert "content" not in columns


def test_the_loader_writes_the_archive_but_raw_bytes_stay_append_only(archive):
    assert _as_role(archive, "news_archive_loader",
                    "INSERT INTO archive.ingest_runs (run_id) VALUES ('loader-run')") == 1
    with pytest.raises(psycopg2.errors.InsufficientPrivilege, match="append-only"):
        _as_role(archive, "news_archive_loader", "UPDATE archive.raw_documents SET original_name = 'x'")
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        _as_role(archive, "news_archive_loader", "DROP TABLE archive.articles")


def test_roles_and_views_survive_migrating_again(archive):
    conn = store.db.connect(archive)
    assert store.schema.migrate(conn) == []
    conn.close()
    assert _as_role(archive, "news_archive_analyst", "SELECT count(*) FROM analytics.articles")[0][0] == 8
