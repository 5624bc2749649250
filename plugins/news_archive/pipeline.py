"""The pipeline's steps, each runnable without Airflow.

The DAG (dags/news_ingest.py) calls these one per task; `news-archive ingest`
calls them in a row. Steps pass file names, ids and counts, never bodies.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from news_archive import inbox, store
from news_archive.config import Settings
from news_archive.parsing import Article, Rejection, parse_document

log = logging.getLogger(__name__)


SchemaOutOfDate = store.schema.SchemaOutOfDate  # a run against an archive not at the code's schema


class QualityThresholdExceeded(RuntimeError):
    """Too large a share of a batch was quarantined: the run must show red."""


class PostLoadCheckFailed(RuntimeError):
    """The archive broke an invariant (orphan link, duplicate hash, article without raw document)."""


_IMPORTS_SETTLED_IN: int | None = None  # the process that last settled (a forked child settles again)


def settle_imports() -> None:
    """Once per process, after the heavy imports: freeze what is alive out of the cyclic
    garbage collector's sight (gc.freeze), so that its full collections walk what a batch
    makes, not the ~264,000 objects Great Expectations' import leaves (and Airflow's, in a
    task). Frozen objects are still freed by reference counting; a collection first, so no
    garbage is frozen. A process forked from one that settled (news_archive.preload's)
    settles again, for what it made since the fork."""
    global _IMPORTS_SETTLED_IN
    if _IMPORTS_SETTLED_IN != os.getpid():
        gc.collect()
        gc.freeze()
        _IMPORTS_SETTLED_IN = os.getpid()


@dataclass
class Batch:
    key: str
    files: list[str]  # names inside the run's claim folder

    def as_dict(self) -> dict:
        return {"key": self.key, "files": self.files}


def claim_step(conn, settings: Settings, run_id: str, dag_id: str | None = None) -> list[dict]:
    """Start the run's history row, claim inbox files, split them into batches.

    The archive's schema must be the code's (store.schema.check_schema): a run never migrates,
    and a run against an out-of-date archive fails before it changes anything.
    """
    store.schema.check_schema(conn)
    store.runs.start_run(conn, run_id, dag_id)
    files, refused = inbox.claim(settings, run_id, limit=settings.max_files_per_run)
    store.raw.record_refused(conn, run_id, refused)
    names = [p.name for p in files]
    # As few batches as batch_size allows, of even sizes (2,600 files: 1,300 + 1,300, not
    # 2,500 + 100), so the mapped tasks that run side by side finish together.
    count = -(-len(names) // max(settings.batch_size, 1))
    size = -(-len(names) // count) if count else 1
    batches = [
        Batch(f"batch-{i // size + 1:04d}", names[i : i + size]).as_dict() for i in range(0, len(names), size)
    ]
    log.info("run %s: claimed %d files in %d batches, refused %d", run_id, len(files), len(batches), len(refused))
    return batches


@dataclass
class Checked:
    rows: list[store.articles.ArticleRecord]  # ready to load
    quarantined: list[store.articles.Quarantined]
    results: list[dict]  # expectation results of the batch
    parse_seconds: float
    import_seconds: float  # importing Great Expectations: 0.0 where the process inherited it (news_archive.preload)


def parse_and_validate(raws, settings: Settings, run_id: str, *, docs_dir=None, run_name: str = "adhoc") -> Checked:
    """Parse (raw id, name, bytes) items and run the pre-load suite on what parsed.

    Shared by ingestion and `reparse`: one definition of what loads and what is held back.
    """
    from news_archive import quality  # GX is heavy: import it only in the task that runs it

    import_seconds = quality.import_gx()  # now, before the batch's objects exist: see settle_imports
    settle_imports()
    t = time.perf_counter()
    parsed: list[tuple[int, Article]] = []
    quarantined: list[store.articles.Quarantined] = []
    for raw_id, _name, content in raws:
        result = parse_document(content, max_bytes=settings.max_bytes, min_body_words=settings.min_body_words)
        if isinstance(result, Rejection):
            quarantined.append(store.articles.Quarantined(
                raw_id, "parse", [result.reason], result.message,
                [{"stage": "parse", "warnings": result.parse_warnings}] if result.parse_warnings else [],
                result.parser_version,
            ))
        else:
            parsed.append((raw_id, result))
    parse_seconds = time.perf_counter() - t
    rows: list[store.articles.ArticleRecord] = []
    results: list[dict] = []
    if parsed:
        outcome = quality.validate_frame(quality.batch_frame(parsed), quality.checks_for(settings),
                                         docs_dir=docs_dir, run_name=run_name)
        results = outcome.results
        for raw_id, article in parsed:
            verdict = outcome.verdicts[raw_id]
            if verdict.critical:
                quarantined.append(store.articles.Quarantined(
                    raw_id, "validate", sorted({f["reason"] for f in verdict.critical}),
                    quality.quarantine_message(verdict.critical), verdict.critical, article.parser_version,
                ))
            else:
                rows.append(store.articles.article_record(raw_id, article, verdict.warnings, run_id))
    return Checked(rows, quarantined, results, parse_seconds, import_seconds)


def process_batch(conn, settings: Settings, run_id: str, batch: dict) -> dict:
    """Archive, parse, validate and load one batch, then index and key what loaded; return its counts.

    Raw bytes are committed first, so a failure later in the batch loses
    nothing. Articles and quarantine rows commit together, so no partial batch
    is ever visible. Raises QualityThresholdExceeded after everything is
    recorded when too large a share of the batch was quarantined.
    """
    from news_archive import quality

    store.schema.check_schema(conn)
    seconds: dict[str, float] = {}
    inbox.heartbeat(settings, run_id)
    folder = inbox.claim_dir(settings, run_id)
    paths = [folder / name for name in batch["files"] if (folder / name).exists()]

    t = time.perf_counter()
    archived = store.raw.archive_files(conn, run_id, paths)
    seconds["archive"] = time.perf_counter() - t

    t = time.perf_counter()
    todo = store.raw.unprocessed(conn, [a.raw_id for a in archived])
    checked = parse_and_validate(store.raw.iter_raw(conn, todo), settings, run_id,
                                 docs_dir=settings.data_docs_dir, run_name=f"{run_id}/{batch['key']}")
    rows, quarantined, results = checked.rows, checked.quarantined, checked.results
    seconds["import"] = checked.import_seconds
    seconds["parse"] = checked.parse_seconds
    seconds["validate"] = time.perf_counter() - t - checked.parse_seconds - checked.import_seconds

    t = time.perf_counter()

    def record_validation(cur) -> None:
        store.runs.write_validation(cur, run_id, batch["key"], quality.SUITE_NAME, results)

    # The expectation results commit with the rows they decided. A retry that finds the
    # batch loaded validates nothing (results is empty) and keeps them.
    loaded = store.articles.load_batch(conn, run_id, rows, quarantined, also=record_validation if results else None)
    seconds["load_lock_wait"] = loaded["lock_wait_seconds"]  # another batch was loading
    seconds["load"] = time.perf_counter() - t - loaded["lock_wait_seconds"]

    # Work for later tasks done here, where batches run in parallel: search vectors and
    # candidate keys of the new articles (each idempotent; the link task fills any gap).
    t = time.perf_counter()
    store.articles.index_search(conn, loaded["inserted"])
    seconds["index"] = time.perf_counter() - t
    t = time.perf_counter()
    store.links.store_pending_keys(conn, loaded["inserted"])
    seconds["fingerprint"] = time.perf_counter() - t

    # What the run did with these files (a retry counts what the attempt that died did too)
    stats = {"files_seen": len(batch["files"]), **store.runs.batch_counts(conn, run_id, archived),
             "seconds": {k: round(v, 4) for k, v in seconds.items()}}
    processed = stats["files_archived"]  # documents this run read for the first time
    error = None
    if processed and stats["quarantined"] / processed > settings.quarantine_threshold:
        error = (
            f"{batch['key']}: {stats['quarantined']} of {processed} documents quarantined "
            f"({stats['quarantined'] / processed:.0%} > {settings.quarantine_threshold:.0%}); "
            "the good rows are loaded, see archive.quarantine for the reasons"
        )
        stats["error"] = error
    store.runs.record_batch_stats(conn, run_id, batch["key"], stats)
    log.info(
        "%s %s: %d files, %d new raw, %d duplicates, %d quarantined, %d loaded",
        run_id, batch["key"], stats["files_seen"], stats["files_archived"], stats["duplicates"],
        stats["quarantined"], stats["loaded"],
    )
    if error:
        raise QualityThresholdExceeded(error)
    return stats


def link_step(conn, run_id: str) -> dict:
    """Index any article the loading tasks left unindexed, then link the new articles to their versions."""
    store.schema.check_schema(conn)
    t = time.perf_counter()
    indexed = store.articles.index_search(conn)
    index_seconds = time.perf_counter() - t
    t = time.perf_counter()
    counts = store.links.link_pending(conn, run_id)
    counts["seconds"] = round(time.perf_counter() - t, 4)
    counts["indexed"] = indexed
    counts["index_seconds"] = round(index_seconds, 4)
    log.info("%s link: %d articles indexed for search (%.1f s), %d linked, %d new version links "
             "(%d candidate pairs verified, %d fingerprints computed)", run_id, indexed, index_seconds,
             counts.get("articles", 0), counts.get("links", 0), counts.get("pairs", 0), counts.get("fingerprints", 0))
    return counts


def check_step(conn, database_url: str, settings: Settings, run_id: str) -> dict:
    """The post-load suite on the archive tables; results recorded, failure raised after.

    `database_url` is the archive as a SQLAlchemy URL (NewsArchiveHook.sqlalchemy_url()),
    for Great Expectations' SQL data source.
    """
    store.schema.check_schema(conn)
    from news_archive import quality

    import_seconds = quality.import_gx()
    t = time.perf_counter()
    results = quality.validate_archive(  # also renders the Data Docs of the run's batches
        database_url, run_name=f"{run_id}/post_load", docs_dir=settings.data_docs_dir,
        docs_keep_days=settings.data_docs_keep_days,
        docs_pre_load_checks=quality.checks_for(settings))
    store.runs.record_validation(conn, run_id, "post_load", quality.POST_LOAD_SUITE, results)
    failed = [r for r in results if not r["success"]]
    stats = {"seconds": {"import": round(import_seconds, 4), "post_load_check": round(time.perf_counter() - t, 4)}}
    if failed:
        stats["error"] = "post-load checks failed: " + "; ".join(
            f"{r['details']['description']} ({r['unexpected_count']} unexpected)" for r in failed)
    store.runs.record_batch_stats(conn, run_id, "post_load", stats)
    log.info("%s post-load checks: %d of %d passed", run_id, len(results) - len(failed), len(results))
    if failed:
        raise PostLoadCheckFailed(stats["error"])
    return {"checks": len(results), "failed": 0, "seconds": stats["seconds"]}


def finalize_step(conn, settings: Settings, run_id: str, *, links_made: int = 0,
                  stage_seconds: dict | None = None, error: str | None = None) -> dict:
    """File every claimed file away by its outcome and close the run's history row."""
    store.schema.check_schema(conn)
    folder = inbox.claim_dir(settings, run_id)
    files = sorted(p for p in folder.iterdir() if p.is_file()) if folder.exists() else []
    # Where each file went, from the deliveries the archive step recorded for this run; only
    # a file with no delivery of this run (the same name and bytes as an earlier run's, whose
    # delivery is that run's) is read and hashed again.
    raw_of = store.raw.delivered_raw_ids(conn, run_id, [p.name for p in files])
    unrecorded = [p for p in files if p.name not in raw_of]
    if unrecorded:
        by_sha: dict[str, list[Path]] = {}
        for path in unrecorded:
            by_sha.setdefault(hashlib.sha256(path.read_bytes()).hexdigest(), []).append(path)
        ids = store.raw.raw_ids_by_sha256(conn, list(by_sha))
        for sha, paths in by_sha.items():
            for path in paths:
                if sha in ids:
                    raw_of[path.name] = ids[sha]
    outcomes = store.raw.outcomes(conn, set(raw_of.values())) if raw_of else {}
    outcome_of: dict[Path, str] = {p: outcomes.get(raw_of.get(p.name), "pending") for p in files}
    moved = {"loaded": 0, "duplicate": 0, "quarantined": 0, "pending": 0}
    for path in files:
        outcome = outcome_of.get(path, "pending")
        inbox.file_away(settings, run_id, path, outcome)
        moved[outcome] += 1
    inbox.release(settings, run_id)
    if moved["pending"] and not error:
        error = f"{moved['pending']} files were not processed and went back to the inbox"
    row = store.runs.finish_run(conn, run_id, links_made=links_made, stage_seconds=stage_seconds or {}, error=error)
    log.info("%s finished: %s; files moved %s", run_id, row["status"], moved)
    return {"status": row["status"], "moved": moved, "error": row["error"]}


def run_once(conn, settings: Settings, run_id: str, database_url: str | None = None) -> dict:
    """The whole pipeline in one process (command line and benchmarks).

    `database_url` (SQLAlchemy) is for the post-load suite; by default the connection's own
    parameters without a password (libpq then finds one in ~/.pgpass or PGPASSWORD).
    """
    batches = claim_step(conn, settings, run_id, dag_id=None)
    for batch in batches:
        try:
            process_batch(conn, settings, run_id, batch)
        except QualityThresholdExceeded:
            pass  # recorded on the batch; finalize marks the run failed
    links = link_step(conn, run_id)
    try:
        check_step(conn, database_url or store.db.sqlalchemy_url(conn.get_dsn_parameters()), settings, run_id)
    except PostLoadCheckFailed:
        pass  # recorded; finalize marks the run failed
    return finalize_step(conn, settings, run_id, links_made=links.get("links", 0),
                         stage_seconds={"link": links["seconds"]})

