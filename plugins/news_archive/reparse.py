"""Re-parse archived raw documents with the current parser, in place.

A parser fix or a new boilerplate rule reaches old data without re-delivering
files: articles are updated where they stand (same id, same story), documents
the new parser accepts leave quarantine, and ones it now refuses enter it.
Changed articles are queued for re-linking.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from news_archive import storage
from news_archive.config import Settings
from news_archive.parsing import parser_version
from news_archive.pipeline import parse_and_validate

UPDATABLE = [c for c in storage.ARTICLE_COLUMNS if c not in ("raw_document_id", "run_id")]


def reparse(conn, settings: Settings, *, only_outdated: bool = True, chunk: int = 500) -> dict:
    storage.migrate(conn)
    current = parser_version()
    run_id = "reparse__" + dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    storage.start_run(conn, run_id, "reparse")
    with conn, conn.cursor() as cur:
        cur.execute(
            """SELECT raw_document_id FROM archive.articles WHERE NOT %(only)s OR parser_version <> %(v)s
               UNION
               SELECT raw_document_id FROM archive.quarantine
                WHERE NOT %(only)s OR parser_version IS DISTINCT FROM %(v)s
               ORDER BY 1""",
            {"only": only_outdated, "v": current},
        )
        raw_ids = [r[0] for r in cur.fetchall()]
    counts: Counter = Counter(considered=len(raw_ids))
    for start in range(0, len(raw_ids), chunk):
        ids = raw_ids[start : start + chunk]
        checked = parse_and_validate(storage.iter_raw(conn, ids), settings, run_id)
        good_rows, rejected = checked.rows, checked.quarantined
        counts.update(_apply(conn, run_id, good_rows, rejected))
    counts["indexed_for_search"] = storage.index_search(conn)  # changed titles and bodies
    storage.finish_run(conn, run_id, links_made=0, stage_seconds={}, error=None)
    return dict(counts)


def _apply(conn, run_id: str, rows: list[tuple], rejected: list[storage.Quarantined]) -> Counter:
    counts: Counter = Counter()
    idx = {c: i for i, c in enumerate(storage.ARTICLE_COLUMNS)}
    with conn, conn.cursor() as cur:
        existing_rows, new_rows = [], []
        if rows:
            cur.execute(
                "SELECT raw_document_id FROM archive.articles WHERE raw_document_id = ANY(%s)",
                ([r[idx["raw_document_id"]] for r in rows],),
            )
            existing = {r[0] for r in cur.fetchall()}
            for row in rows:
                (existing_rows if row[idx["raw_document_id"]] in existing else new_rows).append(row)
        for row in existing_rows:
            values = {c: row[idx[c]] for c in UPDATABLE}
            assignments = ", ".join(f"{c} = %({c})s" for c in UPDATABLE)
            cur.execute(
                f"""UPDATE archive.articles SET {assignments}, updated_at = now(),
                        linked_at = CASE WHEN body_hash = %(body_hash)s AND title = %(title)s
                                         THEN linked_at END
                    WHERE raw_document_id = %(raw)s
                      AND (parser_version, content_hash, boilerplate_removed::text, parse_warnings::text)
                          IS DISTINCT FROM (%(parser_version)s, %(content_hash)s, %(boilerplate_removed)s::jsonb::text,
                                            %(parse_warnings)s::jsonb::text)
                    RETURNING id, linked_at IS NULL""",
                {**values, "raw": row[idx["raw_document_id"]]},
            )
            hit = cur.fetchone()
            if hit:
                counts["articles_updated"] += 1
                if hit[1]:  # text changed: its links are recomputed by the next link step
                    cur.execute(
                        "DELETE FROM archive.version_links WHERE parent_article_id = %s OR child_article_id = %s",
                        (hit[0], hit[0]),
                    )
                    cur.execute("DELETE FROM archive.link_keys WHERE article_id = %s", (hit[0],))
                    cur.execute("DELETE FROM archive.article_search WHERE article_id = %s", (hit[0],))
                    counts["queued_for_relink"] += 1
            else:
                counts["unchanged"] += 1
        if new_rows:
            cur.execute(
                "DELETE FROM archive.quarantine WHERE raw_document_id = ANY(%s)",
                ([r[idx["raw_document_id"]] for r in new_rows],),
            )
            counts["released_from_quarantine"] += cur.rowcount
        if rejected:
            cur.execute(
                "DELETE FROM archive.articles WHERE raw_document_id = ANY(%s) RETURNING id",
                ([q.raw_id for q in rejected],),
            )
            counts["articles_now_quarantined"] += cur.rowcount
    if new_rows or rejected:
        result = storage.load_batch(conn, run_id, new_rows, rejected)
        counts["articles_inserted"] += len(result["inserted"])
        counts["quarantine_rows_written"] += len(rejected)
    return counts
