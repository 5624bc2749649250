"""Where one link step's time goes, statement by statement, against a kept archive.

The harness behind docs/scaling.md's per-statement tables. Build an archive once and keep
it (the bulk path of bench/link_bench.py), then time the same run of 5,000 new articles
against copies of it, as often as needed:

    .venv/bin/python bench/link_statements.py --build 10000      # prints the kept database's name
    .venv/bin/python bench/link_statements.py --build 1000000    # ~16 minutes on 2 cores
    .venv/bin/python bench/link_statements.py --template NAME    # copy, load the run, time its link step
    .venv/bin/python bench/link_statements.py --rebuild NAME     # copy, clear the keys' marker, time the rebuild
    .venv/bin/python bench/link_statements.py --corpus 20000     # make bench's corpus loaded, not linked yet

A `--corpus` database is timed the same way (`--template NAME`), its link step linking the
whole corpus: where `make bench`'s link stage spends its time.

Each measurement copies the archive (bench.common.database_copy),
loads the run (versions of the archive's first bulk part, in every archive) and times
every statement `store.links.link_pending` sends, and the time spent outside them (Python,
and waiting for the verification workers). The copy is dropped afterwards; the kept
archive is not (drop it with DROP DATABASE when done).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import CALLS, SECONDS, TimedCursor, database_copy, scratch_database  # noqa: E402
from bench.link_bench import build_archive, load_articles, measured_run, warm  # noqa: E402
from news_archive import store  # noqa: E402


def build(size: int) -> None:
    with scratch_database(f"news_archive_linkstmt_{size}", keep=True) as dsn:  # (prints its name)
        print(f"archive of {size:,} articles built in {build_archive(dsn, size):.0f} s")


def build_corpus(n: int) -> None:
    """Keep a database holding make bench's corpus of `n` dumps, loaded as the batches load
    it (without GX), none of it linked yet."""
    from bench.corpus import real_news_corpus

    source, docs, _ = real_news_corpus(n)
    with scratch_database(f"news_archive_linkstmt_corpus{n}", keep=True) as dsn:  # (prints its name)
        conn = store.db.connect(dsn)
        store.runs.start_run(conn, "bench")
        print(f"{source}: {load_articles(conn, 'bench', docs):,} articles loaded, not linked")
        conn.close()


def measure(template: str) -> None:
    t = time.perf_counter()
    with database_copy(template, "news_archive_linkstmt_run") as dsn:
        print(f"copied {template} in {time.perf_counter() - t:.0f} s")
        conn = store.db.connect(dsn)
        with conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM archive.articles WHERE linked_at IS NULL")
            unlinked = cur.fetchone()[0]
        if unlinked:  # a --corpus database: its link step is the one timed
            print(f"{unlinked:,} articles not linked yet: their link step is timed")
        else:
            load_articles(conn, "bench", measured_run(0, 10_000))  # bench/link_bench.py's run against 10,000 articles
        index_bytes, buffer_bytes = warm(conn)  # as bench/link_bench.py does before each run
        conn.close()
        print(f"the link step's indexes ({index_bytes / 2**20:,.0f} MiB) read into shared_buffers "
              f"({buffer_bytes / 2**20:,.0f} MiB)")
        conn = store.db.connect(dsn)
        conn.cursor_factory = TimedCursor
        SECONDS.clear()
        CALLS.clear()
        t = time.perf_counter()
        counts = store.links.link_pending(conn, "bench")
        total = time.perf_counter() - t
        conn.close()
    print(f"link step {total:.2f} s: {counts}")
    ranked = sorted(SECONDS.items(), key=lambda kv: -kv[1])
    for label, seconds in ranked[:14]:
        print(f"  {seconds:6.2f} s {CALLS[label]:4d}x  {label}")
    rest = ranked[14:]
    print(f"  {sum(s for _, s in rest):6.2f} s {sum(CALLS[label] for label, _ in rest):4d}x  "
          f"{len(rest)} other statements")
    print(f"  {total - sum(SECONDS.values()):6.2f} s outside statements (Python, waiting for the workers)")


def rebuild(template: str) -> None:
    """Time the key rebuild after a crash (`store.links.restore_keys`) on a copy of the archive:
    its marker is cleared, as a crash leaves it, and the next link step makes every key again."""
    check = "SELECT count(*), bit_xor(key # (article_id * 1000003)) FROM archive.link_keys"
    with database_copy(template, "news_archive_linkstmt_rebuild") as dsn:
        conn = store.db.connect(dsn)
        with conn, conn.cursor() as cur:
            cur.execute(check)
            before = cur.fetchone()
            cur.execute("DELETE FROM archive.link_keys_state")
        t = time.perf_counter()
        counts = store.links.link_pending(conn, "bench")
        took = time.perf_counter() - t
        with conn, conn.cursor() as cur:
            cur.execute(check)
            after = cur.fetchone()
        conn.close()
    restored = counts.get("keys_restored", 0)
    print(f"keys of {restored:,} linked articles made again in {took:.1f} s "
          f"({took / max(restored, 1) * 1e6:,.0f} us an article); {after[0]:,} keys, "
          f"{'the same keys as before' if after == before else f'NOT the keys before ({before[0]:,})'}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    group = ap.add_mutually_exclusive_group(required=True)
    group.add_argument("--build", type=int, metavar="N", help="bulk-build and keep an archive of N articles")
    group.add_argument("--template", metavar="NAME", help="time a run's link step against a copy of this archive")
    group.add_argument("--rebuild", metavar="NAME", help="time the key rebuild after a crash on a copy of this archive")
    group.add_argument("--corpus", type=int, metavar="N", help="keep a database of make bench's corpus of N dumps, not linked")
    args = ap.parse_args()
    if args.build:
        build(args.build)
    elif args.rebuild:
        rebuild(args.rebuild)
    elif args.corpus:
        build_corpus(args.corpus)
    else:
        measure(args.template)
    return 0


if __name__ == "__main__":
    sys.exit(main())
