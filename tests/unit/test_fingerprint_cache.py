"""The linker's cache of fingerprints, in memory (no database)."""

from __future__ import annotations

from news_archive import store


def test_the_fingerprint_cache_gives_what_fingerprinting_gives_and_stays_in_its_budget():
    from news_archive import linking

    body = " ".join(f"Sentence {i} tells how the harbour council of Westbury met on day {i}." for i in range(30))
    rows = [store.links.ArticleRow(i, f"Title {i}", f"{body} Item {i}.", f"h{i}", None, None, None) for i in range(30)]
    fingerprints = store.links._Fingerprinter(1, cache_bytes=10**9)
    first = fingerprints(rows, keys=False)
    assert len(fingerprints.cache) == 30
    again = fingerprints(rows, keys=False)  # all from the cache
    fresh = {r.id: linking.fingerprint(r.title, r.body, r.body_hash, keys=False) for r in rows}
    assert again == first == fresh
    changed = store.links.ArticleRow(0, "Another title", rows[0].body, rows[0].body_hash, None, None, None)
    assert fingerprints([changed], keys=False)[0] == linking.fingerprint("Another title", rows[0].body, "h0",
                                                                        keys=False)
    assert fingerprints(rows[:1], keys=True)[0].keys  # keys are never served from a verification-only entry
    small = store.links._Fingerprinter(1, cache_bytes=3 * max(size for _, size in fingerprints.cache.values()))
    small(rows, keys=False)
    assert 0 < len(small.cache) <= 3 and small.cached_bytes <= small.cache_bytes
    assert list(small.cache)[-1][0] == 29  # the most recent are kept
