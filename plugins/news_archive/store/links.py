"""Version linking against the archive in Postgres: candidates, links, stories.

Owns archive.version_links, archive.link_keys (unlogged; restored after a crash, see
`restore_keys`) and its marker archive.link_keys_state, archive.link_pending_keys,
archive.stories and the link columns of archive.articles (story_id, linked_at, link_method).

Linkers take one pipeline lock (the 'link' row of archive.pipeline_locks) for each
transaction: two workers linking at once take turns, so each sees every key and link the
other committed (no lost and no duplicate links), and the result does not depend on which
worker ran first.

A link step works in chunks of articles, and overlaps them: while the verification workers
verify one chunk, the step writes the links of the chunk before and prepares the chunk
after (its candidates; its keys join the index), in one transaction. A chunk is so
prepared in one transaction and written in the next; if another linker committed in
between (`_take_link_lock` tells), the chunk is prepared, verified and written again in one
transaction, so that its candidates include everything that linker added.

The loading tasks leave each new article's candidate keys in archive.link_pending_keys
(`store_pending_keys`, in parallel across batches); a linker uses them while they match
the article's body and the method, computes them otherwise, and fingerprints in full only
the articles that have candidates to verify.
"""

from __future__ import annotations

import gc
import io
import itertools
import logging
import os
import sys
import time
import traceback
from collections import Counter, OrderedDict, defaultdict
from dataclasses import dataclass

import orjson
import psycopg2.extras

from news_archive.linking import (
    KEYS_VERSION,
    METHOD_VERSION,
    Packed,
    Walked,
    archived_diff,
    candidate_keys_of,
    guard_refuses,
    pack_walked,
    packed_fingerprint,
    sentence_diff,
    verify,
    walk_body,
)
from news_archive.store.db import connect_params, copy_rows, statement
from news_archive.store.locks import take_lock_and_mark

log = logging.getLogger(__name__)

PARALLEL_MIN = 200  # fingerprint in worker processes from this many articles on
POSTING_CAP = 200  # keys shared by more articles than this are too common to be evidence
MAX_CANDIDATES = 40
MIN_SHARED_KEYS = 2
KEY_RANGE = 4096  # keys read and then written at a time (`_probe_and_write_keys`): 32 MB of index leaves at most
ROUTES_KEPT = 200_000  # articles whose story's worker the linker remembers (_Verifiers._route): ~25 MB
FINGERPRINT_CACHE_BYTES = 512 * 1024 * 1024  # the linker's cache of recent fingerprints (NEWS_ARCHIVE_LINK_CACHE_MB)


# The texts of articles by id: what fingerprinting reads.
ARTICLE_TEXTS = "SELECT id, title, body, body_hash FROM archive.articles WHERE id = ANY(%s)"

# Linked articles by exact body (bpchar[]: see raw.SHA256_LOOKUP).
BODY_HASH_LOOKUP = """SELECT body_hash, array_agg(id ORDER BY id) FROM archive.articles
                      WHERE body_hash = ANY(%s::bpchar[]) AND linked_at IS NOT NULL GROUP BY body_hash"""


@dataclass
class ArticleRow:
    """An article as verification reads it. `body` is None where the linker did not read it:
    a verifier takes it from its cache, or reads it itself (`_FingerprintCache.fill_bodies`)."""

    id: int
    title: str
    body: str | None
    body_hash: str
    published_at: object
    ingested_at: object


def _rows(cur, ids: list[int], *, bodies: bool = True) -> dict[int, ArticleRow]:
    """The articles `ids`; without their bodies unless `bodies` (the verifiers read what they
    lack: a candidate comes back chunk after chunk, and its body was read and sent to a
    worker each time, 62,000 bodies for the 13,500 articles of make bench's corpus)."""
    cur.execute(
        f"""SELECT id, title, {'body' if bodies else 'NULL::text'}, body_hash, published_at, ingested_at
            FROM archive.articles WHERE id = ANY(%s)""",
        (ids,),
    )
    return {r[0]: ArticleRow(*r) for r in cur.fetchall()}


class _BodyReader:
    """Reads article bodies on a connection of its own, opened on first use: a verification
    worker's (forked, it opens its own) or the linker's when it verifies in-process.

    What it reads is committed: every article the linker verifies was committed by the
    loading task that loaded it. An article whose text changed since the linker read its row
    (a re-parse) is read as it is now; one deleted since (a re-parse quarantined it) has no
    text, so it links to nothing.
    """

    def __init__(self, params: dict | None):
        self.params = params
        self.conn = None
        self.read_count = 0  # bodies read

    def read(self, ids: list[int]) -> dict[int, tuple[str, str, str]]:
        """{id: (title, body, body hash)} of the articles `ids` that still exist."""
        if self.params is None:
            raise RuntimeError("articles without their bodies, and no database to read them from")
        if self.conn is None:
            self.conn = connect_params(self.params)
            self.conn.autocommit = True
        with self.conn.cursor() as cur:
            cur.execute(ARTICLE_TEXTS, (ids,))
            found = {r[0]: r[1:] for r in cur.fetchall()}
        self.read_count += len(ids)
        return found

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def _connection_params(conn) -> dict:
    """What opens another connection to `conn`'s database, as the same user."""
    params = {k: v for k, v in conn.get_dsn_parameters().items() if v and k != "application_name"}
    if conn.info.password:
        params["password"] = conn.info.password
    return params


def _direction(a: ArticleRow, b: ArticleRow, relation: str, short_is_a: bool) -> tuple[ArticleRow, ArticleRow]:
    """(parent, child): the fuller text for a condensed copy, else the earlier one."""
    if relation == "condensed":
        return (b, a) if short_is_a else (a, b)
    if a.published_at and b.published_at and a.published_at != b.published_at:
        return (a, b) if a.published_at < b.published_at else (b, a)
    return (a, b) if (a.ingested_at, a.id) <= (b.ingested_at, b.id) else (b, a)


class _Stories:
    """Story assignment for one chunk, in memory; written at the end of the chunk.

    New stories get placeholder ids above every real id, in creation order, so "the
    lowest id survives a merge" means what it did when stories were inserted one by one.
    """

    PLACEHOLDER = 1 << 62

    def __init__(self) -> None:
        self.new = 0
        self.merged_into: dict[int, int] = {}  # story -> the story it was merged into

    def root(self, story: int) -> int:
        while story in self.merged_into:
            story = self.merged_into[story]
        return story

    def assign(self, linked_stories: set[int]) -> int:
        roots = {self.root(s) for s in linked_stories}
        if not roots:
            self.new += 1
            return self.PLACEHOLDER + self.new
        target = min(roots)
        for other in roots - {target}:
            self.merged_into[other] = target
        return target

    def write(self, cur, story_of_pending: dict[int, int]) -> None:
        real: dict[int, int] = {}
        if self.new:
            cur.execute("INSERT INTO archive.stories SELECT FROM generate_series(1, %s) RETURNING id", (self.new,))
            ids = sorted(r[0] for r in cur.fetchall())
            real = {self.PLACEHOLDER + i + 1: story for i, story in enumerate(ids)}

        def final(story: int) -> int:
            story = self.root(story)
            return real.get(story, story)

        if self.merged_into:
            pairs = [(real.get(old, old), real.get(new, new)) for old, new in self.merged_into.items()]
            psycopg2.extras.execute_values(cur, statement("links/merge_stories"), pairs)
            roots = [(real.get(old, old), final(old)) for old in self.merged_into]
            psycopg2.extras.execute_values(cur, statement("links/move_articles_to_story"), roots)
        psycopg2.extras.execute_values(
            cur, statement("links/mark_linked"),
            [(aid, final(story), METHOD_VERSION) for aid, story in story_of_pending.items()], page_size=1000)


def link_workers() -> int:
    """Processes that fingerprint and verify: NEWS_ARCHIVE_LINK_WORKERS, default min(2, CPUs)."""
    value = os.environ.get("NEWS_ARCHIVE_LINK_WORKERS")
    return max(1, int(value)) if value else min(2, os.cpu_count() or 1)


def cache_bytes_setting() -> int:
    """NEWS_ARCHIVE_LINK_CACHE_MB (default 512): memory for the linker's fingerprint caches, all workers together."""
    value = os.environ.get("NEWS_ARCHIVE_LINK_CACHE_MB")
    return int(float(value) * 1024 * 1024) if value not in (None, "") else FINGERPRINT_CACHE_BYTES


def _cache_key(row: ArticleRow) -> tuple:
    """(id, body hash, title): an article edited since it was cached is not found."""
    return row.id, row.body_hash, row.title


class _FingerprintCache:
    """Verification's fingerprints (packed: `linking.Packed`) of the articles seen last, and
    the guard's profiles (`linking.Walked.profile()`) of candidates it refused, each with
    the article's body (its links' diffs are made from it, and a profile is packed from it
    when a later pair passes the guard).

    The same candidates come back chunk after chunk (at 40,000 real-mix dumps the linker
    verified 273,000 pairs among 27,500 articles): the last ones used are kept, up to
    `cache_bytes` of memory, keyed by (id, body hash, title) so that an edited article is
    fingerprinted again. Packed, a news article takes ~16 KB (68 KB as sets and dicts), its
    body ~2 KB more, so the default budget holds ~28,000 articles: the whole working set of
    a 40,000-dump run.
    """

    def __init__(self, cache_bytes: int):
        # key -> (packed or profile, the bytes counted for it, the body)
        self.cache: OrderedDict[tuple, tuple[Packed | Walked, int, str]] = OrderedDict()
        self.cache_bytes = cache_bytes
        self.cached_bytes = 0
        self.made = 0  # fingerprints packed (misses): more than the articles when the cache is too small

    def _put(self, key: tuple, value: Packed | Walked, body: str) -> None:
        size = value.nbytes() + sys.getsizeof(body)
        old = self.cache.pop(key, None)
        if old is not None:
            self.cached_bytes -= old[1]
        self.cache[key] = (value, size, body)
        self.cached_bytes += size
        while self.cached_bytes > self.cache_bytes and len(self.cache) > 1:
            self.cached_bytes -= self.cache.popitem(last=False)[1][1]

    def fill_bodies(self, rows: list[ArticleRow], reader: _BodyReader) -> None:
        """Give the `rows` read without their bodies their bodies: from the cache where it
        has the article (same id, body hash and title), else from `reader`, in one read."""
        missing = []
        for row in rows:
            if row.body is not None:
                continue
            hit = self.cache.get(_cache_key(row))
            if hit is not None:
                row.body = hit[2]
            else:
                missing.append(row)
        if not missing:
            return
        found = reader.read([row.id for row in missing])
        for row in missing:
            # as the archive holds it now (changed or gone since the linker read the row: see _BodyReader)
            row.title, row.body, row.body_hash = found.get(row.id, (row.title, "", row.body_hash))

    def guard_view(self, row: ArticleRow) -> Packed | Walked:
        """What the guard reads of `row`: its fingerprint or profile if kept, else its body
        walked (not packed: most candidates a large archive offers are refused here)."""
        key = _cache_key(row)
        hit = self.cache.get(key)
        if hit is not None:
            self.cache.move_to_end(key)
            return hit[0]
        walked = walk_body(row.body, row.body_hash)
        self._put(key, walked.profile(), row.body)
        return walked

    def get(self, row: ArticleRow, walked: Packed | Walked | None = None) -> Packed:
        """The packed fingerprint of `row`, from `walked` (its `guard_view`) where that still has its sentences."""
        key = _cache_key(row)
        hit = self.cache.get(key)
        if hit is not None and isinstance(hit[0], Packed):
            self.cache.move_to_end(key)
            return hit[0]
        if isinstance(walked, Walked) and walked.sentences is not None:
            fp = pack_walked(walked, row.title)
        else:
            fp = packed_fingerprint(row.title, row.body, row.body_hash)
        self.made += 1
        self._put(key, fp, row.body)
        return fp


def _json(value) -> str:
    """`value` as JSON text for a jsonb column: orjson, ~10x json.dumps (which took 6% of a
    link worker's time: three documents a link); numpy numbers (the scores) as numbers."""
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY).decode()


def _verify_work(cache: _FingerprintCache, rows: dict[int, ArticleRow], work: list[tuple[int, list[int]]],
                 reader: _BodyReader) -> list[tuple[int, list[tuple[int, tuple]]]]:
    """Verify each article against its candidates: [(article, [(other, the link's columns from
    parent to aligned diff)])], each article's links in its candidates' order.

    A pair the guard refuses on names and figures alone (`guard_refuses`: the verdict
    `verify` would give) is refused before either text is packed: against a million
    articles, 3,700 of the 4,800 archived candidates of a 5,000-article run were only ever
    in such pairs.

    Rows sent without their bodies get them first (`_FingerprintCache.fill_bodies`): from
    the cache, else from `reader`.
    """
    cache.fill_bodies([rows[i] for i in dict.fromkeys(i for a, ids in work for i in (a, *ids))], reader)
    found = []
    for article_id, candidate_ids in work:
        article = rows[article_id]
        article_view = cache.guard_view(article)
        article_fp = None
        links = []
        for other_id in candidate_ids:
            other = rows[other_id]
            other_view = cache.guard_view(other)
            if guard_refuses(article_view, other_view):
                continue
            article_fp = article_fp or cache.get(article, article_view)
            other_fp = cache.get(other, other_view)
            verdict = verify(article_fp, other_fp)
            if not verdict.linked:
                continue
            parent, child = _direction(article, other, verdict.relation, verdict.short_is_a)
            short_id = article_id if verdict.short_is_a else other_id
            parent_fp, child_fp = (article_fp, other_fp) if parent is article else (other_fp, article_fp)
            # the verdict aligned the short text against the long one: the diff reuses it
            steps = archived_diff(parent_fp, child_fp, parent.body, child.body,
                                  verdict.alignment if child.id == short_id else None)
            links.append((other_id, (
                parent.id, child.id, verdict.relation, _json(verdict.scores),
                _json(sentence_diff(parent_fp, child_fp, steps)), _json(steps))))
        if links:
            found.append((article_id, links))
    return found


def _keys_work(items: list[tuple[int, str]]) -> list[tuple[int, list[int]]]:
    return [(i, candidate_keys_of(body)) for i, body in items]


def _settle() -> None:
    """Move what is alive now out of the cyclic garbage collector's sight.

    A worker keeps thousands of fingerprints (six GC-tracked sets or objects a sentence),
    and every full collection walks them all: fingerprinting 11,700 articles while keeping
    them took 43-47 s with the collector on and 23-26 s with it off. Fingerprints hold no
    reference cycles, so reference counting alone frees one the cache drops; a request's
    cyclic garbage is collected here first, and only what survives it is frozen.
    """
    gc.collect()
    gc.freeze()


def _serve(channel, cache_bytes: int, params: dict | None) -> None:
    """A verification worker: requests in, results out, over one pipe, until told to stop.
    It reads the bodies it lacks itself, on a connection of its own (`params`)."""
    cache = _FingerprintCache(cache_bytes)
    reader = _BodyReader(params)
    gc.freeze()  # what the fork inherited (a collection would touch, and so copy, every page of it)
    try:
        while True:
            try:
                request = channel.recv()
            except EOFError:  # the linker is gone
                return
            if request is None:
                return
            kind, payload = request
            try:
                made, read = cache.made, reader.read_count
                result = _verify_work(cache, *payload, reader) if kind == "verify" else _keys_work(payload)
                channel.send((True, (result, cache.made - made, reader.read_count - read)))
            except BaseException:  # noqa: BLE001 - sent back, raised in the linker
                channel.send((False, traceback.format_exc()))
            _settle()
    finally:
        reader.close()


class LinkWorkerFailed(RuntimeError):
    pass


class _Verifiers:
    """Fingerprinting and verification, in worker processes when there is enough to do.

    Each worker is a process of its own with its own cache of fingerprints. An article and
    its candidates go to the worker of its best candidate's story (`_route`), so the
    versions of one story keep going to the worker that has their fingerprints. The workers are forked
    once, all together, before this process starts any thread of its own (forking a
    process with threads can leave a lock held in the child for ever), and they live as
    long as the link step. Little work (< PARALLEL_MIN pairs) runs here, in-process, until
    the workers exist; then all of it goes to them (so the caches stay within the budget).
    """

    def __init__(self, workers: int, cache_bytes: int | None = None, params: dict | None = None):
        self.workers = workers
        self.reader = _BodyReader(params)  # in-process verification's; its params go to the workers
        budget = cache_bytes_setting() if cache_bytes is None else cache_bytes
        self.worker_cache_bytes = budget // max(workers, 1)
        self.local = _FingerprintCache(budget if workers < 2 else self.worker_cache_bytes)
        self.channels: list = []
        self.processes: list = []
        self.fingerprints_made = 0  # by the workers and here: what the link step's counts report
        self.bodies_read = 0  # by the workers (in-process: self.reader.read_count)
        self.pairs_verified = 0
        self.busy: list | None = None  # the workers asked to verify, until gathered
        self.story_of: dict[int, int] = {}  # article -> the article whose worker its story goes to (_route)
        self.home: dict[int, int] = {}  # that article -> its worker
        self.routed = [0] * max(workers, 1)  # articles sent to each worker

    def _start(self) -> None:
        import multiprocessing

        # From now on every verification goes to the workers: the in-process cache is
        # dropped (before the fork, so no worker inherits it), and the caches together stay
        # within the budget.
        self.local = _FingerprintCache(self.local.cache_bytes)
        self.reader.close()  # (a connection open across the fork would be every worker's too)
        ctx = multiprocessing.get_context("fork")
        for _ in range(self.workers):
            mine, theirs = ctx.Pipe()
            process = ctx.Process(target=_serve, args=(theirs, self.worker_cache_bytes, self.reader.params),
                                  name="news-archive-linker")
            process.start()
            theirs.close()
            self.channels.append(mine)
            self.processes.append(process)

    def start(self) -> None:
        """Fork the workers now, if they are not running yet (before a thread is started)."""
        if not self.channels:
            self._start()

    def _send(self, kind: str, parts: list) -> list:
        """Send each worker its part (None: nothing for that worker); the channels asked."""
        self.start()
        asked = []
        for channel, payload in zip(self.channels, parts, strict=True):
            if payload is not None:
                channel.send((kind, payload))
                asked.append(channel)
        return asked

    def _gather(self, asked: list) -> list:
        """The results of the workers `_send` asked, in its order."""
        out = []
        for channel in asked:
            try:
                ok, result = channel.recv()
            except EOFError as error:
                raise LinkWorkerFailed("a link worker process died (out of memory?)") from error
            if not ok:
                raise LinkWorkerFailed("a link worker failed:\n" + result)
            result, made, read = result
            self.fingerprints_made += made
            self.bodies_read += read
            out.extend(result)
        return out

    def _ask(self, kind: str, parts: list) -> list:
        return self._gather(self._send(kind, parts))

    def keys(self, items: list[tuple[int, str]]) -> dict[int, list[int]]:
        """Candidate keys of (article id, body) items: articles left without stored keys, or
        the whole archive's when the keys are restored."""
        if self.workers < 2 or len(items) < PARALLEL_MIN or self.busy is not None:
            # (while the workers verify a chunk, here: they serve one request at a time)
            return dict(_keys_work(items))
        return dict(self._ask("keys", [items[w :: self.workers] for w in range(self.workers)]))

    def verify(self, rows: dict[int, ArticleRow], candidates: dict[int, list[int]]
               ) -> dict[int, list[tuple[int, tuple]]]:
        """Verify each article against its candidates: {article: [(other, link columns)]}."""
        return self.gather(self.submit(rows, candidates))

    def submit(self, rows: dict[int, ArticleRow], candidates: dict[int, list[int]]) -> tuple:
        """Start verifying (`verify`); its result comes from `gather`. With workers, they work
        while this process goes on; in-process, the work is done here and now. One at a time."""
        if self.busy is not None:
            raise RuntimeError("a verification is already under way: gather it first")
        work = [(a, ids) for a, ids in candidates.items() if ids]
        pairs = sum(len(ids) for _, ids in work)
        self.pairs_verified += pairs
        if self.workers < 2 or (pairs < PARALLEL_MIN and not self.channels):
            made = self.local.made
            found = dict(_verify_work(self.local, rows, work, self.reader))
            self.fingerprints_made += self.local.made - made
            return ("done", found)
        parts: list[list] = [[] for _ in range(self.workers)]
        for a, ids in work:
            parts[self._route(a, ids)].append((a, ids))
        payloads = [(({i: rows[i] for a, ids in part for i in (a, *ids)}, part) if part else None) for part in parts]
        self.busy = self._send("verify", payloads)
        return ("asked", self.busy)

    def _route(self, article: int, candidates: list[int]) -> int:
        """The worker to verify `article` against its `candidates` (best first).

        An article goes where its best candidate's story went: a story's versions then meet
        in one worker, whose cache already has their fingerprints. Routed by the lowest id
        among the article and all its candidates instead, one chance candidate from another
        story (most articles have a few) sent an article away from its story, and its
        fingerprint and its story's were made in both workers: 16,338 fingerprints for the
        13,448 articles of make bench's corpus, 35,099 for the 26,756 of twice that corpus,
        against 15,245 and 31,883 this way (replaying those link steps' candidates). A story
        seen first goes to the worker sent the fewest articles so far.
        """
        if len(self.story_of) >= ROUTES_KEPT:  # (a relink of a whole archive: start afresh, memory stays bounded)
            self.story_of.clear()
            self.home.clear()
        story = self.story_of.setdefault(article, self.story_of.get(candidates[0], candidates[0]))
        worker = self.home.get(story)
        if worker is None:
            worker = self.home[story] = min(range(self.workers), key=self.routed.__getitem__)
        self.routed[worker] += 1
        return worker

    def gather(self, job: tuple) -> dict[int, list[tuple[int, tuple]]]:
        """The result of a `submit`: waits for the workers if they are still at it."""
        kind, value = job
        if kind == "done":
            return value
        self.busy = None
        return dict(self._gather(value))

    def close(self) -> None:
        for channel in self.channels:
            try:
                channel.send(None)
            except OSError:
                pass
            channel.close()
        for process in self.processes:
            process.join(10)
            if process.is_alive():
                process.kill()
        self.channels, self.processes = [], []
        self.reader.close()


def store_pending_keys(conn, article_ids: list[int]) -> int:
    """Fingerprint just-loaded articles and keep their candidate keys for the linker.

    Runs in the loading task (parallel across batches); idempotent (a retry rewrites the
    same rows). Returns how many articles got keys.
    """
    if not article_ids:
        return 0
    with conn, conn.cursor() as cur:
        cur.execute(ARTICLE_TEXTS, (article_ids,))
        rows = [(i, body_hash, candidate_keys_of(body)) for i, _title, body, body_hash in cur]
        cur.execute("DELETE FROM archive.link_pending_keys WHERE article_id = ANY(%s)", (article_ids,))
        buf = io.StringIO("".join(f"{i}\t{h}\t{KEYS_VERSION}\t{{{','.join(map(str, keys))}}}\n"
                                  for i, h, keys in rows))
        cur.copy_expert("COPY archive.link_pending_keys (article_id, body_hash, method_version, keys) FROM STDIN", buf)
    return len(rows)


def _keys_of(cur, rows: dict[int, ArticleRow], pending: list[int], verifiers: _Verifiers) -> dict[int, list[int]]:
    """Candidate keys of the pending articles: stored by the loading task where still valid,
    else computed here."""
    cur.execute(
        """SELECT article_id, body_hash, keys FROM archive.link_pending_keys
           WHERE article_id = ANY(%s) AND method_version = %s""",  # (the keys' method)
        (pending, KEYS_VERSION),
    )
    keys = {i: k for i, body_hash, k in cur.fetchall() if rows[i].body_hash == body_hash}
    if missing := [i for i in pending if i not in keys]:  # (their rows were read without bodies)
        keys.update(verifiers.keys([(i, row.body) for i, row in _rows(cur, missing).items()]))
    return keys


def restore_keys(conn, verifiers: _Verifiers, batch: int = 2000) -> int:
    """Make every linked article's candidate keys again if link_keys does not hold them.

    link_keys is unlogged (migration 009): after a crash, or on a replica promoted after a
    failover, it is empty, and so is link_keys_state, its one-row marker. Without its
    keys the archive would offer new articles no candidates and links would be missed
    without a sound. The marker also names the method the keys were made with
    (`linking.KEYS_VERSION`, migration 010): keys of another method would not meet the new
    articles' keys. So the linker checks the marker first and, when it is gone or names
    another method, computes the keys of every linked article from its body (in the
    verification workers) and writes them back, in one transaction holding the link lock:
    a crash during the rebuild leaves no marker, and the next linker starts it again.
    Returns the articles whose keys were made again (0 when the keys were there).
    """
    with conn, conn.cursor() as cur:
        _take_link_lock(cur)
        cur.execute("SELECT keys_version FROM archive.link_keys_state")
        marker = cur.fetchone()
        if marker and marker[0] == KEYS_VERSION:
            return 0
        t = time.perf_counter()
        # Written in one go, the index is built once at the end: 57 million keys inserted
        # chunk by chunk into an index larger than memory took 68 minutes, against 24
        # (bench/link_bench.py's bulk build of a million articles).
        cur.execute("TRUNCATE archive.link_keys")  # (only the linker reads it, under the lock held)
        cur.execute("DROP INDEX archive.link_keys_key_article_idx")
        restored = 0
        with conn.cursor(name="link_keys_restore") as articles:  # streamed: the archive never sits in memory
            articles.itersize = batch
            articles.execute("SELECT id, body FROM archive.articles WHERE linked_at IS NOT NULL ORDER BY id")
            while items := articles.fetchmany(batch):
                keys_of = verifiers.keys(items)
                _copy_keys(cur, [i for i, _ in items], keys_of)
                restored += len(items)
        cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cur.execute(statement("links/create_key_index"))
        cur.execute("DELETE FROM archive.link_keys_state")
        cur.execute("INSERT INTO archive.link_keys_state (keys_version) VALUES (%s)", (KEYS_VERSION,))
        if restored:
            why = (f"made with another method ({marker[0] or 'before versions were kept'}, now {KEYS_VERSION})"
                   if marker else "lost (a crash or a failover empties the unlogged archive.link_keys)")
            log.warning("link keys were %s: made the keys of %d linked articles again in %.1f s",
                        why, restored, time.perf_counter() - t)
    return restored


def link_pending(conn, run_id: str | None = None, *, chunk: int = 1000, workers: int | None = None) -> dict[str, int]:
    """Link every article not linked yet against the whole archive; returns counts: articles
    linked, links made, candidate pairs verified, and full fingerprints computed for them
    (about the articles involved when the caches hold them; more when they do not), and
    the articles whose keys were restored after a crash (`restore_keys`)."""
    totals = Counter()
    with conn, conn.cursor() as cur:
        # The loading tasks have just added articles the planner has no statistics for yet
        # (autovacuum comes later): without these, the per-chunk lookup by body hash below
        # is planned as a scan of the whole table (58 ms per chunk at 100k articles).
        # The plans need only the table's size, that body hashes hardly repeat and how many
        # articles are unlinked: a sample of 3,000 rows tells (the default, 30,000, took
        # 0.51 s at 1M articles against 0.06 s at 10k; these columns' statistics only).
        cur.execute("SET LOCAL default_statistics_target = 10")
        cur.execute("ANALYZE archive.articles (body_hash, linked_at)")
    verifiers = _Verifiers(link_workers() if workers is None else workers, params=_connection_params(conn))
    reader = _PostingReader(conn) if verifiers.workers > 1 else None  # (one core: nothing to overlap)
    after = 0  # chunks in id order, each after the last: the unlinked index's entries of the
    # articles linked so far stay until vacuum, and a scan from the start would walk them all
    under_way: _Chunk | None = None  # prepared, its keys committed, being verified; written next
    ours = None  # the link lock row's version our last transaction left (see _take_link_lock)
    try:
        totals["keys_restored"] = restore_keys(conn, verifiers)
        while True:
            with conn, conn.cursor() as cur:
                before, mine = _take_link_lock(cur)
                alone = True
                if under_way is not None and before != ours:
                    # Another linker committed since the chunk under way was prepared: its
                    # candidates may miss what that linker added. Its verification is dropped,
                    # and this transaction links it again, prepared and written in one go.
                    verifiers.gather(under_way.job)
                    log.info("another linker committed while %d articles were being verified: linking them again",
                             len(under_way.pending))
                    after, under_way, alone = under_way.pending[0] - 1, None, False
                ours = mine
                following = _prepare_chunk(cur, after, chunk, under_way, verifiers, reader)
                more = following is not None
                found = verifiers.gather(under_way.job) if under_way is not None else None
                if following is not None:
                    after = following.pending[-1]
                    following.job = verifiers.submit(following.rows, following.candidates)
                    if not alone:
                        totals.update(_write_chunk(cur, following, verifiers.gather(following.job), run_id))
                        following = None
                if under_way is not None:
                    # (the workers verify the following chunk meanwhile)
                    totals.update(_write_chunk(cur, under_way, found, run_id))
                under_way = following
            if not more:  # (and nothing is under way)
                if after == 0:
                    break
                after = 0  # one more pass from the start: an article unlinked behind us (reparse)
        totals["pairs"] = verifiers.pairs_verified  # candidate pairs verified
        totals["fingerprints"] = verifiers.fingerprints_made  # full fingerprints computed for them
        totals["bodies_read"] = verifiers.bodies_read + verifiers.reader.read_count  # by the verifiers
    finally:
        verifiers.close()
        if reader is not None:
            reader.close()
    return dict(totals)


def _take_link_lock(cur) -> tuple[str, str]:
    """Take the link lock for this transaction and mark the lock's row as ours: (the
    transaction that marked it last, this one).

    Each linking transaction rewrites the row (`take_lock_and_mark`), so its version (xmin)
    names the last transaction that linked. A link step prepares a chunk in one transaction and
    writes its links in the next, the workers verifying it in between; if the row was
    marked by someone else in between, another linker (or a key rebuild, or a relink)
    committed, and the chunk is linked again (`link_pending`).
    """
    return take_lock_and_mark(cur, "link")


# COPY's binary format: a header, then per row a field count and (length, value) per field.
_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, header extension length
_BINARY_TRAILER = b"\xff\xff"


def _key_rows(pending: list[int], keys_of: dict[int, list[int]]):
    """The (key, article id) rows of `pending` in COPY's binary layout, sorted by key then article.

    A million-odd rows per 20,000 articles: numpy sorts them and lays them out (no Python
    object per row, no text for the server to parse). Returns (rows, their keys in order).
    """
    import numpy as np

    sizes = [len(keys_of[a]) for a in pending]
    total = sum(sizes)
    keys = np.fromiter(itertools.chain.from_iterable(keys_of[a] for a in pending), dtype=np.int64, count=total)
    ids = np.repeat(np.array(pending, dtype=np.int64), sizes)
    order = np.lexsort((ids, keys))  # by key, then article: the key index is filled in order
    rows = np.empty(total, dtype=np.dtype([("fields", ">i2"), ("key_len", ">i4"), ("key", ">i8"),
                                           ("id_len", ">i4"), ("id", ">i8")]))
    rows["fields"], rows["key_len"], rows["id_len"] = 2, 8, 8
    rows["key"], rows["id"] = keys[order], ids[order]
    return rows, keys[order]


def _copy_key_rows(cur, rows) -> None:
    if len(rows):
        buf = io.BytesIO(_BINARY_HEADER + rows.tobytes() + _BINARY_TRAILER)
        cur.copy_expert("COPY archive.link_keys (key, article_id) FROM STDIN WITH (FORMAT binary)", buf)


def _copy_keys(cur, pending: list[int], keys_of: dict[int, list[int]]) -> None:
    """COPY the (key, article id) rows of `pending` into link_keys, in key order."""
    _copy_key_rows(cur, _key_rows(pending, keys_of)[0])


class _PostingReader:
    """A second connection that reads the archive's postings of a chunk's keys while the
    link step's own connection writes them (`_probe_and_write_keys`).

    Both statements are random walks over the key index, and the verification workers idle
    while they run: one after the other they kept one core busy. The reader sees what is
    committed, which is the archive as the chunk's transaction sees it, less the chunk's own
    keys, which no read of the chunk must see anyway (the link lock keeps other linkers out).
    """

    def __init__(self, conn):
        self.params = _connection_params(conn)
        self.conn = self.pool = None  # (opened by the first read: a small link step needs neither)

    def _read(self, ranges: list) -> dict[int, list[int]]:
        postings: dict[int, list[int]] = {}
        with self.conn.cursor() as cur:
            for keys in ranges:
                _read_postings(cur, keys, postings)
        return postings

    def read(self, ranges: list):
        """The postings of `ranges` (arrays of sorted keys), read in the background: a Future."""
        if self.conn is None:
            from concurrent.futures import ThreadPoolExecutor

            self.conn = connect_params(self.params)
            self.conn.autocommit = True  # (each probe reads the committed archive; nothing to hold open)
            self.pool = ThreadPoolExecutor(1, thread_name_prefix="link-postings")
        return self.pool.submit(self._read, ranges)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True)
        if self.conn is not None:
            self.conn.close()


def _read_postings(cur, keys, postings: dict[int, list[int]]) -> None:
    """Add the archive's postings of `keys` (a sorted array) to `postings`."""
    cur.execute(statement("links/candidate_postings"), {"keys": keys.tolist(), "limit": POSTING_CAP + 1})
    postings.update(cur.fetchall())


def _probe_and_write_keys(cur, pending: list[int], keys_of: dict[int, list[int]],
                          reader: _PostingReader | None = None) -> dict[int, list[int]]:
    """The archive's postings of the chunk's keys; the chunk's keys join the index as they are read.

    Range by range in key order (KEY_RANGE keys at a time): a range's postings are read,
    then the chunk's rows with those keys are written. Reading a key and writing it touch
    the same leaf of the key index, and right after the read that leaf is still in shared
    buffers. Read all first and written after, a chunk's 40,000-odd keys would pass through
    more leaves than the buffers hold once the index outgrows them (a million articles:
    a 1.2 GB index against PostgreSQL's default 128 MB), and every leaf would be read
    from the OS twice. Ranges do not overlap, so no read sees the chunk's own rows.
    With a `reader`, its connection reads the ranges while this one writes them, in the
    same order, so a leaf read by one is still in the buffers for the other (a reader sees
    no uncommitted row at all).
    """
    import numpy as np

    rows, row_keys = _key_rows(pending, keys_of)
    all_keys = np.unique(row_keys)  # sorted
    ranges = [all_keys[start:start + KEY_RANGE] for start in range(0, len(all_keys), KEY_RANGE)]
    read = reader.read(ranges) if reader is not None and ranges else None
    postings: dict[int, list[int]] = {}
    for keys in ranges:
        if read is None:
            _read_postings(cur, keys, postings)
        lo = np.searchsorted(row_keys, keys[0], side="left")
        hi = np.searchsorted(row_keys, keys[-1], side="right")
        _copy_key_rows(cur, rows[lo:hi])
    return read.result() if read is not None else postings


@dataclass
class _Chunk:
    """A chunk prepared for verification: its articles (in id order) and their candidates."""

    pending: list[int]
    rows: dict[int, ArticleRow]  # the articles and their candidates
    candidates: dict[int, list[int]]
    bodies: dict[str, list[int]]  # body hash -> the chunk's articles with that body
    job: tuple | None = None  # its verification (_Verifiers.submit)


def _prepare_chunk(cur, after: int, chunk: int, under_way: _Chunk | None, verifiers: _Verifiers,
                   reader: _PostingReader | None = None) -> _Chunk | None:
    """The next chunk of unlinked articles after id `after`, with its candidates; its keys
    join the index (None: no article is left after `after`).

    A handful of statements per chunk, not per article: the postings of the chunk's keys
    are read a range of keys at a time, and the chunk's keys of that range written right
    after (`_probe_and_write_keys`); articles of the chunk see the keys of the ones before
    them through an in-memory index. The chunk `under_way` (prepared by the transaction
    before, its keys committed, its links not written yet) counts as linked: its articles
    are candidates by their keys, as committed, and by their bodies, from memory.
    """
    cur.execute("SELECT id FROM archive.articles WHERE linked_at IS NULL AND id > %s ORDER BY id LIMIT %s",
                (after, chunk))
    pending = [r[0] for r in cur.fetchall()]
    if not pending:
        return None
    rows = _rows(cur, pending, bodies=False)  # (the verifiers read the bodies they need)
    keys_of = _keys_of(cur, rows, pending, verifiers)

    cur.execute("DELETE FROM archive.link_keys WHERE article_id = ANY(%s)", (pending,))  # none, unless reset by hand
    stale = cur.rowcount  # (a deletion the reader's connection cannot see yet: then read here)
    cur.execute("DELETE FROM archive.link_pending_keys WHERE article_id = ANY(%s)", (pending,))
    # The reader for a chunk the workers will verify: they are forked first, as no thread may
    # run when they are (see _Verifiers). A chunk under PARALLEL_MIN articles reads its own.
    if reader is not None and not stale and len(pending) >= PARALLEL_MIN:
        verifiers.start()
    else:
        reader = None
    # (the lock is held: nobody sees the chunk's keys before it commits)
    db_postings = _probe_and_write_keys(cur, pending, keys_of, reader)
    hashes = sorted({rows[a].body_hash for a in pending})
    cur.execute(BODY_HASH_LOOKUP, (hashes,))
    db_bodies: dict[str, list[int]] = dict(cur.fetchall())
    if under_way is not None:  # not linked yet, so not found by the lookup: as linked, in id order
        for body_hash in hashes:
            if body_hash in under_way.bodies:
                db_bodies[body_hash] = sorted(db_bodies.get(body_hash, []) + under_way.bodies[body_hash])

    # Candidates, in order: the archive's postings plus the chunk's own earlier articles.
    # (Most keys have no posting anywhere: .get, so looking one up builds nothing.)
    chunk_postings: dict[int, list[int]] = defaultdict(list)
    chunk_bodies: dict[str, list[int]] = defaultdict(list)
    candidates: dict[int, list[int]] = {}
    for article_id in pending:
        article, keys = rows[article_id], keys_of[article_id]
        score: Counter[int] = Counter()
        for other in db_bodies.get(article.body_hash, []) + chunk_bodies[article.body_hash]:
            score[other] += 1000
        for key in keys:
            db_ids, own = db_postings.get(key), chunk_postings.get(key)
            if db_ids is None and own is None:
                continue
            ids = (db_ids or []) + (own or [])
            if len(ids) <= POSTING_CAP:
                score.update(ids)
        score.pop(article_id, None)
        candidates[article_id] = [i for i, n in score.most_common(MAX_CANDIDATES) if n >= MIN_SHARED_KEYS]
        for key in keys:
            chunk_postings[key].append(article_id)
        chunk_bodies[article.body_hash].append(article_id)
    # Full fingerprints only where there is something to verify: most articles have no candidate.
    involved = {i for a, ids in candidates.items() if ids for i in (a, *ids)}
    missing = sorted(i for i in involved if i not in rows)
    if missing:
        rows.update(_rows(cur, missing, bodies=False))
    return _Chunk(pending, rows, candidates, dict(chunk_bodies))


def _write_chunk(cur, prepared: _Chunk, found: dict[int, list[tuple[int, tuple]]], run_id: str | None) -> Counter:
    """Write a verified chunk's links and stories, and mark its articles linked."""
    counts: Counter = Counter()
    # The stories of the articles linked to, as they stand now (a chunk written since this
    # one was prepared may have given some their story, or merged two).
    others = sorted({other for links in found.values() for other, _ in links} - set(prepared.pending))
    story_now: dict[int, int | None] = {}
    if others:
        cur.execute("SELECT id, story_id FROM archive.articles WHERE id = ANY(%s)", (others,))
        story_now = dict(cur.fetchall())
    stories = _Stories()
    story_of: dict[int, int] = {}
    links = []
    for article_id in prepared.pending:
        linked_stories: set[int] = set()
        for other_id, link in found.get(article_id, ()):
            links.append((*link, METHOD_VERSION, run_id))
            other_story = story_of.get(other_id, story_now.get(other_id))
            if other_story is not None:
                linked_stories.add(other_story)
        story_of[article_id] = stories.assign(linked_stories)
        counts["articles"] += 1

    if links:
        _insert_links(cur, links)
        counts["links"] += cur.rowcount
    stories.write(cur, story_of)
    return counts


_STAGED_COLUMNS = ("n", "parent_article_id", "child_article_id", "relation", "scores", "diff_summary", "aligned_diff",
                   "method_version", "run_id")


def _insert_links(cur, links: list[tuple]) -> None:
    """Insert a chunk's links (rows of links/insert_version_links' columns), COPYed to a
    session's staging table first; cur.rowcount: the links inserted."""
    cur.execute("SELECT to_regclass('pg_temp.staged_version_links') IS NULL")
    if cur.fetchone()[0]:
        cur.execute(statement("links/staged_version_links"))
    copy_rows(cur, "pg_temp.staged_version_links", _STAGED_COLUMNS, ((n, *link) for n, link in enumerate(links)))
    cur.execute(statement("links/insert_version_links"))


def unlink(cur, article_id: int) -> None:
    """Forget an article's links and keys (its text changed): the next link step links it again."""
    cur.execute("DELETE FROM archive.version_links WHERE parent_article_id = %s OR child_article_id = %s",
                (article_id, article_id))
    cur.execute("DELETE FROM archive.link_keys WHERE article_id = %s", (article_id,))


def relink_all(conn, run_id: str | None = None) -> dict[str, int]:
    """Recompute every link and story with the current method (idempotent)."""
    with conn, conn.cursor() as cur:
        _take_link_lock(cur)
        cur.execute("DELETE FROM archive.version_links")
        cur.execute("DELETE FROM archive.link_keys")
        cur.execute("UPDATE archive.articles SET linked_at = NULL, link_method = NULL, story_id = NULL")
        cur.execute("DELETE FROM archive.stories")
    return link_pending(conn, run_id)
