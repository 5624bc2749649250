"""Version-linking evaluation: labelled pairs through the real pipeline into Postgres.

    make eval-links                      # the BBC-based set from ../shared/corpora
    .venv/bin/python bench/eval_links.py --generated 400   # no ../shared: generated articles

Each BBC article is delivered with its real summary (condensed), and a sample of
articles with constructed copies: reworded, reworded and cut, revised, re-delivered,
and look-alikes (names and numbers swapped: must not link). Duplicates and near
duplicates inside the BBC set are labelled by their bodies (identical) and 5-word
shingle Jaccard (>= 0.5). Every document goes through claim, parse, GX validation,
load and linking exactly as a DAG run does; the links are read back from Postgres.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import scratch_database, scratch_inbox  # noqa: E402
from bench.corpus import BBC, BBC_SUMMARIES, generated_articles  # noqa: E402
from news_archive import evaluation, pipeline, storage  # noqa: E402

GOALS = {"precision": 0.99, "recall_exact_condensed": 0.95, "recall_reworded": 0.90}


def bbc_articles() -> tuple[list[tuple[str, str, str]], dict[str, str]]:
    articles, summaries = [], {}
    for path in sorted(BBC.glob("*/*.txt")):
        raw = path.read_bytes()
        text = raw.decode("utf-8") if _utf8(raw) else raw.decode("latin-1")
        title, _, body = text.partition("\n")
        aid = f"{path.parent.name}-{path.stem}"
        articles.append((aid, title.strip(), body.strip()))
        summary = BBC_SUMMARIES / path.parent.name / path.name
        if summary.is_file():
            raw = summary.read_bytes()
            summaries[aid] = (raw.decode("utf-8") if _utf8(raw) else raw.decode("latin-1")).strip()
    return articles, summaries


def _utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def run(labels: evaluation.LabelledSet, *, keep_db: bool = False) -> dict:
    with scratch_database("news_archive_eval", keep=keep_db) as dsn, scratch_inbox() as settings:
        for doc in labels.docs:
            (settings.inbox / doc.name).write_bytes(doc.content)
        conn = storage.connect(dsn)
        start = time.perf_counter()
        runs = 0
        while any(settings.inbox.iterdir()):
            runs += 1
            pipeline.run_once(conn, settings, f"eval-{runs}", params=storage.dsn_params(dsn))
        seconds = time.perf_counter() - start
        article_of, links = evaluation.collect(conn)
        conn.close()
    result = evaluation.score(labels, article_of, links)
    result["seconds"] = seconds
    result["documents"] = len(labels.docs)
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--generated", type=int, metavar="N", help="use N generated articles instead of the BBC set")
    ap.add_argument("--sample", type=int, default=300, help="articles per constructed kind (default 300)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep-db", action="store_true", help="keep the scratch database to inspect the links")
    args = ap.parse_args()
    if args.generated or not BBC.is_dir():
        articles, summaries = generated_articles(args.generated or 400, seed=args.seed), {}
        source = f"generated ({len(articles)} articles; ../shared/corpora absent or --generated)"
    else:
        articles, summaries = bbc_articles()
        source = f"BBC ({len(articles)} articles, {len(summaries)} summaries) from {BBC.parent}"
    n = args.sample
    labels = evaluation.build_set(articles, summaries, seed=args.seed, reworded=n, reworded_condensed=n,
                                  revisions=2 * n // 3, redelivered=n // 3, look_alikes=n // 3)
    print(f"set: {source}; {len(labels.docs)} documents, {len(labels.pairs)} labelled pairs, "
          f"{len(labels.negatives)} look-alikes, {len(labels.unjudged)} unjudged corpus pairs")
    result = run(labels, keep_db=args.keep_db)
    print(f"pipeline: {result['documents']} documents claimed, parsed, validated, loaded and linked "
          f"in {result['seconds']:.1f} s")
    evaluation.print_report(result)
    baseline = evaluation.shingle_baseline(labels)
    print("baseline, 5-word-shingle Jaccard >= 0.7 (MinHash LSH defaults) on the same pairs: " + ", ".join(
        f"{k} {f}/{t}" for k, (f, t) in baseline.items()))
    for x, y, relation in result["false_links"][:20]:
        print(f"  WRONG LINK {relation}: {x} ~ {y}")
    for x, y, relation in result["unjudged_links"][:40]:
        print(f"  unjudged link {relation}: {x} ~ {y}")
    for kind, pairs in result["missed"].items():
        print(f"  missed {kind}: " + ", ".join(f"{x}~{y}" for x, y in pairs[:5]))

    rel = result["relations"]
    reworded = [result["by_kind"].get(k, (0, 0)) for k in ("paraphrase", "reworded_condensed")]
    reworded_recall = sum(f for f, _ in reworded) / max(sum(t for _, t in reworded), 1)
    checks = [
        ("precision >= 0.99", result["precision"] >= GOALS["precision"]),
        *((f"recall {r} >= 0.95", rel[r]["recall"] >= GOALS["recall_exact_condensed"])
          for r in ("duplicate", "revision", "condensed")),
        (f"recall on reworded cases {reworded_recall:.4f} >= 0.90", reworded_recall >= GOALS["recall_reworded"]),
        ("no link between different stories", not result["false_links"]),
        ("no look-alike linked", result["negatives_linked"] == 0),
    ]
    for label, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {label}")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
