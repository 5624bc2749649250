"""Version linking against a real Postgres: quality on a generated labelled set,
stories, relink, concurrent linkers, and the aligned diff an analyst reads."""

from __future__ import annotations

import json

import pytest

from devkit import evaluation
from news_archive import linking, pipeline, store
from tests.conftest import SEED_000, SEED_001, fetch, put_samples, run_concurrently


def _ingest(conn, settings, docs: dict[str, bytes], run_id: str) -> dict:
    for name, content in docs.items():
        (settings.inbox / name).write_bytes(content)
    return pipeline.run_once(conn, settings, run_id, database_url=store.db.sqlalchemy_url(conn.dsn))


def _article_id(dsn, name: str) -> int:
    return fetch(dsn, """SELECT a.id FROM archive.articles a JOIN archive.raw_documents r ON r.id = a.raw_document_id
                         WHERE r.original_name = %s""", (name,))[0][0]


def test_seed_001_is_linked_to_seed_000_as_its_reworded_condensed_child(conn, dsn, settings):
    put_samples(settings.inbox)
    pipeline.run_once(conn, settings, "seeds", database_url=store.db.sqlalchemy_url(dsn))
    rows = fetch(dsn, """SELECT parent_article_id, child_article_id, relation, scores, diff_summary, method_version
                         FROM archive.version_links""")
    assert len(rows) == 1
    parent, child, relation, scores, diff, method = rows[0]
    assert (parent, child) == (_article_id(dsn, SEED_000), _article_id(dsn, SEED_001))
    assert relation in ("paraphrase", "condensed")
    assert scores["coverage"] >= 0.6 and scores["name_containment"] >= 0.6
    assert diff["child_sentences"] == diff["kept"] + diff["changed"] + diff["added"]
    assert method == store.links.METHOD_VERSION
    (story_a,), (story_b,) = fetch(dsn, "SELECT story_id FROM archive.articles ORDER BY id")
    assert story_a == story_b


def test_generated_labelled_set_through_the_pipeline_meets_the_goals(conn, dsn, settings):
    """The small, generated version of `make eval-links` (no ../shared needed)."""
    articles = evaluation.generated_articles(240, seed=11)
    labels = evaluation.build_set(articles, None, seed=11, reworded=40, reworded_condensed=40, revisions=30,
                                  redelivered=15, look_alikes=20)
    _ingest(conn, settings, {d.name: d.content for d in labels.docs}, "eval")
    article_of, links = evaluation.collect(conn)
    result = evaluation.score(labels, article_of, links)
    evaluation.print_report(result)
    # the run history counts every link (a count of only the last insert page was a bug)
    assert fetch(dsn, "SELECT links_made FROM archive.ingest_runs") == [(len(links),)]

    assert result["skipped_pairs"] <= 2  # a cut copy may fall under the 50-word minimum: quarantined, reported
    assert result["false_links"] == []  # different articles, including same-event write-ups
    assert result["negatives_linked"] == 0  # look-alikes: same wording, other names and numbers
    assert result["precision"] >= 0.99
    for relation in ("duplicate", "revision", "condensed"):
        assert result["relations"][relation]["recall"] >= 0.95, (relation, result["relations"][relation])
    found = sum(result["by_kind"][k][0] for k in ("paraphrase", "reworded_condensed"))
    total = sum(result["by_kind"][k][1] for k in ("paraphrase", "reworded_condensed"))
    assert found / total >= 0.90
    assert result["direction_wrong"] == 0


def _story_of(dsn, article_id: int) -> int:
    return fetch(dsn, "SELECT story_id FROM archive.articles WHERE id = %s", (article_id,))[0][0]


def test_story_ids_stay_stable_and_two_stories_merge_when_a_new_version_joins_them(conn, dsn, settings):
    import random

    rng = random.Random(5)
    (aid, title, body), = evaluation.generated_articles(1, seed=3)
    paragraphs = body.split("\n\n")
    first_half = "\n\n".join(paragraphs[: len(paragraphs) // 2])
    second_half = "\n\n".join(paragraphs[len(paragraphs) // 2 :])
    # two fragments that share nothing, then the full article that contains both
    _ingest(conn, settings, {"p1.txt": f"{title}\n\n{first_half}\n".encode()}, "r1")
    _ingest(conn, settings, {"p2.txt": f"{title}\n\n{second_half}\n".encode()}, "r2")
    a, b = _article_id(dsn, "p1.txt"), _article_id(dsn, "p2.txt")
    story_a, story_b = _story_of(dsn, a), _story_of(dsn, b)
    assert story_a != story_b

    _ingest(conn, settings, {"full.txt": f"{title}\n\n{body}\n".encode()}, "r3")
    full = _article_id(dsn, "full.txt")
    assert _story_of(dsn, a) == _story_of(dsn, b) == _story_of(dsn, full) == min(story_a, story_b)
    merged = fetch(dsn, "SELECT id, merged_into FROM archive.stories WHERE merged_into IS NOT NULL")
    assert merged == [(max(story_a, story_b), min(story_a, story_b))]

    # a later reworded copy joins the story without changing its id
    reworded = evaluation.reword(body, rng)
    _ingest(conn, settings, {"reworded.txt": f"{title}\n\n{reworded}\n".encode()}, "r4")
    assert _story_of(dsn, _article_id(dsn, "reworded.txt")) == min(story_a, story_b)


def _link_set(dsn) -> set[tuple]:
    """Links by content (ids differ between databases): (parent hash, child hash, relation)."""
    return set(fetch(dsn, """SELECT p.content_hash, c.content_hash, l.relation FROM archive.version_links l
                             JOIN archive.articles p ON p.id = l.parent_article_id
                             JOIN archive.articles c ON c.id = l.child_article_id"""))


def _story_partition(dsn) -> set[frozenset]:
    rows = fetch(dsn, "SELECT story_id, array_agg(content_hash) FROM archive.articles GROUP BY story_id")
    return {frozenset(hashes) for _, hashes in rows}


def _load_without_linking(dsn, settings, docs: dict[str, bytes]) -> None:
    conn = store.db.connect(dsn)
    for name, content in docs.items():
        (settings.inbox / name).write_bytes(content)
    batches = pipeline.claim_step(conn, settings, "load")
    for batch in batches:
        pipeline.process_batch(conn, settings, "load", batch)
    pipeline.finalize_step(conn, settings, "load")
    conn.close()


@pytest.fixture
def labelled_docs():
    articles = evaluation.generated_articles(150, seed=21)
    labels = evaluation.build_set(articles, None, seed=21, reworded=25, reworded_condensed=25, revisions=20,
                                  redelivered=10, look_alikes=10)
    return {d.name: d.content for d in labels.docs}


def _linked_alone_and_loaded(databases, settings, docs: dict[str, bytes]) -> tuple[str, str]:
    """Two archives of `docs`: one linked by a single linker (chunks of 40), one loaded, not linked yet."""
    single, other = databases.create(), databases.create()
    _load_without_linking(single, settings, docs)
    _load_without_linking(other, settings, docs)
    conn = store.db.connect(single)
    store.links.link_pending(conn, None, chunk=40)
    conn.close()
    return single, other


def test_two_workers_linking_at_once_make_the_same_links_as_one(databases, settings, labelled_docs, tmp_path):
    single, double = _linked_alone_and_loaded(databases, settings, labelled_docs)


    def worker() -> dict:
        c = store.db.connect(double)
        try:
            return store.links.link_pending(c, None, chunk=40)  # both see the same pending set
        finally:
            c.close()

    counts = run_concurrently(worker, worker)
    assert all(c.get("articles", 0) > 0 for c in counts), counts  # both workers did part of the work

    assert _link_set(double) == _link_set(single)
    assert len(_link_set(single)) >= 75  # 80 labelled versions in the set
    assert _story_partition(double) == _story_partition(single)
    assert fetch(double, "SELECT count(*) FROM archive.articles WHERE linked_at IS NULL") == [(0,)]


def test_a_linker_committing_while_a_chunk_is_verified_gets_that_chunk_linked_again(databases, settings,
                                                                                    labelled_docs, monkeypatch,
                                                                                    caplog):
    """A chunk is prepared in one transaction and written in the next: when another linker
    commits in between, the chunk's candidates may miss what it added, so the chunk is
    linked again; the links and stories are those of one linker alone."""
    single, raced = _linked_alone_and_loaded(databases, settings, labelled_docs)
    real_take, calls, other = store.links._take_link_lock, [], []

    def another_linker_commits_between_two_transactions(cur):
        calls.append(1)
        if len(calls) == 3:  # restore_keys, chunk 1 prepared, then (now) chunk 1 to be written
            c = store.db.connect(raced)  # (the step's own transaction has not started yet)
            try:
                other.append(store.links.link_pending(c, None, chunk=40))
            finally:
                c.close()
        return real_take(cur)

    monkeypatch.setattr(store.links, "_take_link_lock", another_linker_commits_between_two_transactions)
    caplog.set_level("INFO", logger="news_archive.store.links")
    conn = store.db.connect(raced)
    counts = store.links.link_pending(conn, None, chunk=40)
    conn.close()
    # the other linker found every article unlinked, the step's chunk under way too, and
    # linked them all; the step dropped its verification of that chunk and wrote nothing
    assert other[0]["articles"] == fetch(raced, "SELECT count(*) FROM archive.articles")[0][0]
    assert "another linker committed while 40 articles were being verified" in caplog.text
    assert counts.get("articles", 0) == 0 and counts.get("links", 0) == 0
    assert _link_set(raced) == _link_set(single)
    assert _story_partition(raced) == _story_partition(single)
    assert fetch(raced, "SELECT count(*) FROM archive.articles WHERE linked_at IS NULL") == [(0,)]


def test_postings_read_on_a_second_connection_give_the_links_read_on_the_steps_own(databases, settings,
                                                                                  labelled_docs, monkeypatch):
    # Two workers: a reader connection reads each chunk's postings while the step writes its
    # keys; one worker: the step reads them itself. Chunks of 40 (the reader's threshold
    # lowered to them), so every chunk's reader must see the keys the chunks before it
    # committed, and none of its own chunk's.
    monkeypatch.setattr(store.links, "PARALLEL_MIN", 10)
    reads = []
    monkeypatch.setattr(store.links._PostingReader, "read",
                        lambda self, ranges, read=store.links._PostingReader.read: reads.append(1) or read(self, ranges))
    with_reader, without = databases.create(), databases.create()
    for dsn, workers in ((with_reader, 2), (without, 1)):
        _load_without_linking(dsn, settings, labelled_docs)
        conn = store.db.connect(dsn)
        store.links.link_pending(conn, None, chunk=40, workers=workers)
        conn.close()
    assert len(reads) >= 5  # (every chunk of the two-worker step went through the reader)
    assert _link_set(with_reader) == _link_set(without) and len(_link_set(without)) >= 75
    assert _story_partition(with_reader) == _story_partition(without)
    # Articles marked unlinked by hand, their keys left behind: the step deletes those keys in
    # its transaction (which the reader would not see: the step reads that chunk itself) and
    # links them again to the same versions.
    with store.db.connect(with_reader) as conn, conn.cursor() as cur:
        cur.execute("UPDATE archive.articles SET linked_at = NULL WHERE id IN "
                    "(SELECT id FROM archive.articles ORDER BY id DESC LIMIT 30)")
        cur.execute("DELETE FROM archive.version_links WHERE child_article_id IN "
                    "(SELECT id FROM archive.articles WHERE linked_at IS NULL)")
    conn = store.db.connect(with_reader)
    store.links.link_pending(conn, None, chunk=40, workers=2)
    conn.close()
    assert _link_set(with_reader) == _link_set(without)


def test_keys_left_by_the_loading_tasks_give_the_links_the_linker_would_find_alone(databases, settings,
                                                                                 labelled_docs):
    stored, alone = databases.create(), databases.create()
    _load_without_linking(stored, settings, labelled_docs)
    _load_without_linking(alone, settings, labelled_docs)
    # The loading tasks left search vectors and candidate keys for every article they loaded.
    articles = fetch(stored, "SELECT count(*) FROM archive.articles")[0][0]
    assert fetch(stored, "SELECT count(*) FROM archive.article_search") == [(articles,)]
    rows = fetch(stored, """SELECT a.title, a.body, k.keys, k.method_version FROM archive.articles a
                            JOIN archive.link_pending_keys k ON k.article_id = a.id AND k.body_hash = a.body_hash""")
    assert len(rows) == articles
    assert all(keys == linking.fingerprint(title, body).keys and method == linking.KEYS_VERSION
               for title, body, keys, method in rows)
    # Stale rows are not trusted: a body that changed since, or another linking method.
    with store.db.connect(stored) as conn, conn.cursor() as cur:
        cur.execute("""UPDATE archive.link_pending_keys SET body_hash = 'changed since', keys = '{1,2,3}'
                       WHERE article_id IN (SELECT id FROM archive.articles ORDER BY id DESC LIMIT 20)""")
        cur.execute("""UPDATE archive.link_pending_keys SET method_version = 'older-method', keys = '{4,5,6}'
                       WHERE article_id IN (SELECT id FROM archive.articles ORDER BY id LIMIT 20)""")
    with store.db.connect(alone) as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM archive.link_pending_keys")  # as if no loading task had left keys
    for dsn in (stored, alone):
        conn = store.db.connect(dsn)
        store.links.link_pending(conn, None, chunk=40)
        conn.close()
    assert _link_set(stored) == _link_set(alone) and len(_link_set(alone)) >= 75
    assert _story_partition(stored) == _story_partition(alone)
    assert fetch(stored, "SELECT count(*) FROM archive.link_pending_keys") == [(0,)]  # the queue is emptied
    assert fetch(stored, "SELECT count(*) FROM archive.link_keys WHERE key IN (1, 2, 3, 4, 5, 6)") == [(0,)]
    # The key index holds exactly each article's own candidate keys.
    index: dict[int, set[int]] = {}
    for article_id, key in fetch(stored, "SELECT article_id, key FROM archive.link_keys"):
        index.setdefault(article_id, set()).add(key)
    own = {i: set(linking.fingerprint(title, body).keys)
           for i, title, body in fetch(stored, "SELECT id, title, body FROM archive.articles")}
    assert index == {i: keys for i, keys in own.items() if keys}
    assert fetch(stored, "SELECT count(*) FROM archive.link_keys") == [(sum(map(len, own.values())),)]


def test_keys_made_by_another_method_are_made_again_before_anything_is_linked(databases, settings, labelled_docs):
    """An archive upgraded from an older key method (migration 010 leaves its marker with
    no version) gets every linked article's keys made again by the next link step; the
    links found after that are the ones a fresh archive finds."""
    dsn, fresh = databases.create(), databases.create()
    names = sorted(labelled_docs)
    first = {n: labelled_docs[n] for n in names[::2]}
    second = {n: labelled_docs[n] for n in names[1::2]}
    _load_without_linking(dsn, settings, first)
    conn = store.db.connect(dsn)
    store.links.link_pending(conn, None)
    keys = fetch(dsn, "SELECT key, article_id FROM archive.link_keys ORDER BY 1, 2")
    linked = fetch(dsn, "SELECT count(*) FROM archive.articles WHERE linked_at IS NOT NULL")[0][0]
    with conn, conn.cursor() as cur:  # what an archive keyed by the older method holds
        cur.execute("UPDATE archive.link_keys_state SET keys_version = NULL")
        cur.execute("UPDATE archive.link_keys SET key = key # 1234567")
    _load_without_linking(dsn, settings, second)
    totals = store.links.link_pending(conn, None)
    assert totals["keys_restored"] == linked
    assert fetch(dsn, "SELECT keys_version FROM archive.link_keys_state") == [(linking.KEYS_VERSION,)]
    assert fetch(dsn, "SELECT key, article_id FROM archive.link_keys WHERE article_id = ANY(%s) ORDER BY 1, 2",
                 (sorted({i for _, i in keys}),)) == keys
    assert fetch(dsn, "SELECT count(*) FROM archive.articles WHERE linked_at IS NULL") == [(0,)]
    assert store.links.link_pending(conn, None)["keys_restored"] == 0  # once
    conn.close()

    _load_without_linking(fresh, settings, first)
    conn = store.db.connect(fresh)
    store.links.link_pending(conn, None)
    _load_without_linking(fresh, settings, second)
    store.links.link_pending(conn, None)
    conn.close()
    assert _link_set(dsn) == _link_set(fresh) and _link_set(fresh)


def test_relink_recomputes_the_same_links_and_stories_idempotently(dsn, settings, labelled_docs):
    _load_without_linking(dsn, settings, labelled_docs)
    conn = store.db.connect(dsn)
    store.links.link_pending(conn, None)
    links, stories = _link_set(dsn), _story_partition(dsn)
    store.links.relink_all(conn, None)
    store.links.relink_all(conn, None)
    conn.close()
    assert _link_set(dsn) == links
    assert _story_partition(dsn) == stories
    assert fetch(dsn, "SELECT DISTINCT method_version, run_id FROM archive.version_links") == [
        (store.links.METHOD_VERSION, None)]


def test_aligned_diff_shows_kept_changed_added_and_removed_sentences(conn, dsn, settings):
    title = "Harbour council approves Westbury ferry terminal after long dispute"
    parent = ("The Westbury harbour council approved a new ferry terminal on Tuesday after a dispute lasting 14 months. "
              "Councillor Mara Lindqvist said the vote of 9 to 4 ended years of uncertainty for local traders. "
              "Opponents had argued that the terminal would bring heavy lorry traffic through the old town. "
              "Construction is due to start in March and will cost about 42 million pounds. "
              "The ferry operator Nordlink expects 300,000 passengers a year once the terminal opens.")
    child = ("The Westbury harbour council approved a new ferry terminal on Tuesday after a dispute lasting 14 months. "
             "Councillor Mara Lindqvist stated the vote of 9 to 4 finished years of uncertainty for local traders. "
             "Construction is due to start in March and will cost about 42 million pounds. "
             "The ferry operator Nordlink expects 300,000 passengers a year once the terminal opens. "
             "A legal challenge by residents of the old town is still pending before the High Court.")
    _ingest(conn, settings, {"v1.txt": f"{title}\n\n{parent}\n".encode()}, "v1")
    _ingest(conn, settings, {"v2.txt": f"{title}\n\n{child}\n".encode()}, "v2")
    (link_id, relation, summary, stored), = fetch(
        dsn, "SELECT id, relation, diff_summary, aligned_diff FROM archive.version_links")
    assert relation == "revision"
    steps = fetch(dsn, "SELECT op, parent_sentence, child_sentence, similarity FROM analytics.version_diffs "
                       "WHERE link_id = %s ORDER BY step", (link_id,))
    sentences = lambda text: [s + "." for s in text.removesuffix(".").split(". ")]  # noqa: E731
    p, c = sentences(parent), sentences(child)
    assert [tuple(s[:3]) for s in steps] == [
        ("kept", p[0], c[0]), ("changed", p[1], c[1]), ("removed", p[2], None), ("kept", p[3], c[2]),
        ("kept", p[4], c[3]), ("added", None, c[4])]
    assert steps[0][3] == 1 and 0.5 <= steps[1][3] < 1
    # the archive keeps where each sentence stands in its body, not its text again
    assert all("parent" not in s and "child" not in s for s in stored)
    assert stored[2]["parent_span"] == [parent.index("Opponents"), len(p[2])] and "child_span" not in stored[2]
    # a link archived before migration 011 kept the texts: the view shows it the same
    old_form = [{"op": op, "parent": ps, "child": cs, "similarity": None if sim is None else float(sim)}
                for op, ps, cs, sim in steps]
    conn.cursor().execute("UPDATE archive.version_links SET aligned_diff = %s::jsonb", (json.dumps(old_form),))
    conn.commit()
    assert fetch(dsn, "SELECT op, parent_sentence, child_sentence, similarity FROM analytics.version_diffs "
                      "WHERE link_id = %s ORDER BY step", (link_id,)) == steps
    assert summary == {"kept": 3, "changed": 1, "added": 1, "removed": 1, "parent_sentences": 5,
                       "child_sentences": 5}


def test_an_article_unlinked_behind_the_linker_is_still_linked_in_the_same_call(databases, settings,
                                                                                labelled_docs, monkeypatch):
    """Chunks are read in id order after the last one; before stopping, the linker looks from
    the start once more, so an article unlinked meanwhile (a reparse) is not left behind."""
    dsn = databases.create()
    _load_without_linking(dsn, settings, labelled_docs)
    first_id = fetch(dsn, "SELECT min(id) FROM archive.articles")[0][0]
    real_write, chunks = store.links._write_chunk, []

    def chunk_then_unlink_the_first(cur, prepared, *args):
        done = real_write(cur, prepared, *args)
        chunks.append(prepared.pending)
        if len(chunks) == 2:  # the first article was linked by chunk 1; now it is pending again
            cur.execute("UPDATE archive.articles SET linked_at = NULL WHERE id = %s", (first_id,))
            cur.execute("DELETE FROM archive.link_keys WHERE article_id = %s", (first_id,))
        return done

    monkeypatch.setattr(store.links, "_write_chunk", chunk_then_unlink_the_first)
    conn = store.db.connect(dsn)
    store.links.link_pending(conn, None, chunk=40)
    conn.close()
    assert chunks[0][0] == first_id and chunks[-1] == [first_id]
    assert fetch(dsn, "SELECT count(*) FROM archive.articles WHERE linked_at IS NULL") == [(0,)]


def test_the_verifiers_read_each_body_once_and_as_the_archive_holds_it(databases, settings, labelled_docs,
                                                                       monkeypatch):
    """The linker sends its verifiers rows without bodies; each reads the bodies it has not
    cached, once, on its own connection. Before, every candidate's body was read and sent
    again in every chunk it came back in (62,000 bodies for make bench's 13,500 articles).
    A body changed since the row was read is verified as it is now; a deleted article has no
    text and links to nothing."""
    dsn = databases.create()
    _load_without_linking(dsn, settings, labelled_docs)
    articles = fetch(dsn, "SELECT count(*) FROM archive.articles")[0][0]
    monkeypatch.setattr(store.links, "PARALLEL_MIN", 10)  # two real worker processes from the first chunk
    conn = store.db.connect(dsn)
    totals = store.links.link_pending(conn, None, chunk=40, workers=2)
    conn.close()
    assert totals["pairs"] > articles  # candidates came back in later chunks ...
    assert totals["bodies_read"] <= articles * 1.2  # ... and were read about once (a few by both workers)

    ids = [i for (i,) in fetch(dsn, "SELECT id FROM archive.articles ORDER BY id LIMIT 3")]
    (title, body, body_hash), = fetch(dsn, "SELECT title, body, body_hash FROM archive.articles WHERE id = %s",
                                      (ids[0],))
    reader = store.links._BodyReader(store.db.dsn_params(dsn))
    cache = store.links._FingerprintCache(10**9)
    try:
        stale = store.links.ArticleRow(ids[0], "an older title", None, "an older hash", None, None)
        gone = store.links.ArticleRow(-1, "deleted since", None, "h", None, None)
        cache.fill_bodies([stale, gone], reader)
        assert (stale.title, stale.body, stale.body_hash) == (title, body, body_hash)  # as it is now
        assert gone.body == ""
        assert linking.walk_body(gone.body).n == 0  # no sentence: the guard refuses every pair
        cache.get(stale)  # fingerprinted, kept with its body
        again = store.links.ArticleRow(ids[0], title, None, body_hash, None, None)
        read = reader.read_count
        cache.fill_bodies([again], reader)
        assert again.body == body and reader.read_count == read  # from the cache, not read again
    finally:
        reader.close()


def test_links_archived_already_are_skipped_and_the_missing_ones_written(databases, settings, labelled_docs):
    """Articles marked unlinked by hand with their links kept are linked again: the links
    found again are archived already and skipped (INSERT ... ON CONFLICT DO NOTHING on the
    pair's unique index), none is written twice, the missing ones are written, and the
    step's count is the links it really wrote."""
    dsn = databases.create()
    _load_without_linking(dsn, settings, labelled_docs)
    conn = store.db.connect(dsn)
    store.links.link_pending(conn, None, chunk=40)
    links = "SELECT parent_article_id, child_article_id, relation FROM archive.version_links ORDER BY 1, 2"
    before = fetch(dsn, links)
    with conn, conn.cursor() as cur:
        cur.execute("UPDATE archive.articles SET linked_at = NULL WHERE id IN "
                    "(SELECT child_article_id FROM archive.version_links)")
        cur.execute("DELETE FROM archive.version_links WHERE id % 2 = 0")  # half of them lost, half kept
        deleted = cur.rowcount
    totals = store.links.link_pending(conn, None, chunk=40)
    conn.close()
    assert deleted >= 20 and totals["links"] == deleted
    assert fetch(dsn, links) == before
