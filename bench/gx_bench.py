"""Great Expectations validation time for one batch of N articles (default 10,000).

    .venv/bin/python bench/gx_bench.py [--n 10000]

Prints the time of the pre-load suite (all expectations, COMPLETE result format,
row-level unexpected index lists) on one batch, with and without Data Docs.
Target: under 10 s for 10,000 articles on this 2-core machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.corpus import raw_documents  # noqa: E402
from news_archive import quality  # noqa: E402
from news_archive.parsing import Article, parse_document  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000)
    args = ap.parse_args()
    source, docs = raw_documents()
    base = [a for a in (parse_document(d, min_body_words=1) for d in docs) if isinstance(a, Article)]
    articles = []
    for i in range(args.n):
        a = base[i % len(base)]
        copy = Article(**{**a.__dict__, "title": a.title if i < len(base) else f"{a.title} ({i})"})
        articles.append((i + 1, copy))
    t = time.perf_counter()
    import great_expectations  # noqa: F401

    print(f"import great_expectations: {time.perf_counter() - t:.2f} s (paid once per task process)")
    checks = quality.pre_load_checks(50)
    t = time.perf_counter()
    frame = quality.batch_frame(articles)
    t_frame = time.perf_counter() - t
    quality.validate_frame(frame.head(10), checks)  # warm-up
    t = time.perf_counter()
    outcome = quality.validate_frame(frame, checks)
    t_validate = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as docs_dir:
        t = time.perf_counter()
        quality.validate_frame(frame, checks, docs_dir=docs_dir, run_name="bench")
        t_docs = time.perf_counter() - t
    flagged = len(outcome.quarantined_ids())
    print(f"corpus: {source}; batch of {len(articles):,} articles, {len(checks)} expectations; "
          f"{flagged:,} rows quarantined by critical expectations")
    print(f"build DataFrame: {t_frame:.2f} s")
    print(f"GX validation (COMPLETE, row-level): {t_validate:.2f} s  [target < 10 s: "
          f"{'met' if t_validate < 10 else 'MISSED'}]")
    print(f"GX validation + Data Docs: {t_docs:.2f} s")


if __name__ == "__main__":
    main()
