"""Archive guarantees against a real PostgreSQL."""

from __future__ import annotations

import hashlib

import psycopg2
import pytest

from news_archive import inbox, pipeline, store
from tests.conftest import SAMPLES, SEED_000, built_speedups, fetch, put_samples, run_concurrently


def test_migrations_are_idempotent_and_recorded(dsn):
    conn = store.db.connect(dsn)
    assert store.schema.migrate(conn) == []  # the fixture already applied them
    versions = [v for (v,) in fetch(dsn, "SELECT version FROM archive.schema_migrations ORDER BY version")]
    assert versions == [p.name[:3] for p in store.schema.migration_files()]


def test_concurrent_migrations_apply_once(databases):
    dsn = databases.create(migrate=False)

    def run():
        conn = store.db.connect(dsn)
        try:
            store.schema.migrate(conn)
        finally:
            conn.close()

    run_concurrently(run, run, run)  # raises if any migrator failed
    assert fetch(dsn, "SELECT count(*) FROM archive.schema_migrations")[0][0] == len(store.schema.migration_files())


def test_raw_bytes_round_trip_and_are_append_only(conn, dsn, tmp_path):
    store.runs.start_run(conn, "r1")
    weird = bytes(range(256)) + b"\x00\\.\n\t\r" + "Ünïcode".encode()
    (tmp_path / "weird.bin").write_bytes(weird)
    (tmp_path / SEED_000).write_bytes((SAMPLES / SEED_000).read_bytes())
    archived = store.raw.archive_files(conn, "r1", [tmp_path / "weird.bin", tmp_path / SEED_000])
    assert [a.new for a in archived] == [True, True]
    assert store.raw.read_raw(conn, archived[0].raw_id) == weird
    assert archived[0].sha256 == hashlib.sha256(weird).hexdigest()
    assert store.raw.read_raw(conn, archived[1].raw_id) == (SAMPLES / SEED_000).read_bytes()
    with pytest.raises(psycopg2.Error, match="append-only"):
        with conn, conn.cursor() as cur:
            cur.execute("UPDATE archive.raw_documents SET original_name = 'x'")
    with pytest.raises(psycopg2.Error, match="append-only"):
        with conn, conn.cursor() as cur:
            cur.execute("DELETE FROM archive.raw_documents")
    # the same file again: nothing new
    again = store.raw.archive_files(conn, "r1", [tmp_path / "weird.bin"])
    assert again[0].new is False and again[0].raw_id == archived[0].raw_id
    assert fetch(dsn, "SELECT count(*) FROM archive.deliveries")[0][0] == 2


@pytest.mark.parametrize("encoder", ["compiled", "python"])
def test_copy_keeps_every_text_as_data_and_only_none_as_null(conn, encoder, monkeypatch):
    """The load's COPY (streamed in chunks): quotes, commas, line breaks, tabs, backslashes, the
    end-of-data marker on a line of its own, the text \\N and the empty string come back as
    they went in; only None is NULL; rows many times a chunk's size arrive whole and in order.
    With the compiled CSV encoder (news_archive._speedups, which make install builds) and without."""
    monkeypatch.setattr(store.db, "_FAST", built_speedups() if encoder == "compiled" else None)
    hostile = ["", "\\N", "\\.", 'say "no"', "a,b", "line\n\\.\nline", "tab\tcr\r", "Ünïcode ‮", None]
    rows = [(i, hostile[i % len(hostile)], None if i % 3 else "x" * (i % 5000)) for i in range(3000)]
    with conn, conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE copied (n integer, a text, b text)")
        store.db.copy_rows(cur, "copied", ("n", "a", "b"), iter(rows))
        cur.execute("SELECT n, a, b FROM copied ORDER BY n")
        assert cur.fetchall() == rows
        cur.execute("SELECT count(*) FROM copied WHERE a IS NULL")
        assert cur.fetchone()[0] == sum(1 for r in rows if r[1] is None)


def test_stale_claims_are_taken_over_and_nothing_is_loaded_twice(conn, dsn, settings):
    """A run that died after its commit but before moving its files: the next run finishes the job."""
    import os

    put_samples(settings.inbox)
    batches = pipeline.claim_step(conn, settings, "dead-run")
    for b in batches:
        pipeline.process_batch(conn, settings, "dead-run", b)
    # ... the process dies here: files stay in claimed/dead-run
    stale = inbox.claim_dir(settings, "dead-run")
    assert len(list(stale.iterdir())) == 2
    old = stale.stat().st_mtime - settings.claim_ttl_seconds - 10
    os.utime(stale, (old, old))
    result = pipeline.run_once(conn, settings, "next-run")
    assert result["status"] == "success"
    assert result["moved"]["loaded"] == 2
    assert not stale.exists()
    assert fetch(dsn, "SELECT count(*) FROM archive.articles")[0][0] == 2
    assert fetch(dsn, "SELECT count(*) FROM archive.raw_documents")[0][0] == 2


def test_symlinks_are_refused_without_being_read(conn, dsn, settings, tmp_path):
    secret = tmp_path / "outside.txt"
    secret.write_text("Secret title\n\n" + "secret words " * 40)
    (settings.inbox / "link.txt").symlink_to(secret)
    put_samples(settings.inbox, [SEED_000])
    result = pipeline.run_once(conn, settings, "r-links")
    assert result["status"] == "success"
    refused = fetch(dsn, "SELECT file_name, reason_code FROM archive.refused_files")
    assert refused == [("link.txt", "not_regular_file")]
    titles = [t for (t,) in fetch(dsn, "SELECT title FROM archive.articles")]
    assert "Secret title" not in titles
    assert secret.exists()


def test_a_run_is_split_into_even_batches_of_at_most_batch_size(conn, settings):
    import dataclasses

    for i in range(26):
        (settings.inbox / f"f{i:02}.txt").write_text(f"file {i}")
    batches = pipeline.claim_step(conn, dataclasses.replace(settings, batch_size=25), "even")
    assert [len(b["files"]) for b in batches] == [13, 13]  # not 25 + 1
    assert sorted(f for b in batches for f in b["files"]) == [f"f{i:02}.txt" for i in range(26)]
    assert [b["key"] for b in batches] == ["batch-0001", "batch-0002"]


def test_hash_lookups_can_use_their_indexes(conn):
    """A text[] parameter against a char(64) column compares column::text: no index, a scan
    of the whole table per batch. The lookups cast their arrays to bpchar[]."""
    from news_archive import store

    lookups = [(store.articles.CONTENT_HASH_LOOKUP, "articles_content_hash_key"),
               (store.raw.SHA256_LOOKUP, "raw_documents_sha256_key"),
               (store.links.BODY_HASH_LOOKUP, "articles_body_hash_idx")]
    with conn, conn.cursor() as cur:
        cur.execute("SET LOCAL enable_seqscan = off")  # near-empty tables: show what the planner could use
        for sql, index in lookups:
            for query, usable in ((sql, True), (sql.replace("%s::bpchar[]", "%s"), False)):  # the old form
                cur.execute("EXPLAIN " + query, (["0" * 64, "f" * 64],))
                plan = "\n".join(r[0] for r in cur.fetchall())
                assert (index in plan and "Index Cond" in plan) == usable, plan


def test_finalize_files_each_file_by_the_runs_deliveries_without_reading_it_again(conn, dsn, settings):
    """The archive step recorded where every file went: finalize uses that record. (A file
    changed in the claim folder after archiving is filed by what was archived.)"""
    from news_archive import inbox, pipeline
    from tests.conftest import put_samples

    put_samples(settings.inbox)
    (batch,) = pipeline.claim_step(conn, settings, "record-run")
    pipeline.process_batch(conn, settings, "record-run", batch)
    for path in inbox.claim_dir(settings, "record-run").iterdir():
        path.write_bytes(b"overwritten after archiving")  # hashing these would find nothing
    result = pipeline.finalize_step(conn, settings, "record-run")
    assert result["moved"] == {"loaded": 2, "duplicate": 0, "quarantined": 0, "pending": 0}
    assert result["status"] == "success"


def test_the_same_bytes_in_two_batches_of_one_run_are_counted_once(conn, dsn, settings):
    """Run history: the second batch's copy is a duplicate, and its article is not counted again."""
    import dataclasses

    from devkit import evaluation
    from news_archive import pipeline

    articles = evaluation.generated_articles(3, seed=21)
    docs = [f"{title}\n\n{body}\n".encode() for _, title, body in articles]
    for name, content in (("1.txt", docs[0]), ("2.txt", docs[1]), ("3.txt", docs[0]), ("4.txt", docs[2])):
        (settings.inbox / name).write_bytes(content)
    two_per_batch = dataclasses.replace(settings, batch_size=2)
    assert pipeline.run_once(conn, two_per_batch, "split-run", database_url=store.db.sqlalchemy_url(dsn))["status"] == "success"
    batches = fetch(dsn, """SELECT batch_key, (stats->>'files_archived')::int, (stats->>'duplicates')::int,
                                   (stats->>'loaded')::int FROM archive.run_batches
                            WHERE run_id = 'split-run' AND batch_key LIKE 'batch-%' ORDER BY batch_key""")
    assert batches == [("batch-0001", 2, 0, 2), ("batch-0002", 1, 1, 1)]
    assert fetch(dsn, "SELECT files_seen, files_archived, duplicates, loaded FROM archive.ingest_runs") == [
        (4, 3, 1, 3)]
