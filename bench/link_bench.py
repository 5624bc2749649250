"""Link-stage scaling: throughput at 10k and 100k articles, and the cost of linking a
batch of 1,000 new articles against an archive of 10k and of 100k.

    make bench-links                           # 10k then 100k (about 10 minutes)
    .venv/bin/python bench/link_bench.py --sizes 2000 10000   # quicker

Articles are generated (bench/corpus.py) and loaded straight into the archive tables
(the link stage is what is measured); each new batch holds 700 new articles and 300
versions (reworded, cut, revised) of archived ones, so candidates are found and verified.
Goal printed: time(batch vs largest) / time(batch vs smallest) <= 1.5.

    make bench-links ARCHIVE=1000000           # a run of 5,000 against 10k, then against 1M

With --archive N the archive is built by a bulk path (parse, load and candidate keys in
worker processes, keys COPYed, articles marked linked without verifying them: the archive's
own links do not change what a new run costs), and a run of 5,000 new articles (70% new,
30% versions of archived ones; each run versions 2,000 archived articles of its own, so the
second run does not also meet the first's versions) is linked against a copy of a 10,000-article
archive, then against a copy of the N-article one, three times over (the medians count). Goals:
median time(run vs N) <= 1.3 x median time(run vs 10k), peak RSS < 1 GiB; the link index's
size per million articles is printed. About 25 minutes at 1M on 2 cores; the copies need
twice the archive's disk (about 23 GB at 1M).

Each run is measured as a scheduled run finds a server sized for the archive: the indexes a
link step touches at random (`warm`: about 2 GB per million articles) are read into shared
buffers first, as the runs before it leave them; the output says whether they fit. With no
server configured (NEWS_ARCHIVE_BENCH_ADMIN_DSN, NEWS_ARCHIVE_TEST_ADMIN_DSN) the archives go
to a dedicated embedded server in .devdb/bench-pgdata with shared_buffers a quarter of RAM.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg2.extensions  # noqa: E402

from bench.common import (  # noqa: E402
    ADMIN_DSN_VARIABLES,
    REPO,
    archive_raw,
    configured_admin_dsn,
    database_copy,
    dedicated_server,
    in_own_process,
    peak_children_rss_mib,
    peak_rss_mib,
    ram_bytes,
    scratch_database,
)
from devkit import evaluation  # noqa: E402
from news_archive import linking, store  # noqa: E402
from news_archive.parsing import Article, parse_document  # noqa: E402


def load_articles(conn, run_id: str, docs: list[tuple[str, bytes]]) -> int:
    """Archive raw bytes, load the parsed articles and leave their candidate keys, as each
    loading task does (no GX: the link stage is measured)."""
    loaded = 0
    for start in range(0, len(docs), 2000):
        chunk = docs[start : start + 2000]
        raw_id = archive_raw(conn, run_id, chunk)
        rows = []
        for name, content in chunk:
            article = parse_document(content)
            if isinstance(article, Article) and name in raw_id:
                rows.append(store.articles.article_record(raw_id[name], article, [], run_id))
        inserted = store.articles.load_batch(conn, run_id, rows, [])["inserted"]
        store.links.store_pending_keys(conn, inserted)  # (the link task computed them before: not what a run does)
        loaded += len(inserted)
    return loaded


def as_docs(articles, prefix: str) -> list[tuple[str, bytes]]:
    return [(f"{prefix}-{aid}.txt", f"{title}\n\n{body}\n".encode()) for aid, title, body in articles]


def new_batch(archive: list[tuple[str, str, str]], seed: int, size: int = 1000) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    fresh = evaluation.generated_articles(size * 7 // 10, seed=seed)
    versions = []
    for aid, title, body in rng.sample(archive, size - len(fresh)):
        kind = rng.choice(("reworded", "condensed", "revised"))
        text = (evaluation.reword(body, rng) if kind == "reworded" else
                evaluation.reword(body, rng, keep=0.5) if kind == "condensed" else evaluation.revise(body, rng))
        versions.append((f"{aid}-{kind}", title, text))
    return as_docs(fresh, f"new{seed}") + as_docs(versions, f"v{seed}")


def link(conn, run_id: str) -> tuple[dict, float]:
    t = time.perf_counter()
    counts = store.links.link_pending(conn, run_id)
    return counts, time.perf_counter() - t


def _link_task(dsn: str, run_id: str) -> tuple[dict, float, float]:
    """The link task in a process of its own, as the DAG runs it: (counts, seconds, peak RSS
    of the task or of its largest verification worker, MiB)."""
    conn = store.db.connect(dsn)
    try:
        counts, seconds = link(conn, run_id)
    finally:
        conn.close()
    return counts, seconds, max(peak_rss_mib(), peak_children_rss_mib())



def _bulk_part(args) -> list[tuple[bytes, str, object, list[int]]]:
    """Generate, parse and key one part of the bulk archive (in a worker process)."""
    start, n = args
    out = []
    for aid, title, body in evaluation.generated_articles(n, seed=500_000 + start):
        content = f"{title}\n\n{body}\n".encode()
        article = parse_document(content)
        if isinstance(article, Article):
            out.append((content, f"bulk-{start}-{aid}.txt", article, linking.candidate_keys_of(article.body)))
    return out


def bulk_archive(conn, run_id: str, start: int, target: int, part: int = 2_000) -> None:
    """Grow the archive from `start` to `target` articles: loaded and keyed, marked linked.

    Growing it more than tenfold, the link keys' index is dropped first and built once at
    the end (57 million keys at 1M: inserting them one chunk at a time into an index that
    outgrows memory: the 1M build took 68 minutes with the index, 24 without).
    """
    import multiprocessing

    rebuild_index = target > 10 * max(start, 1)
    if rebuild_index:
        with conn, conn.cursor() as cur:
            cur.execute("DROP INDEX archive.link_keys_key_article_idx")
    with conn, conn.cursor() as cur:  # the keys are the current method's (or the link step would make them again)
        cur.execute("UPDATE archive.link_keys_state SET keys_version = %s", (linking.KEYS_VERSION,))
    parts = [(i, min(part, target - i)) for i in range(start, target, part)]
    with multiprocessing.get_context("fork").Pool(2) as pool:
        for done, items in enumerate(pool.imap(_bulk_part, parts, chunksize=1)):
            raw_id = archive_raw(conn, run_id, [(name, c) for c, name, _, _ in items], page_size=1000)
            keep = [x for x in items if x[1] in raw_id]
            rows = [store.articles.article_record(raw_id[name], article, [], run_id) for _, name, article, _ in keep]
            store.articles.load_batch(conn, run_id, rows, [])
            with conn, conn.cursor() as cur:
                cur.execute("SELECT raw_document_id, id FROM archive.articles WHERE raw_document_id = ANY(%s)",
                            ([r.raw_document_id for r in rows],))
                by_raw = dict(cur.fetchall())
            keys_of = {by_raw[raw_id[name]]: keys for _, name, _, keys in keep if raw_id[name] in by_raw}
            with conn, conn.cursor() as cur:
                ordered = sorted(keys_of)
                store.links._copy_keys(cur, ordered, keys_of)
                cur.execute(store.db.statement("articles/index_search"), {"ids": ordered})
                cur.execute("UPDATE archive.articles SET linked_at = now(), link_method = %s WHERE id = ANY(%s)",
                            (linking.METHOD_VERSION, ordered))
            if (done + 1) % 50 == 0:
                print(f"  bulk archive: {parts[done][0] + parts[done][1]:,} articles", flush=True)
    if rebuild_index:
        t = time.perf_counter()
        with conn, conn.cursor() as cur:
            cur.execute("SET LOCAL maintenance_work_mem = '1GB'")
            cur.execute(store.db.statement("links/create_key_index"))
        print(f"  link keys' index built in {time.perf_counter() - t:.0f} s", flush=True)


def archive_size(conn) -> dict:
    with conn, conn.cursor() as cur:
        cur.execute("""SELECT (SELECT count(*) FROM archive.articles),
                              (SELECT count(*) FROM archive.link_keys),
                              pg_total_relation_size('archive.link_keys'),
                              pg_total_relation_size('archive.articles'),
                              pg_total_relation_size('archive.raw_documents'),
                              pg_total_relation_size('archive.article_search'),
                              pg_database_size(current_database())""")
        names = ("articles", "link_keys", "link_keys_bytes", "articles_bytes", "raw_bytes", "search_bytes", "db_bytes")
        return dict(zip(names, cur.fetchone(), strict=True))


RUN_SEEDS = 1_000_000_000  # the measured runs' generator seeds; the bulk parts' are 500,000 + their start


def vacuum_analyze(conn) -> None:
    """VACUUM ANALYZE the bulk-built tables, as autovacuum would have by the time a run comes."""
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("VACUUM ANALYZE archive.articles")
        cur.execute("VACUUM ANALYZE archive.link_keys")
    conn.autocommit = False


def measured_run(part: int, size: int) -> list[tuple[str, bytes]]:
    """The run of 5,000 new articles measured against an archive of `size`: 5 batches of
    1,000 as the loading tasks leave them, whose versions are of bulk part `part` (2,000
    archived articles, in every archive from (part + 1) x 2,000 on)."""
    start = part * 2_000
    archive = [(f"a{start + i}", title, body) for i, (_, title, body) in
               enumerate(evaluation.generated_articles(2_000, seed=500_000 + start))]
    run = []
    for k in range(5):
        # (seeds apart from the bulk parts': seed 1,000,000 was also bulk part 500,000's,
        # so the run against 1M held 698 exact copies of archived articles)
        run += new_batch(archive, seed=RUN_SEEDS + size + k)
    return run


def build_archive(dsn: str, size: int) -> float:
    """Bulk-build an archive of `size` articles in the (fresh, migrated) database `dsn` and
    VACUUM ANALYZE it; returns the seconds it took."""
    conn = store.db.connect(dsn)
    try:
        store.runs.start_run(conn, "bench")
        t = time.perf_counter()
        bulk_archive(conn, "bench", 0, size)
        vacuum_analyze(conn)
        return time.perf_counter() - t
    finally:
        conn.close()


def _print_sizes(conn, seconds: float) -> None:
    sizes = archive_size(conn)
    print(f"archive {sizes['articles']:,} articles built in {seconds:.0f} s; "
          f"link index {sizes['link_keys']:,} keys, {sizes['link_keys_bytes'] / 2**20:,.0f} MiB "
          f"({sizes['link_keys_bytes'] / sizes['articles'] * 1e6 / 2**30:.2f} GiB per million articles, "
          f"{sizes['link_keys'] / sizes['articles']:.1f} keys per article); articles "
          f"{sizes['articles_bytes'] / sizes['articles']:,.0f} B, raw "
          f"{sizes['raw_bytes'] / sizes['articles']:,.0f} B, search "
          f"{sizes['search_bytes'] / sizes['articles']:,.0f} B per article; database "
          f"{sizes['db_bytes'] / 2**30:.2f} GiB", flush=True)


WARM_TABLES = ("archive.link_keys", "archive.articles")  # what every link step reads and writes at random


def warm(conn) -> tuple[int, int]:
    """Read the btree indexes of the tables a link step reads and writes into shared buffers,
    as the runs before this one leave them on a server whose buffers hold them: every run
    probes the key index at random across it, looks bodies up by hash, and its UPDATE of the
    new articles (story_id is indexed, so not a HOT update) inserts into every index of
    archive.articles, the two hash indexes at random. A fresh copy of a database starts with
    none of its pages in the buffers. (pg_prewarm would do it; the embedded server has no
    contrib modules.) Each index is read whole by an index-only scan in its own order.
    Returns (the indexes' bytes, shared_buffers' bytes)."""
    with conn, conn.cursor() as cur:
        cur.execute("""SELECT c.oid::regclass::text, i.indrelid::regclass::text,
                              array_agg(a.attname::text ORDER BY k.n), pg_get_expr(i.indpred, i.indrelid),
                              pg_relation_size(c.oid)
                       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                       JOIN pg_am am ON am.oid = c.relam AND am.amname = 'btree'
                       CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
                       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                       WHERE i.indrelid = ANY(%s::regclass[])
                       GROUP BY 1, 2, 4, 5""", (list(WARM_TABLES),))
        indexes = cur.fetchall()
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("SET LOCAL enable_bitmapscan = off")
        cur.execute("SET LOCAL enable_sort = off")
        for _index, table, columns, predicate, _size in indexes:
            cols = ", ".join(f'"{c}"' for c in columns)
            cur.execute(f"SELECT count(*) FROM (SELECT {cols} FROM {table} WHERE {predicate or 'true'} "
                        f"ORDER BY {cols}) AS k")
        cur.execute("SELECT setting::bigint * 8192 FROM pg_settings WHERE name = 'shared_buffers'")
        return sum(size for *_, size in indexes), cur.fetchone()[0]


def _dbname(dsn: str) -> str:
    return psycopg2.extensions.parse_dsn(dsn)["dbname"]


BENCH_PGDATA = REPO / ".devdb" / "bench-pgdata"


@contextlib.contextmanager
def _server_for_archive():
    """With no server configured, a dedicated embedded one sized as PostgreSQL's manual advises
    for a database server (shared_buffers a quarter of RAM), so that the link step's key index
    (1.2 GB per million articles) can stay in its buffers; see docs/scaling.md. It is stopped
    at the end. A configured server is measured as it is (`warm` says whether the index fits)."""
    if configured_admin_dsn():
        yield
        return
    mib = ram_bytes() // 4 // 2**20
    with dedicated_server(BENCH_PGDATA, mib) as dsn:
        os.environ[ADMIN_DSN_VARIABLES[0]] = dsn  # (the scratch databases, and the task processes)
        print(f"no server configured: an embedded PostgreSQL of its own in .devdb/bench-pgdata, "
              f"shared_buffers {mib:,} MiB (a quarter of this machine's RAM); stopped at the end", flush=True)
        try:
            yield
        finally:
            del os.environ[ADMIN_DSN_VARIABLES[0]]


def archive_main(target: int, rounds: int = 3) -> int:
    with _server_for_archive():
        return _archive_main(target, rounds)


def _archive_main(target: int, rounds: int) -> int:
    """Build a 10k archive and a `target` one, each in a database of its own; then `rounds`
    times, alternating, link the measured run against a fresh copy of each. The medians count:
    this host's speed drifts by 15-20% between minutes, and one run each (10k measured
    before a 16-minute build, 1M after it) gave 1.34x and 1.41x for the same code."""
    small = 10_000
    seconds: dict[int, list[float]] = {small: [], target: []}
    rss: dict[int, float] = {}
    with scratch_database("news_archive_linkbench") as dsn, \
            scratch_database("news_archive_linkbench_small") as small_dsn:
        for size, where in ((small, small_dsn), (target, dsn)):
            took = build_archive(where, size)
            conn = store.db.connect(where)
            _print_sizes(conn, took)
            conn.close()
        templates = {small: _dbname(small_dsn), target: _dbname(dsn)}
        for i in range(rounds):
            for part, size in enumerate((small, target)):
                # Each run versions a bulk part of its own, so the run against 1M does not also
                # find the 10k run's versions of the same stories (it did: 2,937 links at 1M
                # against 1,880 at 10k, for the same kind of run).
                run = measured_run(part, size)
                with database_copy(templates[size]) as copy_dsn:
                    conn = store.db.connect(copy_dsn)
                    load_articles(conn, "bench", run)
                    index_bytes, buffer_bytes = warm(conn)
                    conn.close()
                    counts, took, peak = in_own_process(_link_task, copy_dsn, "bench")
                seconds[size].append(took)
                rss[size] = max(rss.get(size, 0.0), peak)
                if i == 0:
                    print(f"archive {size:,}: the link step's indexes ({index_bytes / 2**20:,.0f} MiB) read into "
                          f"shared_buffers ({buffer_bytes / 2**20:,.0f} MiB) before each run"
                          + ("" if index_bytes < buffer_bytes else
                             ": they do not fit, so every run reads their pages from the OS (docs/scaling.md)"),
                          flush=True)
                print(f"round {i + 1}, archive {size:,}: a run of {len(run):,} new articles linked in {took:.1f} s "
                      f"({counts.get('links', 0):,} links, {counts.get('pairs', 0):,} pairs verified, "
                      f"{counts.get('fingerprints', 0):,} fingerprints computed); the link task's peak RSS "
                      f"{peak:,.0f} MiB (its own or its largest worker's)", flush=True)
    medians = {size: statistics.median(v) for size, v in seconds.items()}
    ratio = medians[target] / medians[small]
    peak = max(rss.values())  # the link task, measured in a process of its own (not the bulk build's)
    print(f"medians of {rounds}: {medians[small]:.1f} s against {small:,}, {medians[target]:.1f} s against {target:,}")
    checks = [(f"run of 5,000 against {target:,} = {ratio:.2f} x against {small:,} (medians of {rounds}) <= 1.3",
               ratio <= 1.3),
              (f"peak RSS {peak:,.0f} MiB < 1 GiB", peak < 1024)]
    for label, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {label}")
    return 0 if all(ok for _, ok in checks) else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs=2, default=[10_000, 100_000], metavar=("SMALL", "LARGE"))
    ap.add_argument("--archive", type=int, help="bulk-build an archive of this many articles (see above)")
    args = ap.parse_args()
    if args.archive:
        return archive_main(args.archive)
    small, large = args.sizes
    archive: list[tuple[str, str, str]] = []
    batch_seconds = {}
    with scratch_database("news_archive_linkbench") as dsn:
        conn = store.db.connect(dsn)
        store.runs.start_run(conn, "bench")
        for target in (small, large):
            t = time.perf_counter()
            while len(archive) < target:
                n = min(10_000, target - len(archive))
                part = [(f"s{len(archive) // 10_000}-{aid}", title, body)
                        for aid, title, body in evaluation.generated_articles(n, seed=1000 + len(archive))]
                load_articles(conn, "bench", as_docs(part, "archive"))
                archive.extend(part)
            load_s = time.perf_counter() - t
            with conn, conn.cursor() as cur:
                cur.execute("SELECT count(*) FROM archive.articles WHERE linked_at IS NULL")
                pending = cur.fetchone()[0]
            counts, seconds = link(conn, "bench")
            print(f"archive {target:>7,}: loaded {pending:,} articles in {load_s:.1f} s; linked them in "
                  f"{seconds:.1f} s = {pending / seconds:,.0f} articles/s ({counts.get('links', 0)} links)")
            batch = new_batch(archive, seed=target)
            load_articles(conn, "bench", batch)
            counts, seconds = link(conn, "bench")
            batch_seconds[target] = seconds
            print(f"archive {target:>7,}: a batch of {len(batch):,} new articles linked in {seconds:.2f} s "
                  f"= {len(batch) / seconds:,.0f} articles/s ({counts.get('links', 0)} links)")
            with conn, conn.cursor() as cur:
                cur.execute("SELECT pg_size_pretty(pg_total_relation_size('archive.link_keys')), "
                            "(SELECT count(*) FROM archive.link_keys)")
                size, keys = cur.fetchone()
            print(f"archive {target:>7,}: link index {keys:,} keys, {size}")
        conn.close()
    ratio = batch_seconds[large] / batch_seconds[small]
    print(f"batch of 1,000 against {large:,} vs {small:,}: ratio {ratio:.2f} (goal <= 1.5) "
          f"{'PASS' if ratio <= 1.5 else 'FAIL'}")
    print(f"peak RSS {peak_rss_mib():.0f} MiB")
    return 0 if ratio <= 1.5 else 1


if __name__ == "__main__":
    sys.exit(main())
