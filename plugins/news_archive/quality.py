"""The quality gate: a Great Expectations suite run on every parsed batch before load.

The suite is code under version control (`pre_load_suite`). Each expectation
carries a severity in its `meta`: a "critical" failure quarantines only the
offending rows (GX row-level results: `unexpected_index_list` with the COMPLETE
result format, keyed by `raw_id`); a "warning" failure loads the row with a flag.

GX is imported inside the functions: DAG files must not pay for it at parse time.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.util
import logging
import os
import re
import sys
import threading
import time
import types
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from news_archive.parsing import HTML_MARKUP_REGEX

SUITE_NAME = "articles_pre_load"
SUITE_VERSION = "2"
HTML_TAG_REGEX = HTML_MARKUP_REGEX  # known HTML elements only: <SJG> or <IBM.N> in wire copy is text
REPLACEMENT_CHAR = "\ufffd"

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


class _Deferred(types.ModuleType):
    """A module whose code runs at the first read of a name it defines, not at its import.

    Unlike importlib.util.LazyLoader's modules, it answers __name__, __file__, __spec__,
    __path__ and the like without running: the import system and inspect.getmodule (which
    wordfreq's import calls, reading __file__ of every module in sys.modules) read those,
    and would otherwise run it at once.
    """

    _lock = threading.Lock()

    def __getattr__(self, name: str):  # called only for names the module does not hold yet
        with _Deferred._lock:
            if type(self) is _Deferred:
                # A plain module from here on, before its code runs, as a module being
                # imported is: its own code may read its names back. (Its first use from two
                # threads at once is not guarded further: GX runs one call at a time here.)
                self.__class__ = types.ModuleType
                try:
                    self.__spec__.loader.exec_module(self)
                except BaseException:
                    sys.modules.pop(self.__name__, None)  # as a failed import leaves it
                    raise
        return getattr(self, name)


def defer(name: str) -> None:
    """Register module `name` as a _Deferred module: its code runs at the first read of a
    name it defines, not when it is imported. A process that has imported it keeps it as it
    is; a module that is not installed is left alone (its import fails as before)."""
    if name in sys.modules:
        return
    try:
        spec = importlib.util.find_spec(name)  # imports the parent package, if any (scipy: light)
    except ImportError:
        return
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)  # __name__, __file__, __spec__, __path__ set
    module.__class__ = _Deferred
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent:
        # `from scipy import stats` reads the parent's attribute; without it, scipy's own
        # __getattr__ would import the submodule and so run it at once.
        setattr(sys.modules[parent], child, module)


# What Great Expectations imports and this suite never runs. Importing GX imports every
# expectation it ships, and one of them (expect_column_kl_divergence_to_be_less_than, with
# two KS-test metrics) imports, at module level, two libraries only its statistics and its
# charts use: scipy.stats (1.2 s of a 4.1 s GX import on a slow day here) and altair
# (0.5 s of 3.6 s). Every task process paid for them. Deferred, each runs at its first real
# use, so an expectation that does use one still gets the whole module.
DEFERRED_MODULES = ("scipy.stats", "altair")


def defer_unused_modules() -> None:
    for name in DEFERRED_MODULES:
        defer(name)


defer_unused_modules()  # at import: this module is imported where GX is about to be, so before GX


@dataclass(frozen=True)
class Check:
    """One expectation of the suite, in plain terms."""

    reason: str  # reason code recorded on quarantined rows
    severity: str  # critical | warning
    gx_class: str
    kwargs: dict[str, Any]
    description: str


def pre_load_checks(min_body_words: int = 15, now: dt.datetime | None = None, *, short_body_words: int = 50,
                    min_date: dt.date = dt.date(1800, 1, 1)) -> list[Check]:
    """The suite's checks; `checks_for(settings)` fills the thresholds from the settings."""
    # A day of slack for feeds whose clocks run ahead; "the future" is beyond that.
    latest = (now or dt.datetime.now(dt.UTC)) + dt.timedelta(days=1)
    earliest = dt.datetime.combine(min_date, dt.time(), tzinfo=dt.UTC)
    return [
        Check("no_title", "critical", "ExpectColumnValuesToNotBeNull", {"column": "title"}, "title present"),
        Check("title_length", "critical", "ExpectColumnValueLengthsToBeBetween",
              {"column": "title", "min_value": 5, "max_value": 300}, "title 5 to 300 characters"),
        Check("body_too_short", "critical", "ExpectColumnValuesToBeBetween",
              {"column": "word_count", "min_value": min_body_words},
              f"body at least {min_body_words} words"),
        Check("date_out_of_range", "critical", "ExpectColumnValuesToBeBetween",
              {"column": "published_at", "min_value": earliest, "max_value": latest},
              f"published date, when present, on or after {min_date.isoformat()} and not in the future"),
        Check("replacement_characters", "critical", "ExpectColumnValuesToBeBetween",
              {"column": "replacement_ratio", "max_value": 0.01},
              "replacement characters (U+FFFD) under 1% of the text"),
        Check("html_in_title", "critical", "ExpectColumnValuesToNotMatchRegex",
              {"column": "title", "regex": HTML_TAG_REGEX}, "no HTML element markup left in the title"),
        Check("html_in_body", "critical", "ExpectColumnValuesToNotMatchRegex",
              {"column": "body", "regex": HTML_TAG_REGEX}, "no HTML element markup left in the body"),
        Check("duplicate_in_batch", "warning", "ExpectColumnValuesToBeUnique",
              {"column": "content_hash"},
              "content hash unique within the batch (later copies are kept as content duplicates)"),
        Check("parse_warnings", "warning", "ExpectColumnValuesToBeBetween",
              {"column": "parse_warning_count", "max_value": 0}, "the parser raised no warnings"),
        Check("short_body", "warning", "ExpectColumnValuesToBeBetween",
              {"column": "word_count", "min_value": short_body_words},
              f"body at least {short_body_words} words (shorter ones load: wire briefs)"),
        Check("derived_title", "warning", "ExpectColumnValuesToBeInSet",
              {"column": "title_derived", "value_set": [False]},
              "a title line was present (else the body's first sentence is the title)"),
    ]


def checks_for(settings) -> list[Check]:
    """The pre-load checks with the thresholds of a `config.Settings`."""
    return pre_load_checks(settings.min_body_words, short_body_words=settings.short_body_words,
                           min_date=settings.min_date)


@dataclass
class RowVerdict:
    critical: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)


@dataclass
class ValidationOutcome:
    verdicts: dict[int, RowVerdict]  # raw_id -> what failed for that row
    results: list[dict]  # one per expectation, for archive.validation_results
    success: bool

    def quarantined_ids(self) -> list[int]:
        return sorted(i for i, v in self.verdicts.items() if v.critical)


def batch_frame(rows: Sequence[tuple[int, Any]]):
    """(raw_id, Article) pairs -> the DataFrame the suite validates."""
    import pandas as pd

    records = []
    for raw_id, article in rows:
        text = f"{article.title}\n{article.body}"
        records.append({
            "raw_id": raw_id,
            "title": article.title,
            "body": article.body,
            "word_count": article.word_count,
            "published_at": article.published_at,
            "content_hash": article.content_hash,
            "replacement_ratio": text.count(REPLACEMENT_CHAR) / max(len(text), 1),
            "parse_warning_count": len(article.parse_warnings),
            "title_derived": bool(getattr(article, "title_derived", False)),
        })
    frame = pd.DataFrame.from_records(records, columns=[
        "raw_id", "title", "body", "word_count", "published_at", "content_hash",
        "replacement_ratio", "parse_warning_count", "title_derived",
    ])
    frame["published_at"] = pd.to_datetime(frame["published_at"], utc=True)
    return frame


def _exception_message(info) -> str | None:
    """GX reports errors flat, or nested per metric; None when nothing was raised."""
    if not info:
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message"))
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message"))
    return None


def _quiet_gx() -> None:
    for name in ("great_expectations", "great_expectations.core", "great_expectations.data_context"):
        logging.getLogger(name).setLevel(logging.WARNING)


# GX keeps the current context in a process-wide global (checkpoints check their resources'
# freshness against it): two threads validating at once in one process (two runs of
# `run_once` in threads) see each other's context and fail at random. One at a time per process.
_GX_LOCK = threading.RLock()


def _one_at_a_time(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with _GX_LOCK:
            return fn(*args, **kwargs)
    return wrapper


def import_gx() -> float:
    """Import Great Expectations now rather than at first use; the seconds it took: ~1-2.5 s
    once per process, 0.0 where it was already imported (inherited from news_archive.preload)."""
    if "great_expectations" in sys.modules:
        return 0.0
    _quiet_gx()  # first: under Airflow's logging, GX's import alone logs ~150 INFO lines
    t = time.perf_counter()
    import great_expectations  # noqa: F401

    return time.perf_counter() - t


def _context():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    _quiet_gx()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def build_suite(checks: Sequence[Check]):
    import great_expectations as gx

    suite = gx.ExpectationSuite(name=SUITE_NAME, meta={"version": SUITE_VERSION})
    for check in checks:
        expectation_cls = getattr(gx.expectations, check.gx_class)
        suite.add_expectation(expectation_cls(
            **check.kwargs,
            meta={"reason": check.reason, "severity": check.severity, "description": check.description},
        ))
    return suite


def _jsonable(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, float) and value != value:  # NaN
        return None
    if isinstance(value, str) and len(value) > 200:
        return value[:200] + "…"
    return value


DOCS_SITE = "news_archive"


def _add_docs_site(context, docs_dir) -> None:
    if DOCS_SITE in (context.get_site_names() or []):
        return
    context.add_data_docs_site(site_name=DOCS_SITE, site_config={
        "class_name": "SiteBuilder",
        # keeps the pages of earlier runs (GX's own builder deletes every page whose result
        # is not in this context's store, that is every earlier run's): see prune_docs
        "site_index_builder": {"class_name": "KeepingSiteIndexBuilder", "module_name": "news_archive.gx_docs"},
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
    })


PENDING_DOCS = ".pending"  # validation results waiting to be rendered, under the Data Docs folder


def keep_for_docs(context, docs_dir) -> None:
    """Save the context's validation results for the next Data Docs build (`build_docs`).

    Rendering Data Docs costs ~0.3 s of template work per call, more than validating a
    batch: the batches only save their results, and the run's check task renders them all
    at once. A result saved here waits for the next build if that task never runs.
    """
    import json
    import uuid
    from pathlib import Path

    store = context.validation_results_store
    pending = Path(docs_dir) / PENDING_DOCS
    pending.mkdir(parents=True, exist_ok=True)
    for key in store.list_keys():
        path = pending / f"{uuid.uuid4().hex}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"key": list(key.to_tuple()), "result": store.serialize(store.get(key))}))
        tmp.replace(path)  # a reader never sees half a file


def _escape_strings(value: Any) -> Any:
    import html

    if isinstance(value, str):
        return html.escape(value, quote=True)
    if isinstance(value, list):
        return [_escape_strings(v) for v in value]
    if isinstance(value, dict):
        return {k: _escape_strings(v) for k, v in value.items()}
    return value


def escaped_for_docs(serialized: str) -> str:
    """A serialized validation result with every observed value HTML-escaped.

    Only what the data produced is touched (each expectation's `result`, and exception
    messages, which may quote it); the suite's own configuration stays as written.
    """
    import json

    doc = json.loads(serialized)
    for r in doc.get("results", []):
        if "result" in r:
            r["result"] = _escape_strings(r["result"])
        if "exception_info" in r:
            r["exception_info"] = _escape_strings(r["exception_info"])
    return json.dumps(doc)


def build_docs(context, docs_dir, suites=(), keep_days: int = 90) -> None:
    """Render the context's results, the saved ones and `suites` into Data Docs.

    Earlier runs' pages stay (runs.html lists them all) until they are `keep_days` old.
    """
    import json
    from pathlib import Path

    from great_expectations.data_context.types.resource_identifiers import ValidationResultIdentifier

    store = context.validation_results_store
    saved = sorted((Path(docs_dir) / PENDING_DOCS).glob("*.json"))
    for path in saved:
        try:
            item = json.loads(path.read_text())
        except FileNotFoundError:  # another build took it
            continue
        store.set(ValidationResultIdentifier.from_tuple(tuple(item["key"])), store.deserialize(item["result"]))
    # Values from the feed (titles, bodies) reach the pages as text, never as markup: GX
    # writes observed values into its HTML unescaped, so every one is escaped first.
    for key in store.list_keys():
        store.set(key, store.deserialize(escaped_for_docs(store.serialize(store.get(key)))))
    for suite in suites:
        if suite.name not in {s.name for s in context.suites.all()}:
            context.suites.add(suite)
    _add_docs_site(context, docs_dir)
    context.build_data_docs(site_names=[DOCS_SITE])
    for path in saved:
        path.unlink(missing_ok=True)
    from news_archive import gx_docs

    gx_docs.prune_docs(docs_dir, keep_days)
    gx_docs.write_runs_page(docs_dir)


def _run_checkpoint(context, name: str, batch_definition, suite, batch_parameters, run_name: str, result_format):
    import great_expectations as gx

    suite = context.suites.add(suite)
    definition = context.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch_definition,
                                                                            suite=suite))
    checkpoint = context.checkpoints.add(gx.Checkpoint(name=f"{name}_checkpoint", validation_definitions=[definition],
                                                       actions=[], result_format=result_format))
    safe_name = re.sub(r"[/\\]+", "_", run_name)  # Data Docs keys become file paths
    run = checkpoint.run(batch_parameters=batch_parameters, run_id=gx.RunIdentifier(run_name=safe_name))
    return next(iter(run.run_results.values()))


@_one_at_a_time
def validate_frame(frame, checks: Sequence[Check], *, sample_size: int = 20, docs_dir=None,
                   run_name: str = "adhoc") -> ValidationOutcome:
    """Run the suite on one batch; never raises on bad rows, only reports them.

    With `docs_dir`, the result is kept there for the next Data Docs build (`build_docs`).
    """
    context = _context()
    asset = context.data_sources.add_pandas("parsed_articles").add_dataframe_asset("batch")
    result = _run_checkpoint(
        context, SUITE_NAME, asset.add_batch_definition_whole_dataframe("whole_batch"), build_suite(checks),
        {"dataframe": frame}, run_name,
        {"result_format": "COMPLETE", "unexpected_index_column_names": ["raw_id"]},
    )
    if docs_dir:
        keep_for_docs(context, docs_dir)
    verdicts: dict[int, RowVerdict] = defaultdict(RowVerdict)
    for raw_id in frame["raw_id"]:
        verdicts[int(raw_id)]
    results = []
    for r in result.results:
        meta = r.expectation_config.meta or {}
        column = r.expectation_config.kwargs.get("column")
        info = r.result or {}
        unexpected = info.get("unexpected_index_list") or []
        failure = {
            "expectation": r.expectation_config.type,
            "reason": meta.get("reason"),
            "description": meta.get("description"),
            "column": column,
        }
        if (error := _exception_message(r.exception_info)) is not None:
            # An expectation that could not run holds back the whole batch's rows.
            unexpected = [{"raw_id": i} for i in frame["raw_id"]]
            failure["error"] = error
        seen_first: set[Any] = set()
        for item in unexpected:
            raw_id = int(item["raw_id"])
            if meta.get("reason") == "duplicate_in_batch":
                # GX flags every copy; the first (lowest raw id) is the one that loads.
                value = item.get(column)
                if value not in seen_first and raw_id == int(frame.loc[frame[column] == value, "raw_id"].min()):
                    seen_first.add(value)
                    continue
            entry = dict(failure, value=_jsonable(item.get(column)))
            target = verdicts[raw_id].critical if meta.get("severity") == "critical" else verdicts[raw_id].warnings
            target.append(entry)
        results.append({
            "expectation": r.expectation_config.type,
            "column": column,
            "reason": meta.get("reason"),
            "severity": meta.get("severity", "critical"),
            "success": bool(r.success),
            "element_count": info.get("element_count", len(frame)),
            "unexpected_count": info.get("unexpected_count", len(unexpected)),
            "unexpected_sample": [
                {k: _jsonable(v) for k, v in item.items()} for item in unexpected[:sample_size]
            ],
            "details": {"description": meta.get("description"), "kwargs": {
                k: _jsonable(v) for k, v in r.expectation_config.kwargs.items() if k != "batch_id"
            }},
        })
    return ValidationOutcome(dict(verdicts), results, bool(result.success))


def quarantine_message(critical: list[dict]) -> str:
    parts = []
    for failure in critical:
        value = failure.get("value")
        shown = f" (got {value!r})" if value is not None and failure["column"] not in ("body",) else ""
        parts.append(f"{failure['description']}{shown}")
    return "failed quality checks: " + "; ".join(parts)


# --------------------------------------------------------------------------- post-load suite
POST_LOAD_SUITE = "archive_post_load"


def post_load_checks() -> list[tuple[str, Check]]:
    """(table, check) pairs run on the archive after each load, through a GX SQL data source."""
    return [
        ("version_links", Check(
            "orphan_link", "critical", "UnexpectedRowsExpectation",
            # GX substitutes {batch} with an aliased subquery: no alias of our own here
            {"unexpected_rows_query": (
                # NOT EXISTS, not NOT IN: an anti-join; NOT IN turns quadratic once the id
                # list outgrows work_mem (found at 100k articles by bench/run.py)
                "SELECT id, parent_article_id, child_article_id FROM {batch} "
                "WHERE NOT EXISTS (SELECT 1 FROM archive.articles p WHERE p.id = parent_article_id) "
                "OR NOT EXISTS (SELECT 1 FROM archive.articles c WHERE c.id = child_article_id)")},
            "no version link points to a missing article")),
        ("articles", Check(
            "duplicate_content_hash", "critical", "ExpectColumnValuesToBeUnique", {"column": "content_hash"},
            "content hashes unique across the archive")),
        ("articles", Check(
            "article_without_raw", "critical", "UnexpectedRowsExpectation",
            {"unexpected_rows_query": (
                "SELECT id, raw_document_id FROM {batch} "
                "WHERE NOT EXISTS (SELECT 1 FROM archive.raw_documents r WHERE r.id = raw_document_id)")},
            "every article is tied to a raw document")),
    ]


@_one_at_a_time
def validate_archive(database_url: str, *, run_name: str = "adhoc", docs_dir=None, sample_size: int = 20,
                     docs_keep_days: int = 90,
                     docs_pre_load_checks: Sequence[Check] = ()) -> list[dict]:
    """Run the post-load suite on the Postgres tables; returns one result per expectation.

    With `docs_dir`, Data Docs are built there: these results, the batches' saved ones and
    the page of the pre-load suite made of `docs_pre_load_checks`.
    """
    import great_expectations as gx

    context = _context()
    source = context.data_sources.add_postgres("archive_db", connection_string=database_url)
    by_table: dict[str, list[Check]] = defaultdict(list)
    for table, check in post_load_checks():
        by_table[table].append(check)
    results = []
    for table, checks in by_table.items():
        asset = source.add_table_asset(name=table, table_name=table, schema_name="archive")
        suite = gx.ExpectationSuite(name=f"{POST_LOAD_SUITE}_{table}")
        for check in checks:
            cls = getattr(gx.expectations, check.gx_class)
            suite.add_expectation(cls(**check.kwargs, description=check.description,
                                      meta={"reason": check.reason, "severity": check.severity,
                                            "description": check.description}))
        outcome = _run_checkpoint(context, f"{POST_LOAD_SUITE}_{table}", asset.add_batch_definition_whole_table("all"),
                                  suite, None, run_name, {"result_format": "COMPLETE"})
        for r in outcome.results:
            info = r.result or {}
            sample = info.get("details", {}).get("unexpected_rows") or info.get("partial_unexpected_list") or []
            error = _exception_message(r.exception_info)
            raised = error is not None
            results.append({
                "expectation": r.expectation_config.type,
                "column": r.expectation_config.kwargs.get("column") or table,
                "reason": (r.expectation_config.meta or {}).get("reason"),
                "severity": "critical",
                "success": bool(r.success) and not raised,
                "element_count": info.get("element_count"),
                "unexpected_count": info.get("unexpected_count", info.get("observed_value")),
                "unexpected_sample": [_jsonable(v) if not isinstance(v, dict) else
                                      {k: _jsonable(x) for k, x in v.items()} for v in list(sample)[:sample_size]],
                "details": {"table": f"archive.{table}", "description": (r.expectation_config.meta or {}).get(
                    "description"), "error": error},
            })
    if docs_dir:
        # (a suite can only be built once a context exists)
        build_docs(context, docs_dir, [build_suite(docs_pre_load_checks)] if docs_pre_load_checks else [],
                   keep_days=docs_keep_days)
    return results
