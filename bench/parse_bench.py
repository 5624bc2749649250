"""Parse throughput: docs/s and MB/s of parse_document over the corpus (several passes).

    .venv/bin/python bench/parse_bench.py [--passes 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.corpus import raw_documents  # noqa: E402
from news_archive.parsing import Article, parse_document  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--passes", type=int, default=3)
    args = ap.parse_args()
    source, docs = raw_documents()
    size = sum(map(len, docs))
    parse_document(docs[0])  # warm imports
    best = float("inf")
    ok = 0
    for _ in range(args.passes):
        start = time.perf_counter()
        results = [parse_document(d, min_body_words=1) for d in docs]
        best = min(best, time.perf_counter() - start)
        ok = sum(isinstance(r, Article) for r in results)
    print(f"corpus: {source}, {len(docs)} documents, {size / 1e6:.2f} MB; parsed as articles: {ok}")
    print(f"parse throughput (best of {args.passes}, one core): "
          f"{len(docs) / best:,.0f} docs/s, {size / best / 1e6:.2f} MB/s")


if __name__ == "__main__":
    main()
