"""Run history: archive.ingest_runs, archive.run_batches and archive.validation_results.

Every write is keyed by (run, batch): a retried batch overwrites its own row, so a run's
counts are the same however many attempts it took.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg2.extras

from news_archive.store.db import statement

COUNTERS = ("files_seen", "files_archived", "duplicates", "quarantined", "loaded")


def start_run(conn, run_id: str, dag_id: str | None = None) -> None:
    with conn, conn.cursor() as cur:
        cur.execute(statement("runs/start_run"), (run_id, dag_id))


def record_batch_stats(conn, run_id: str, batch_key: str, stats: dict[str, Any]) -> None:
    """Per-batch counters, keyed by (run, batch): a retried batch overwrites its row."""
    with conn, conn.cursor() as cur:
        cur.execute(statement("runs/record_batch_stats"), (run_id, batch_key, json.dumps(stats)))


def finish_run(conn, run_id: str, *, links_made: int, stage_seconds: dict[str, float], error: str | None) -> dict:
    """Close the run's row: its batches' counters summed, stage seconds, status and errors."""
    with conn, conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        key = {"run_id": run_id}
        cur.execute(statement("runs/run_totals"), key)
        totals = dict(cur.fetchone())
        cur.execute(statement("runs/run_stage_seconds"), key)
        seconds = {r["key"]: round(float(r["total"]), 3) for r in cur.fetchall()}
        seconds.update({k: round(v, 3) for k, v in stage_seconds.items()})
        cur.execute(statement("runs/run_errors"), key)
        errors = [r["error"] for r in cur.fetchall()] + ([error] if error else [])
        error = "; ".join(errors) or None
        cur.execute(statement("runs/finish_run"), {
            **key, **totals, "status": "failed" if error else "success", "error": error,
            "links_made": links_made, "stage_seconds": json.dumps(seconds)})
        return dict(cur.fetchone())


def batch_counts(conn, run_id: str, archived: Sequence) -> dict[str, int]:
    """What the run did with a batch's files (raw.Archived), read from the archive, not from this attempt.

    A retried batch finds its bytes archived and its articles loaded by the attempt that
    died: counted from what this attempt saw, they would be duplicates and nothing loaded.
    A file counts as archived when its delivery is this run's first delivery of those bytes;
    articles, quarantine rows and content duplicates count when this run made them from
    those files (bytes first archived by another batch of the run count there, not here).
    """
    if not archived:
        return {"files_archived": 0, "duplicates": 0, "quarantined": 0, "loaded": 0}
    pairs = sorted({(a.raw_id, Path(a.path).name) for a in archived})
    with conn, conn.cursor() as cur:
        cur.execute(statement("runs/batch_counts"), {
            "raw_ids": [r for r, _ in pairs], "file_names": [n for _, n in pairs], "run_id": run_id})
        archived_n, content_duplicates, quarantined, loaded = cur.fetchone()
    return {"files_archived": archived_n, "duplicates": len(archived) - archived_n + content_duplicates,
            "quarantined": quarantined, "loaded": loaded}


def record_validation(conn, run_id: str, batch_key: str, suite: str, results: list[dict]) -> None:
    """Store one validation's expectation results, replacing a retried batch's."""
    with conn, conn.cursor() as cur:
        write_validation(cur, run_id, batch_key, suite, results)


def write_validation(cur, run_id: str, batch_key: str, suite: str, results: list[dict]) -> None:
    """`record_validation` in the caller's transaction (the loader's: a batch's results commit
    with the rows they decided)."""
    cur.execute(
        "DELETE FROM archive.validation_results WHERE run_id = %s AND batch_key = %s AND suite = %s",
        (run_id, batch_key, suite),
    )
    if results:
        psycopg2.extras.execute_values(
            cur, statement("runs/insert_validation_results"),
            [
                (run_id, batch_key, suite, r["expectation"], r.get("column"), r["severity"], r["success"],
                 r.get("element_count"), r.get("unexpected_count"),
                 json.dumps(r.get("unexpected_sample", []), default=str),
                 json.dumps(r.get("details", {}), default=str))
                for r in results
            ],
        )
