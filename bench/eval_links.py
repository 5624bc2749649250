"""Version-linking evaluation: labelled pairs through the real pipeline into Postgres.

    make eval-links                      # every corpus in ../shared/corpora, then the goals as PASS/FAIL
    .venv/bin/python bench/eval_links.py --only bbc        # the BBC-based set alone
    .venv/bin/python bench/eval_links.py --generated 400   # no ../shared: generated articles

Real corpora (gunviolence, ecbplus, onestop; see bench/real_corpora.py): each is delivered
file by file into its own scratch archive and goes through claim, parse, GX validation,
load and linking like a DAG run; the links are read back and scored against the corpus's
pairs.tsv: recall per relation, and the hard negatives (same-event, similar-event)
joined. STS headlines score the linker's sentence similarity against human scores
(Spearman), and the seeds 000 and 001 must link. The leave-one-corpus-out table of the
link model (bench/train_linker.py) is printed too.

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

from bench import real_corpora  # noqa: E402
from bench.common import scratch_database, scratch_inbox  # noqa: E402
from bench.corpus import BBC, BBC_SUMMARIES, generated_articles  # noqa: E402
from devkit import evaluation  # noqa: E402
from news_archive import linking, pipeline, store  # noqa: E402

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


def through_pipeline(files: dict[str, bytes], *, keep_db: bool = False, prefix: str = "news_archive_eval"):
    """Deliver `files` to a fresh archive and run the pipeline until the inbox is empty.

    Returns (doc name -> article id, links, quarantined name -> reasons, seconds).
    """
    with scratch_database(prefix, keep=keep_db) as dsn, scratch_inbox() as settings:
        for name, content in files.items():
            (settings.inbox / name).write_bytes(content)
        conn = store.db.connect(dsn)
        start = time.perf_counter()
        runs = 0
        while any(settings.inbox.iterdir()):
            runs += 1
            pipeline.run_once(conn, settings, f"eval-{runs}", database_url=store.db.sqlalchemy_url(dsn))
        seconds = time.perf_counter() - start
        article_of, links = evaluation.collect(conn)
        with conn.cursor() as cur:
            cur.execute("""SELECT r.original_name, q.reason_codes FROM archive.quarantine q
                           JOIN archive.raw_documents r ON r.id = q.raw_document_id""")
            quarantined = dict(cur.fetchall())
        conn.close()
    return article_of, links, quarantined, seconds


def run(labels: evaluation.LabelledSet, *, keep_db: bool = False) -> dict:
    article_of, links, _, seconds = through_pipeline({d.name: d.content for d in labels.docs}, keep_db=keep_db)
    result = evaluation.score(labels, article_of, links)
    result["seconds"] = seconds
    result["documents"] = len(labels.docs)
    return result


# --------------------------------------------------------------------------- real corpora
def run_corpus(corpus: real_corpora.Corpus, *, keep_db: bool = False) -> dict:
    """One real corpus through the pipeline, scored against its pairs.tsv."""
    from collections import Counter

    files = {f"{d.doc_id}.txt": d.delivered() for d in corpus.docs}
    article_of, links, quarantined, seconds = through_pipeline(files, keep_db=keep_db,
                                                              prefix=f"news_archive_eval_{corpus.name}")
    doc_of_article: dict[int, list[str]] = {}
    for name, article in article_of.items():
        doc_of_article.setdefault(article, []).append(name[: -len(".txt")])
    linked = {(min(p, c), max(p, c)) for p, c, _ in links}
    story = _stories(linked)

    def joined(a: str, b: str) -> tuple[bool, bool]:
        """(linked directly or one article, in one story)."""
        x, y = article_of.get(f"{a}.txt"), article_of.get(f"{b}.txt")
        if x is None or y is None:
            return False, False
        return x == y or (min(x, y), max(x, y)) in linked, story.get(x, x) == story.get(y, y)

    by_label: dict[str, list[int]] = {}
    kinds: dict[str, list[int]] = {}
    missed, wrong = [], []
    for (a, b), label in sorted(corpus.pairs.items()):
        if label == "ignore":
            continue
        direct, same_story = joined(a, b)
        cell = by_label.setdefault(label, [0, 0, 0])
        cell[0] += direct
        cell[1] += same_story
        cell[2] += 1
        if corpus.name == "onestop" and label == "rewrite":
            level = "-".join(sorted(x.rsplit("-", 1)[1] for x in (a, b)))
            k = kinds.setdefault(level, [0, 0])
            k[0] += direct
            k[1] += 1
        if label in real_corpora.POSITIVE and not direct:
            missed.append((a, b, label))
        if label in real_corpora.HARD_NEGATIVE and direct:
            wrong.append((a, b, label))
    # precision over every link the pipeline made: right (a labelled version), wrong (a hard
    # negative or a pair of different articles), unjudged (a look-alike the labels left out)
    verdicts: Counter = Counter()
    for x, y in linked:
        labels = {corpus.label(a, b) for a in doc_of_article.get(x, []) for b in doc_of_article.get(y, [])}
        if labels & set(real_corpora.POSITIVE):
            verdicts["right"] += 1
        elif "ignore" in labels:
            verdicts["unjudged"] += 1
        else:
            verdicts["wrong"] += 1
            if not labels & set(real_corpora.HARD_NEGATIVE):
                wrong.append((doc_of_article[x][0], doc_of_article[y][0], "different"))
    return {"name": corpus.name, "documents": len(files), "seconds": seconds, "by_label": by_label,
            "levels": kinds, "missed": missed, "wrong": wrong, "verdicts": verdicts,
            "quarantined": Counter(r for reasons in quarantined.values() for r in reasons),
            "links": len(linked)}


def _stories(linked: set[tuple[int, int]]) -> dict[int, int]:
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    for x, y in sorted(linked):
        rx, ry = root(x), root(y)
        if rx != ry:
            parent[max(rx, ry)] = min(rx, ry)
    return {x: root(x) for x in parent}


def print_corpus(r: dict) -> None:
    v = r["verdicts"]
    judged = v["right"] + v["wrong"]
    precision = v["right"] / judged if judged else 1.0
    strict = v["right"] / (judged + v["unjudged"]) if judged + v["unjudged"] else 1.0
    print(f"\n== {r['name']}: {r['documents']} documents through the pipeline in {r['seconds']:.1f} s; "
          f"{r['links']} links; quarantined: {dict(r['quarantined']) or 'none'}")
    print(f"  precision {precision:.4f} judged, {strict:.4f} strict ({v['right']} right, {v['wrong']} wrong, "
          f"{v['unjudged']} between pairs labelled ignore)")
    for label, (direct, same_story, n) in sorted(r["by_label"].items()):
        what = "recall" if label in real_corpora.POSITIVE else "joined"
        print(f"  {label:<14} {what} {direct}/{n} = {direct / n:.4f} (in one story: {same_story})")
    for level, (found, n) in sorted(r["levels"].items()):
        print(f"  rewrite {level:<8} recall {found}/{n} = {found / n:.4f}")
    for a, b, label in r["missed"][:8]:
        print(f"    missed {label}: {a} ~ {b}")
    for a, b, label in r["wrong"][:12]:
        print(f"    WRONG LINK ({label}): {a} ~ {b}")


def sts_spearman() -> tuple[float, int]:
    from scipy.stats import spearmanr

    pairs = real_corpora.sts_pairs()
    rho = spearmanr([p[0] for p in pairs], [linking.text_similarity(a, b) for _, a, b in pairs])[0]
    return float(rho), len(pairs)


def seeds_linked() -> tuple[bool, str]:
    seeds = sorted((real_corpora.SHARED.parent / "seeds").glob("*.txt"))
    if len(seeds) < 2:
        return False, "seeds missing"
    files = {p.name: p.read_bytes() for p in seeds[:2]}
    article_of, links, quarantined, _ = through_pipeline(files, prefix="news_archive_eval_seeds")
    a, b = (article_of.get(p.name) for p in seeds[:2])
    found = [(p, c, rel) for p, c, rel in links if {p, c} == {a, b}]
    if not found:
        return False, f"no link (articles {a}, {b}; quarantined {quarantined})"
    p, c, rel = found[0]
    return p == a, f"{seeds[0].name} -> {seeds[1].name}: {rel}" if p == a else f"linked the wrong way round ({rel})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--generated", type=int, metavar="N", help="use N generated articles instead of the BBC set")
    ap.add_argument("--only", choices=("bbc", "real"), help="only the BBC-based set, or only the real corpora")
    ap.add_argument("--no-loco", action="store_true", help="skip the leave-one-corpus-out table (~1 min)")
    ap.add_argument("--sample", type=int, default=300, help="articles per constructed kind (default 300)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep-db", action="store_true", help="keep the scratch database to inspect the links")
    args = ap.parse_args()
    checks: list[tuple[str, bool]] = []
    if args.only != "real":
        checks += bbc_checks(args)
    if args.only != "bbc" and not args.generated:
        if real_corpora.available():
            checks += real_checks(args)
        else:
            print(f"\nreal corpora not found in {real_corpora.SHARED}: skipped")
    print()
    for label, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {label}")
    return 0 if all(ok for _, ok in checks) else 1


def bbc_checks(args) -> list[tuple[str, bool]]:
    if args.generated or not BBC.is_dir():
        articles, summaries = generated_articles(args.generated or 400, seed=args.seed), {}
        source = f"generated ({len(articles)} articles; ../shared/corpora absent or --generated)"
    else:
        articles, summaries = bbc_articles()
        source = f"BBC ({len(articles)} articles, {len(summaries)} summaries) from {BBC.parent}"
    n = args.sample
    labels = evaluation.build_set(articles, summaries, seed=args.seed, reworded=n, reworded_condensed=n,
                                  revisions=2 * n // 3, redelivered=n // 3, look_alikes=n // 3)
    print(f"== BBC set: {source}; {len(labels.docs)} documents, {len(labels.pairs)} labelled pairs, "
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
    return [
        (f"BBC set: strict precision {result['precision_strict']:.4f} >= 0.99",
         result["precision_strict"] >= GOALS["precision"]),
        (f"BBC set: recall {result['recall']:.4f} >= 0.99", result["recall"] >= 0.99),
        *((f"BBC set: recall {r} {rel[r]['recall']:.4f} >= 0.95", rel[r]["recall"] >= GOALS["recall_exact_condensed"])
          for r in ("duplicate", "revision", "condensed")),
        (f"BBC set: recall on reworded cases {reworded_recall:.4f} >= 0.90", reworded_recall >= GOALS["recall_reworded"]),
        ("BBC set: no link between different stories", not result["false_links"]),
        ("BBC set: no look-alike linked", result["negatives_linked"] == 0),
    ]


def real_checks(args) -> list[tuple[str, bool]]:
    checks: list[tuple[str, bool]] = []
    for name in real_corpora.DOC_CORPORA:
        r = run_corpus(real_corpora.load(name), keep_db=args.keep_db)
        print_corpus(r)
        for label in real_corpora.HARD_NEGATIVE:
            if label in r["by_label"]:
                joined, _, n = r["by_label"][label]
                checks.append((f"{name}: {label} pairs joined {joined}/{n} = {joined / n:.4f} <= 0.01",
                               joined / n <= 0.01))
        if name == "onestop":
            for level, (found, n) in sorted(r["levels"].items()):
                goal = 0.95 if level == "adv-int" else 0.85
                checks.append((f"onestop: rewrite {level} recall {found / n:.4f} >= {goal}", found / n >= goal))
    rho, n = sts_spearman()
    print(f"\n== sts-headlines: {n} pairs; Spearman correlation of linking.text_similarity with the human score "
          f"{rho:.4f}")
    checks.append((f"sts-headlines: Spearman {rho:.4f} >= 0.70", rho >= 0.70))
    ok, what = seeds_linked()
    print(f"\n== seeds: {what}")
    checks.append((f"seed 000 -> 001 linked ({what})", ok))
    if not args.no_loco:
        from bench import train_linker

        pairs = train_linker.all_pairs()
        print()
        train_linker._print_table("link model, leave one corpus out (train on the others, test on this one):",
                                  train_linker.leave_one_corpus_out(pairs))
    return checks


if __name__ == "__main__":
    sys.exit(main())
