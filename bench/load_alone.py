"""The load stage alone, against the same-schema COPY ceiling that `make bench` prints.

    .venv/bin/python bench/load_alone.py            # make bench's 20,000 dumps, 3 repeats
    .venv/bin/python bench/load_alone.py --n 5000 --repeats 1
    .venv/bin/python bench/load_alone.py --busy     # one core kept busy, as make bench's other batch does
    NEWS_ARCHIVE_PURE_PYTHON=1 .venv/bin/python bench/load_alone.py   # COPY rows encoded in Python

`make bench` times the load inside the mapped process_batch tasks, two at a time as the DAG
runs them, so each load shares the machine's cores with the other batch's parsing, Great
Expectations or search indexing; its ceiling (the same rows COPYed into an empty table with
archive.articles' indexes, checks and foreign keys) is measured with nothing else running.
This loads the same corpus's rows the same way (store.articles.load_batch, one batch of up
to NEWS_ARCHIVE_BATCH_SIZE at a time, no GX: every parsed row loads), with nothing else
running, and measures the ceiling on the result, so that what the load does and what it
competes with can be told apart. Each repeat uses a fresh database; medians are printed.
`--busy` keeps one core busy (a spinning process) while the loads and the ceiling are timed:
the ceiling's client only sends a buffer encoded beforehand, the load's client encodes its
rows, so there the client's CPU is what the load pays for sharing the machine.

Each repeat also prints where the load's time goes, statement by statement (its COPY against
the ceiling's; what the ceiling does not do: the content-hash lookup, the ids, the content
duplicates), and how long encoding its rows as CSV takes the client alone, a part of its COPY
that the ceiling, COPYing a buffer encoded beforehand, does not time.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg2.extensions

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import CALLS, SECONDS, TimedCursor, archive_raw, scratch_database  # noqa: E402
from bench.corpus import real_news_corpus  # noqa: E402
from bench.run import GOALS, raw_copy  # noqa: E402
from news_archive import store  # noqa: E402
from news_archive.config import Settings  # noqa: E402
from news_archive.parsing import Article, parse_document  # noqa: E402


def batches_of(conn, docs: list[tuple[str, bytes]], settings: Settings) -> list[list]:
    """Archive the raw bytes and parse them: the rows each batch would load."""
    out = []
    for start in range(0, len(docs), settings.batch_size):
        chunk = docs[start:start + settings.batch_size]
        raw_id = archive_raw(conn, "bench", chunk)
        rows = []
        for name, content in chunk:
            article = parse_document(content, max_bytes=settings.max_bytes, min_body_words=settings.min_body_words)
            if isinstance(article, Article) and name in raw_id:
                rows.append(store.articles.article_record(raw_id[name], article, [], "bench"))
        out.append(rows)
    return out


def inserted_rows(conn, rows: list, ids: list[int]) -> list:
    """The rows of `rows` that load_batch inserted as `ids` (not recorded as content
    duplicates), read back by their raw document (an untimed cursor)."""
    with conn, conn.cursor(cursor_factory=psycopg2.extensions.cursor) as cur:
        cur.execute("SELECT raw_document_id FROM archive.articles WHERE id = ANY(%s)", (ids,))
        raw_ids = {r[0] for r in cur.fetchall()}
    return [row for row in rows if row.raw_document_id in raw_ids]


def encoding_seconds(rows: list) -> float:
    """The client's CSV encoding of `rows` alone, as the load's COPY encodes them (an id first;
    store.db's stream: compiled where news_archive._speedups is built)."""
    stream = store.db._CsvStream((i, *row) for i, row in enumerate(rows))
    t = time.perf_counter()
    while stream.read(store.db.COPY_CHUNK):
        pass
    return time.perf_counter() - t


@contextlib.contextmanager
def busy_core(busy: bool):
    """A process spinning on one core for the block's duration (when `busy`)."""
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
    try:
        yield
    finally:
        if spinner:
            spinner.kill()
            spinner.wait()


def one_repeat(docs: list[tuple[str, bytes]], settings: Settings,
               busy: bool = False) -> tuple[float, int, float, float, list[str]]:
    """(seconds loading, rows inserted, the ceiling's seconds for those rows, the load client's
    CPU seconds, lines saying where the load's seconds went)."""
    with scratch_database("news_archive_loadalone") as dsn:
        conn = store.db.connect(dsn)
        store.runs.start_run(conn, "bench")
        batches = batches_of(conn, docs, settings)
        conn.cursor_factory = TimedCursor
        SECONDS.clear()
        CALLS.clear()
        seconds, inserted, encoding, cpu = 0.0, 0, 0.0, 0.0
        with busy_core(busy):
            for rows in batches:
                t, c = time.perf_counter(), time.process_time()
                loaded = store.articles.load_batch(conn, "bench", rows, [])
                seconds += time.perf_counter() - t
                cpu += time.process_time() - c
                inserted += len(loaded["inserted"])
                encoding += encoding_seconds(inserted_rows(conn, rows, loaded["inserted"]))
            conn.close()
            ceiling = raw_copy(dsn)
    where = [f"  {s:6.2f} s {CALLS[label]:3d}x  {label}" for label, s in sorted(SECONDS.items(), key=lambda kv: -kv[1])]
    where.append(f"  {seconds - sum(SECONDS.values()):6.2f} s outside statements (Python, the commits)")
    where.append(f"  ({encoding:.2f} s of the COPY's: encoding the inserted rows as CSV, timed on the client alone)")
    return seconds, inserted, ceiling["same_schema"], cpu, where


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--busy", action="store_true", help="keep one core busy while timing (as make bench's other batch)")
    args = ap.parse_args()
    source, docs, _ = real_news_corpus(args.n)
    settings = Settings.from_env()
    encoder = "compiled (news_archive._speedups)" if store.db._FAST else "Python (store.db.csv_line)"
    print(f"corpus: {args.n:,} raw dumps: {source}; batches of {settings.batch_size:,}; COPY rows encoded in "
          f"{encoder}; {'one core kept busy' if args.busy else 'nothing else running'}")
    shares = []
    for i in range(args.repeats):
        seconds, rows, ceiling, cpu, where = one_repeat(docs, settings, args.busy)
        shares.append((rows / seconds) / (rows / ceiling))
        print(f"repeat {i + 1}: {rows:,} rows loaded in {seconds:.2f} s = {rows / seconds:,.0f} rows/s; "
              f"the same-schema COPY ceiling {ceiling:.2f} s = {rows / ceiling:,.0f} rows/s; {shares[-1]:.0%} of it; "
              f"the load's client used {cpu:.2f} CPU s",
              flush=True)
        print("\n".join(where), flush=True)
    share = statistics.median(shares)
    print(f"load {'beside a busy core' if args.busy else 'alone'}, median of {args.repeats}: {share:.0%} of the same-schema COPY ceiling "
          f"(make bench's goal, measured there with the parallel batch running: >= {GOALS['load_vs_ceiling']:.0%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
