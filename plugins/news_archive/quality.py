"""The quality gate: a Great Expectations suite run on every parsed batch before load.

The suite is code under version control (`pre_load_suite`). Each expectation
carries a severity in its `meta`: a "critical" failure quarantines only the
offending rows (GX row-level results: `unexpected_index_list` with the COMPLETE
result format, keyed by `raw_id`); a "warning" failure loads the row with a flag.

GX is imported inside the functions: DAG files must not pay for it at parse time.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

SUITE_NAME = "articles_pre_load"
SUITE_VERSION = "1"
EARLIEST_DATE = dt.datetime(1990, 1, 1, tzinfo=dt.UTC)
HTML_TAG_REGEX = r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>"
REPLACEMENT_CHAR = "\ufffd"

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


@dataclass(frozen=True)
class Check:
    """One expectation of the suite, in plain terms."""

    reason: str  # reason code recorded on quarantined rows
    severity: str  # critical | warning
    gx_class: str
    kwargs: dict[str, Any]
    description: str


def pre_load_checks(min_body_words: int, now: dt.datetime | None = None) -> list[Check]:
    # A day of slack for feeds whose clocks run ahead; "the future" is beyond that.
    latest = (now or dt.datetime.now(dt.UTC)) + dt.timedelta(days=1)
    return [
        Check("no_title", "critical", "ExpectColumnValuesToNotBeNull", {"column": "title"}, "title present"),
        Check("title_length", "critical", "ExpectColumnValueLengthsToBeBetween",
              {"column": "title", "min_value": 5, "max_value": 300}, "title 5 to 300 characters"),
        Check("body_too_short", "critical", "ExpectColumnValuesToBeBetween",
              {"column": "word_count", "min_value": min_body_words},
              f"body at least {min_body_words} words"),
        Check("date_out_of_range", "critical", "ExpectColumnValuesToBeBetween",
              {"column": "published_at", "min_value": EARLIEST_DATE, "max_value": latest},
              "published date, when present, after 1990-01-01 and not in the future"),
        Check("replacement_characters", "critical", "ExpectColumnValuesToBeBetween",
              {"column": "replacement_ratio", "max_value": 0.01},
              "replacement characters (U+FFFD) under 1% of the text"),
        Check("html_in_title", "critical", "ExpectColumnValuesToNotMatchRegex",
              {"column": "title", "regex": HTML_TAG_REGEX}, "no HTML tags left in the title"),
        Check("html_in_body", "critical", "ExpectColumnValuesToNotMatchRegex",
              {"column": "body", "regex": HTML_TAG_REGEX}, "no HTML tags left in the body"),
        Check("duplicate_in_batch", "warning", "ExpectColumnValuesToBeUnique",
              {"column": "content_hash"},
              "content hash unique within the batch (later copies are kept as content duplicates)"),
        Check("parse_warnings", "warning", "ExpectColumnValuesToBeBetween",
              {"column": "parse_warning_count", "max_value": 0}, "the parser raised no warnings"),
    ]


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
        })
    frame = pd.DataFrame.from_records(records, columns=[
        "raw_id", "title", "body", "word_count", "published_at", "content_hash",
        "replacement_ratio", "parse_warning_count",
    ])
    frame["published_at"] = pd.to_datetime(frame["published_at"], utc=True)
    return frame


def _quiet_gx() -> None:
    for name in ("great_expectations", "great_expectations.core", "great_expectations.data_context"):
        logging.getLogger(name).setLevel(logging.WARNING)


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


def validate_frame(frame, checks: Sequence[Check], *, sample_size: int = 20) -> ValidationOutcome:
    """Run the suite on one batch; never raises on bad rows, only reports them."""
    context = _context()
    asset = context.data_sources.add_pandas("parsed_articles").add_dataframe_asset("batch")
    batch = asset.add_batch_definition_whole_dataframe("whole_batch").get_batch(
        batch_parameters={"dataframe": frame}
    )
    result = batch.validate(
        build_suite(checks),
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": ["raw_id"]},
    )
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
        if r.exception_info and r.exception_info.get("raised_exception"):
            # An expectation that could not run holds back the whole batch's rows.
            unexpected = [{"raw_id": i} for i in frame["raw_id"]]
            failure["error"] = r.exception_info.get("exception_message")
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
