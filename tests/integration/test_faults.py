"""Faults against the real Postgres: a connection killed mid-load, concurrent runs on
one inbox, a server restart between runs, a crash that empties the unlogged link keys, and
COPY control characters round-tripping.
(The crash after commit but before the move is in test_storage.py.)"""

from __future__ import annotations

import threading
import time

import psycopg2
import psycopg2.errors
import pytest

from devkit import evaluation
from news_archive import pipeline, store
from news_archive.parsing import Article, parse_document
from tests.conftest import fetch, run_concurrently


def _put_generated(inbox, n: int, seed: int = 4) -> list[str]:
    names = []
    for aid, title, body in evaluation.generated_articles(n, seed=seed):
        (inbox / f"{aid}.txt").write_text(f"{title}\n\n{body}\n")
        names.append(f"{aid}.txt")
    return names


def _archive_state(dsn: str) -> dict:
    return {
        "articles": sorted(r[0] for r in fetch(dsn, "SELECT content_hash FROM archive.articles")),
        "raw": sorted(r[0] for r in fetch(dsn, "SELECT sha256 FROM archive.raw_documents")),
        "quarantine": fetch(dsn, "SELECT count(*) FROM archive.quarantine")[0][0],
        "deliveries": fetch(dsn, "SELECT count(*) FROM archive.deliveries")[0][0],
    }


def test_a_connection_killed_mid_load_fails_the_task_and_its_retry_loads_exactly_once(databases, settings):
    dsn, clean_dsn = databases.create(), databases.create()
    _put_generated(settings.inbox, 300)

    # reference: a clean run of the same files, in another database
    files = {p.name: p.read_bytes() for p in settings.inbox.iterdir()}
    clean = store.db.connect(clean_dsn)
    pipeline.run_once(clean, settings, "clean", database_url=store.db.sqlalchemy_url(clean_dsn))
    clean.close()
    for name, content in files.items():
        (settings.inbox / name).write_bytes(content)

    conn = store.db.connect(dsn)
    conn.set_session(autocommit=False)
    with conn.cursor() as cur:
        cur.execute("SET application_name = 'victim-loader'")
    conn.commit()
    (batch,) = pipeline.claim_step(conn, settings, "faulty")

    # Hold a lock that the load's COPY must wait for, so it is caught mid-transaction
    # (its advisory lock and dedup query done, its rows pending), then kill its backend.
    blocker = psycopg2.connect(dsn)
    blocker.cursor().execute("LOCK TABLE archive.articles IN SHARE MODE")
    errors: list[BaseException] = []

    def load():
        try:
            pipeline.process_batch(conn, settings, "faulty", batch)
        except BaseException as exc:  # noqa: BLE001  (asserted below)
            errors.append(exc)

    worker = threading.Thread(target=load)
    worker.start()
    killer = psycopg2.connect(dsn)
    killer.autocommit = True
    waited = None
    for _ in range(600):
        waited = fetch(dsn, """SELECT pid, query FROM pg_stat_activity
                               WHERE application_name = 'victim-loader' AND wait_event_type = 'Lock'""")
        if waited:
            break
        time.sleep(0.05)
    assert waited, "the load never reached its COPY"
    assert waited[0][1].startswith("COPY archive.articles")  # the articles' COPY, waiting mid-transaction
    killer.cursor().execute("SELECT pg_terminate_backend(%s)", (waited[0][0],))
    blocker.rollback()
    blocker.close()
    worker.join(timeout=60)
    assert errors and isinstance(errors[0], psycopg2.Error), errors

    # no partial batch is visible: the raw bytes were committed first, no article is
    assert fetch(dsn, "SELECT count(*) FROM archive.articles") == [(0,)]
    assert fetch(dsn, "SELECT count(*) FROM archive.raw_documents") == [(300,)]

    # the retry (Airflow runs the same task again, with a new connection) succeeds
    retry = store.db.connect(dsn)
    stats = pipeline.process_batch(retry, settings, "faulty", batch)
    # the retry counts what the run did, the dead attempt's archiving included: every one
    # of the 300 deliveries is new, none a duplicate
    assert (stats["files_archived"], stats["duplicates"], stats["loaded"], stats["quarantined"]) == (300, 0, 300, 0)
    before = _archive_state(dsn)
    stats_again = pipeline.process_batch(retry, settings, "faulty", batch)  # a second retry adds nothing ...
    assert _archive_state(dsn) == before
    assert {k: v for k, v in stats_again.items() if k != "seconds"} == {  # ... and counts the same
        k: v for k, v in stats.items() if k != "seconds"}
    links = pipeline.link_step(retry, "faulty")
    pipeline.finalize_step(retry, settings, "faulty", links_made=links.get("links", 0))
    retry.close()
    killer.close()
    assert _archive_state(dsn) == _archive_state(clean_dsn)
    # the run history says what the clean run's says
    history = "SELECT files_seen, files_archived, duplicates, quarantined, loaded, links_made, status FROM archive.ingest_runs"
    assert fetch(dsn, history) == fetch(clean_dsn, history) == [(300, 300, 0, 0, 300, fetch(
        clean_dsn, "SELECT count(*) FROM archive.version_links")[0][0], "success")]
    assert fetch(dsn, "SELECT count(*) FROM archive.version_links") == fetch(
        clean_dsn, "SELECT count(*) FROM archive.version_links")
    # and its quality record is the clean run's: the results committed with the rows they
    # decided, kept by the second retry, which had nothing left to validate
    validation = """SELECT batch_key, expectation, column_name, success, element_count, unexpected_count
                    FROM archive.validation_results WHERE suite = 'articles_pre_load'
                    ORDER BY batch_key, expectation, column_name"""
    assert len(fetch(dsn, validation)) == 11
    assert fetch(dsn, validation) == fetch(clean_dsn, validation)


def test_two_runs_working_one_inbox_at_once_load_every_file_exactly_once(databases, settings):
    dsn = databases.create()
    names = _put_generated(settings.inbox, 400, seed=8)

    def run(run_id: str) -> dict:
        c = store.db.connect(dsn)
        try:
            return pipeline.run_once(c, settings, run_id, database_url=store.db.sqlalchemy_url(dsn))
        finally:
            c.close()

    results = run_concurrently(lambda: run("run-1"), lambda: run("run-2"))
    assert all(r["status"] == "success" for r in results), results
    assert fetch(dsn, "SELECT count(*), count(DISTINCT raw_document_id) FROM archive.articles") == [(400, 400)]
    assert fetch(dsn, "SELECT count(*), count(DISTINCT file_name) FROM archive.deliveries") == [(400, 400)]
    processed = sorted(p.name for p in (settings.inbox.parent / "processed").rglob("*.txt"))
    assert processed == sorted(names)
    assert list(settings.inbox.iterdir()) == []
    # links are not duplicated either: one per unordered pair
    assert fetch(dsn, """SELECT count(*) FROM (SELECT least(parent_article_id, child_article_id),
                                                     greatest(parent_article_id, child_article_id)
                                              FROM archive.version_links GROUP BY 1, 2 HAVING count(*) > 1) d""") == [(0,)]


def test_postgres_restarting_between_runs_does_not_stop_the_next_run(tmp_path, settings):
    """A private server (pgserver) so that restarting it disturbs nothing else."""
    import pgserver

    from news_archive.devdb import ensure_embedded, start

    pgdata = tmp_path / "pgdata"
    uri = ensure_embedded(pgdata)
    server = start(pgdata)
    _put_generated(settings.inbox, 20, seed=12)
    conn = store.db.connect(uri)
    store.schema.migrate(conn)  # the deliberate step (`news-archive migrate`) before the first run
    first = pipeline.run_once(conn, settings, "before-restart", database_url=store.db.sqlalchemy_url(uri))
    assert first["status"] == "success"

    # pg_ctl as the server's own system user (pgserver runs it as 'pgserver' under root)
    pgserver.pg_ctl(["restart", "-m", "fast", "-w"], pgdata=pgdata, user=server.system_user)
    with pytest.raises(psycopg2.OperationalError):
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
    conn.close()

    _put_generated(settings.inbox, 20, seed=13)
    conn = store.db.connect(uri)  # each task opens a new connection
    second = pipeline.run_once(conn, settings, "after-restart", database_url=store.db.sqlalchemy_url(uri))
    conn.close()
    assert second["status"] == "success"
    assert fetch(uri, "SELECT run_id, status, loaded FROM archive.ingest_runs ORDER BY started_at") == [
        ("before-restart", "success", 20), ("after-restart", "success", 20)]
    pgserver.pg_ctl(["stop", "-m", "fast"], pgdata=pgdata, user=server.system_user)


def _links_by_name(dsn: str) -> set[tuple[str, str, str]]:
    return set(fetch(dsn, """SELECT rp.original_name, rc.original_name, v.relation FROM archive.version_links v
                            JOIN archive.articles p ON p.id = v.parent_article_id
                            JOIN archive.raw_documents rp ON rp.id = p.raw_document_id
                            JOIN archive.articles c ON c.id = v.child_article_id
                            JOIN archive.raw_documents rc ON rc.id = c.raw_document_id"""))


def _has_lz4(dsn: str) -> bool:
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("CREATE TEMP TABLE lz4_probe (t text COMPRESSION lz4)")
        return True
    except psycopg2.errors.FeatureNotSupported:
        return False
    finally:
        conn.close()


def _compression(dsn: str) -> set[str]:
    """The compression methods of the columns migration 012 compresses with lz4 where it can."""
    return {c for (c,) in fetch(dsn, """SELECT attcompression FROM pg_attribute
                                       WHERE (attrelid, attname) IN (('archive.articles'::regclass, 'body'),
                                             ('archive.article_search'::regclass, 'search'),
                                             ('archive.version_links'::regclass, 'scores'),
                                             ('archive.version_links'::regclass, 'diff_summary'),
                                             ('archive.version_links'::regclass, 'aligned_diff'))""")}


def test_a_crash_empties_the_unlogged_link_keys_and_the_next_run_restores_them(tmp_path, databases, settings):
    """archive.link_keys is unlogged (derived data; no WAL): a private server (pgserver) is
    stopped in immediate mode, a crash to its recovery, which empties unlogged tables.
    The next run must restore every archived article's keys and find the same links as a
    run on an archive that never crashed."""
    import random

    import pgserver

    from news_archive.devdb import ensure_embedded, start

    originals = evaluation.generated_articles(30, seed=21)
    rng = random.Random(21)
    versions = {f"{aid}-revised.txt": f"{title}\n\n{evaluation.revise(body, rng)}\n" for aid, title, body in originals[:6]}
    versions |= {f"{aid}-reworded.txt": f"{title}\n\n{evaluation.reword(body, rng)}\n" for aid, title, body in originals[6:12]}

    def first_run(uri: str) -> None:
        for aid, title, body in originals:
            (settings.inbox / f"{aid}.txt").write_text(f"{title}\n\n{body}\n")
        conn = store.db.connect(uri)
        assert pipeline.run_once(conn, settings, "first", database_url=store.db.sqlalchemy_url(uri))["status"] == "success"
        conn.close()

    def second_run(uri: str) -> dict:
        for name, text in versions.items():
            (settings.inbox / name).write_text(text)
        conn = store.db.connect(uri)
        result = pipeline.run_once(conn, settings, "second", database_url=store.db.sqlalchemy_url(uri))
        conn.close()
        assert result["status"] == "success"
        return result

    # the reference: the same two runs on an archive that does not crash
    reference = databases.create()
    first_run(reference)
    second_run(reference)
    expected = _links_by_name(reference)
    assert len({child for _, child, _ in expected} & set(versions)) >= 10  # the versions found their originals

    pgdata = tmp_path / "pgdata"
    uri = ensure_embedded(pgdata)
    server = start(pgdata)
    conn = store.db.connect(uri)
    store.schema.migrate(conn)
    conn.close()
    first_run(uri)
    keys_before = fetch(uri, "SELECT key, article_id FROM archive.link_keys ORDER BY 1, 2")
    assert len(keys_before) > 30 * 20  # ~57 keys an article

    # a crash: no shutdown checkpoint; recovery replays the WAL and resets unlogged tables
    pgserver.pg_ctl(["restart", "-m", "immediate", "-w"], pgdata=pgdata, user=server.system_user)
    assert fetch(uri, "SELECT count(*) FROM archive.articles WHERE linked_at IS NOT NULL") == [(30,)]  # logged: kept
    assert fetch(uri, "SELECT count(*) FROM archive.link_keys") == [(0,)]
    assert fetch(uri, "SELECT count(*) FROM archive.link_keys_state") == [(0,)]

    second_run(uri)
    assert _links_by_name(uri) == expected
    # The embedded server was built without lz4: its long values keep pglz (migration 012),
    # and the links are the same as on the reference server, which has it.
    for server_uri in (uri, reference):
        assert _compression(server_uri) == ({"l"} if _has_lz4(server_uri) else {""})
    assert not _has_lz4(uri)
    first_ids = [r[0] for r in fetch(uri, "SELECT id FROM archive.articles WHERE run_id = 'first'")]
    assert fetch(uri, "SELECT key, article_id FROM archive.link_keys WHERE article_id = ANY(%s) ORDER BY 1, 2",
                 (first_ids,)) == keys_before
    assert fetch(uri, "SELECT count(*) FROM archive.link_keys_state") == [(1,)]
    pgserver.pg_ctl(["stop", "-m", "fast"], pgdata=pgdata, user=server.system_user)


HOSTILE_TEXT = [
    'Quotes "double" and \'single\', a backslash \\ and a double one \\\\',
    "A tab\there and another\tthere",
    "\\.",  # a line holding only backslash-dot ends COPY's text format
    "\\N",  # COPY's NULL marker as literal text
    "A comma, a semicolon; a pipe | and a caret ^",
    "Carriage\rreturn and form\x0cfeed, vertical\x0btab, escape\x1b[0m",
    "Unicode: naïve café – “quoted” — 東京 🚀, RTL \u202e",
]


def test_copy_control_characters_round_trip_byte_for_byte(conn, dsn):
    store.runs.start_run(conn, "escapes")
    rows, articles = [], []
    for i, text in enumerate(HOSTILE_TEXT):
        body = "\n\n".join([text, "Filler words for the minimum length. " * 12, text])
        raw = f"Title {i}: {text}\n\n{body}\n".encode()
        with conn, conn.cursor() as cur:
            cur.execute("""INSERT INTO archive.raw_documents (sha256, original_name, size_bytes, run_id, content)
                           VALUES (md5(%s) || md5(%s), %s, %s, 'escapes', %s) RETURNING id""",
                        (str(i), str(i), f"e{i}.txt", len(raw), psycopg2.Binary(raw)))
            raw_id = cur.fetchone()[0]
        article = parse_document(raw)
        assert isinstance(article, Article), article
        # what the parser hands over must go in and come out unchanged
        rows.append(store.articles.article_record(raw_id, article, [], "escapes"))
        articles.append((raw_id, article))
    store.articles.load_batch(conn, "escapes", rows, [])
    stored = {r[0]: r[1:] for r in fetch(dsn, "SELECT raw_document_id, title, body FROM archive.articles")}
    assert len(stored) == len(HOSTILE_TEXT)
    for raw_id, article in articles:
        assert stored[raw_id] == (article.title, article.body)
    raw = fetch(dsn, "SELECT content FROM archive.raw_documents ORDER BY id")
    assert [bytes(r[0]).decode().split("\n", 1)[0] for r in raw] == [f"Title {i}: {t}".split("\n")[0]
                                                                     for i, t in enumerate(HOSTILE_TEXT)]


def test_copy_round_trips_literal_null_marker_and_backslash_dot_exactly(conn, dsn):
    """Straight through load_batch, no parser: the strings COPY treats specially."""
    store.runs.start_run(conn, "nulls")
    from news_archive.parsing import parse_document as parse

    base = parse(("Base title\n\n" + "word " * 80).encode())
    rows = []
    for i, text in enumerate(["\\N", "\\.", "", "a\tb\\c\"d'e\n\\.\nf", "line\r\nbreaks\r"]):
        with conn, conn.cursor() as cur:
            cur.execute("""INSERT INTO archive.raw_documents (sha256, original_name, size_bytes, run_id, content)
                           VALUES (md5(%s) || md5(%s), %s, 1, 'nulls', 'x') RETURNING id""",
                        (f"n{i}", f"n{i}", f"n{i}.txt"))
            raw_id = cur.fetchone()[0]
        rows.append(store.articles.article_record(raw_id, base, [], "nulls")._replace(
            title=f"title {text}", body=f"{text} body {i}",
            url=text,  # a nullable column holding the NULL marker as text
            content_hash=f"{i:064d}"))  # content hashes must be unique
    store.articles.load_batch(conn, "nulls", rows, [])
    got = fetch(dsn, "SELECT title, body, url FROM archive.articles ORDER BY raw_document_id")
    assert got == [(r.title, r.body, r.url) for r in rows]


def test_the_same_bytes_under_two_names_in_one_run_are_both_filed_away(conn, dsn, settings):
    """Found by bench/run.py: the second name was left 'pending' and the run went red."""
    content = b"Same bytes twice\n\n" + b"An ordinary body of text for this article. " * 20
    (settings.inbox / "first.txt").write_bytes(content)
    (settings.inbox / "second copy.txt").write_bytes(content)
    result = pipeline.run_once(conn, settings, "twice", database_url=store.db.sqlalchemy_url(dsn))
    assert result["status"] == "success", result
    assert list(settings.inbox.iterdir()) == []
    assert fetch(dsn, "SELECT count(*) FROM archive.articles") == [(1,)]
    assert sorted(fetch(dsn, "SELECT file_name, is_duplicate FROM archive.deliveries")) == [
        ("first.txt", False), ("second copy.txt", True)]


def test_two_batches_archiving_the_same_bytes_at_once_do_not_deadlock(databases, tmp_path):
    """Found by bench/run.py: re-deliveries of one file spread over parallel batches."""
    dsn = databases.create()
    storage_conn = store.db.connect(dsn)
    store.runs.start_run(storage_conn, "par")
    storage_conn.close()
    blobs = [f"Document {i}\n\n".encode() + b"same bytes in both batches " * 30 for i in range(300)]
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    for i, blob in enumerate(blobs):
        (a / f"a{i:03}.txt").write_bytes(blob)
        (b / f"b{i:03}.txt").write_bytes(blob)

    def archive(paths):
        c = store.db.connect(dsn)
        try:
            store.raw.archive_files(c, "par", paths)
        finally:
            c.close()

    run_concurrently(lambda: archive(sorted(a.iterdir())), lambda: archive(sorted(b.iterdir(), reverse=True)))
    assert fetch(dsn, "SELECT count(*) FROM archive.raw_documents") == [(300,)]
    assert fetch(dsn, "SELECT count(*), sum(is_duplicate::int) FROM archive.deliveries") == [(600, 300)]
