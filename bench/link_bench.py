"""Link-stage scaling: throughput at 10k and 100k articles, and the cost of linking a
batch of 1,000 new articles against an archive of 10k and of 100k.

    make bench-links                           # 10k then 100k (about 10 minutes)
    .venv/bin/python bench/link_bench.py --sizes 2000 10000   # quicker

Articles are generated (bench/corpus.py) and loaded straight into the archive tables
(the link stage is what is measured); each new batch holds 700 new articles and 300
versions (reworded, cut, revised) of archived ones, so candidates are found and verified.
Goal printed: time(batch vs largest) / time(batch vs smallest) <= 1.5.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg2.extras  # noqa: E402

from bench.common import peak_rss_mib, scratch_database  # noqa: E402
from devkit import evaluation  # noqa: E402
from news_archive import store  # noqa: E402
from news_archive.parsing import Article, parse_document  # noqa: E402


def load_articles(conn, run_id: str, docs: list[tuple[str, bytes]]) -> int:
    """Archive raw bytes and load the parsed articles (no GX: the link stage is measured)."""
    loaded = 0
    for start in range(0, len(docs), 2000):
        chunk = docs[start : start + 2000]
        with conn, conn.cursor() as cur:
            ids = psycopg2.extras.execute_values(
                cur,
                """INSERT INTO archive.raw_documents (sha256, original_name, size_bytes, run_id, content)
                   VALUES %s ON CONFLICT (sha256) DO NOTHING RETURNING id, original_name""",
                [(hashlib.sha256(c).hexdigest(), n, len(c), run_id, psycopg2.Binary(c)) for n, c in chunk],
                fetch=True, page_size=500,
            )
        raw_id = {name: i for i, name in ids}
        rows = []
        for name, content in chunk:
            article = parse_document(content)
            if isinstance(article, Article) and name in raw_id:
                rows.append(store.articles.article_record(raw_id[name], article, [], run_id))
        loaded += len(store.articles.load_batch(conn, run_id, rows, [])["inserted"])
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs=2, default=[10_000, 100_000], metavar=("SMALL", "LARGE"))
    args = ap.parse_args()
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
