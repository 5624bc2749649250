"""Re-parse archived raw documents with the current parser, in place.

A parser fix or a new boilerplate rule reaches old data without re-delivering
files: articles are updated where they stand (same id, same story), documents
the new parser accepts leave quarantine, and ones it now refuses enter it.
Changed articles are queued for re-linking.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from news_archive import store
from news_archive.config import Settings
from news_archive.parsing import parser_version
from news_archive.pipeline import parse_and_validate
from news_archive.store.articles import ArticleRecord, Quarantined


def reparse(conn, settings: Settings, *, only_outdated: bool = True, chunk: int = 500) -> dict:
    store.schema.check_schema(conn)  # like a run: the schema is migrated by `news-archive migrate`
    run_id = "reparse__" + dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    store.runs.start_run(conn, run_id, "reparse")
    raw_ids = store.articles.outdated_raw_ids(conn, parser_version(), only_outdated=only_outdated)
    counts: Counter = Counter(considered=len(raw_ids))
    for start in range(0, len(raw_ids), chunk):
        checked = parse_and_validate(store.raw.iter_raw(conn, raw_ids[start : start + chunk]), settings, run_id)
        counts.update(_apply(conn, run_id, checked.rows, checked.quarantined))
    counts["indexed_for_search"] = store.articles.index_search(conn)  # changed titles and bodies
    store.runs.finish_run(conn, run_id, links_made=0, stage_seconds={}, error=None)
    return dict(counts)


def _apply(conn, run_id: str, rows: list[ArticleRecord], rejected: list[Quarantined]) -> Counter:
    counts: Counter = Counter()
    with conn, conn.cursor() as cur:
        existing = store.articles.existing_raw_ids(cur, [r.raw_document_id for r in rows]) if rows else set()
        new_rows = [r for r in rows if r.raw_document_id not in existing]
        for row in rows:
            if row.raw_document_id not in existing:
                continue
            hit = store.articles.update_reparsed(cur, row)
            if hit is None:
                counts["unchanged"] += 1
                continue
            counts["articles_updated"] += 1
            article_id, text_changed = hit
            if text_changed:  # its links are recomputed by the next link step
                store.links.unlink(cur, article_id)
                counts["queued_for_relink"] += 1
        if new_rows:
            counts["released_from_quarantine"] += store.articles.release_from_quarantine(
                cur, [r.raw_document_id for r in new_rows])
        if rejected:
            counts["articles_now_quarantined"] += store.articles.remove_articles_of(cur, [q.raw_id for q in rejected])
    if new_rows or rejected:
        result = store.articles.load_batch(conn, run_id, new_rows, rejected)
        counts["articles_inserted"] += len(result["inserted"])
        counts["quarantine_rows_written"] += len(rejected)
    return counts
