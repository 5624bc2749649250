"""The linker's fingerprint cache and its verification workers, in memory (no database)."""

from __future__ import annotations

from news_archive import linking, store

BODY = " ".join(f"Sentence {i} tells how the harbour council of Westbury met on day {i}." for i in range(30))


def _rows(n: int, body: str = BODY) -> list[store.links.ArticleRow]:
    return [store.links.ArticleRow(i, f"Title {i}", f"{body} Item {i}.", f"h{i}", None, None)
            for i in range(n)]


def test_the_fingerprint_cache_gives_what_fingerprinting_gives_and_stays_in_its_budget():
    rows = _rows(30)
    cache = store.links._FingerprintCache(10**9)
    first = {r.id: cache.get(r) for r in rows}
    assert len(cache.cache) == 30
    again = {r.id: cache.get(r) for r in rows}  # all from the cache
    fresh = {r.id: linking.pack(linking.fingerprint(r.title, r.body, r.body_hash, keys=False)) for r in rows}
    assert again == first == fresh
    assert all(again[i] is first[i] for i in again)
    changed = store.links.ArticleRow(0, "Another title", rows[0].body, rows[0].body_hash, None, None)
    assert cache.get(changed) == linking.pack(linking.fingerprint("Another title", rows[0].body, "h0", keys=False))
    small = store.links._FingerprintCache(3 * max(size for _, size, _ in cache.cache.values()))
    for r in rows:
        small.get(r)
    assert 0 < len(small.cache) <= 3 and small.cached_bytes <= small.cache_bytes
    assert list(small.cache)[-1][0] == 29  # the most recent are kept


def test_the_cache_counts_what_its_fingerprints_really_take():
    """NEWS_ARCHIVE_LINK_CACHE_MB is memory: the bytes the cache counts are within a quarter
    of what its fingerprints hold (measured by tracemalloc, the word caches warm)."""
    import gc
    import tracemalloc

    from devkit.evaluation import generated_articles

    articles = generated_articles(300, seed=5)
    rows = [store.links.ArticleRow(i, title, body, f"h{i}", None, None)
            for i, (_, title, body) in enumerate(articles)]
    store.links._FingerprintCache(10**9).get(rows[0])
    for r in rows:  # the stemmer's and the tokens' caches filled: they are not the cache's
        linking.fingerprint(r.title, r.body, r.body_hash, keys=False)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        cache = store.links._FingerprintCache(10**9)
        for r in rows:
            cache.get(r)
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert 0.75 * held <= cache.cached_bytes <= 1.25 * held, (cache.cached_bytes, held)


def test_worker_processes_verify_and_key_exactly_as_the_linker_does_in_process():
    """Two real worker processes against the in-process path: the same links, in the same order,
    and the same candidate keys (forced to the workers by PARALLEL_MIN = 0)."""
    originals = [" ".join(f"In {town} the {thing} board met {k} times about the {thing} plan for {town}."
                          for k in range(12))
                 for town, thing in [("Westbury", "harbour"), ("Eastleigh", "railway"), ("Norton", "library"),
                                     ("Fairfield", "hospital")]]
    rows = {}
    for i, body in enumerate(originals):
        rows[i] = store.links.ArticleRow(i, f"Story {i}", body, f"h{i}", None, None)
        rows[10 + i] = store.links.ArticleRow(10 + i, f"Story {i}", body.replace(" times", " times, officials said"),
                                              f"r{i}", None, None)  # a revision of each
        rows[20 + i] = store.links.ArticleRow(20 + i, f"Story {i}", body, f"h{i}", None, None)  # a duplicate
    candidates = {a: [b for b in rows if b != a] for a in rows}
    local = store.links._Verifiers(1)
    expected_links = local.verify(rows, candidates)
    assert local.fingerprints_made == len(rows)  # each once, then from the cache
    assert local.pairs_verified == sum(len(ids) for ids in candidates.values())
    expected_keys = local.keys([(r.id, r.body) for r in rows.values()])
    assert sum(len(v) for v in expected_links.values()) == 3 * 4 * 2  # each of 3 versions to the 2 others
    workers = store.links._Verifiers(2)
    old = store.links.PARALLEL_MIN
    store.links.PARALLEL_MIN = 0
    try:
        assert workers.verify(rows, candidates) == expected_links
        made = workers.fingerprints_made
        assert len(rows) <= made <= 2 * len(rows)  # at most once in each worker
        assert workers.verify(rows, candidates) == expected_links  # again, from the workers' caches
        assert workers.fingerprints_made == made
        assert workers.keys([(r.id, r.body) for r in rows.values()]) == expected_keys
        assert len(workers.processes) == 2 and all(p.is_alive() for p in workers.processes)
    finally:
        store.links.PARALLEL_MIN = old
        workers.close()
    assert not workers.processes


def test_a_storys_versions_meet_in_one_worker_whatever_chance_candidates_come_with_them():
    """Each article is fingerprinted by one worker only: a version goes where its best
    candidate's story went, even when a chance candidate from another story (a lower id,
    ranked last) comes with it. Routed by the lowest id among all candidates, the versions
    of a story with such a candidate were split between the workers, and fingerprinted twice."""
    towns = [("Westbury", "harbour"), ("Eastleigh", "railway"), ("Norton", "library"), ("Fairfield", "hospital")]
    rows, candidates = {}, {}
    for s, (town, thing) in enumerate(towns):
        body = " ".join(f"In {town} the {thing} board met {k + 3 * s} times about the {thing} plan for {town}."
                        for k in range(12))
        rows[s] = store.links.ArticleRow(s, f"Story {s}", body, f"h{s}", None, None)
        for v in range(1, 4):  # three revisions of it, each a little longer than the last
            version = 10 * v + s
            rows[version] = store.links.ArticleRow(version, f"Story {s}", body.replace(" times", " times" + ", so" * v),
                                                   f"r{version}", None, None)
            earlier = [s] + [10 * u + s for u in range(1, v)]
            chance = [(s + 1) % len(towns)] if v == 2 else []  # another story's original: refused by the guard
            candidates[version] = earlier + chance
    story_of = {a: a % 10 for a in rows}
    expected = store.links._Verifiers(1).verify(rows, candidates)
    assert sum(len(links) for links in expected.values()) == 4 * 6  # the 6 pairs of each story's 4 versions
    assert all(story_of[a] == story_of[b] for a, links in expected.items() for b, _ in links)
    workers = store.links._Verifiers(2)
    old = store.links.PARALLEL_MIN
    store.links.PARALLEL_MIN = 0
    try:
        for v in range(1, 4):  # as the linker sends them: chunk by chunk
            chunk = {a: ids for a, ids in candidates.items() if a // 10 == v}
            assert workers.verify(rows, chunk) == {a: expected[a] for a in chunk}
        assert workers.fingerprints_made == len(rows)  # each article packed once, in its story's worker
        assert sorted(workers.routed) == [6, 6]  # two stories in each
    finally:
        store.links.PARALLEL_MIN = old
        workers.close()


def test_a_failure_in_a_worker_is_raised_in_the_linker_with_the_workers_traceback():
    import pytest

    rows = {r.id: r for r in _rows(4)}
    rows[3] = store.links.ArticleRow(3, "Broken", 12345, "h3", None, None)  # not text: fingerprinting fails
    workers = store.links._Verifiers(2)
    old = store.links.PARALLEL_MIN
    store.links.PARALLEL_MIN = 0
    try:
        with pytest.raises(store.links.LinkWorkerFailed, match="Traceback"):
            workers.verify(rows, {0: [1, 2, 3], 1: [3]})
        assert workers.verify(rows, {0: [1, 2]})  # the workers go on serving
    finally:
        store.links.PARALLEL_MIN = old
        workers.close()
