"""Data Docs that keep every run: GX's index builder without its clean-up, a retention
setting, and a page that lists every run kept.

Great Expectations rebuilds its site from the results in the current context and deletes
every page whose result is not there, which with one context per run means every earlier
run's pages. `KeepingSiteIndexBuilder` keeps them; `prune_docs` removes those older than
`NEWS_ARCHIVE_DATA_DOCS_KEEP_DAYS` (90); `write_runs_page` lists what is kept (runs.html).
"""

from __future__ import annotations

import datetime as dt
import html
import shutil
from pathlib import Path

from great_expectations.render.renderer.site_builder import DefaultSiteIndexBuilder

RUN_TIME_FORMAT = "%Y%m%dT%H%M%S.%fZ"  # GX's folder name for a run time


class KeepingSiteIndexBuilder(DefaultSiteIndexBuilder):
    """GX's index builder, but pages of results no longer in the store are kept."""

    def build(self, skip_and_clean_missing: bool = False, build_index: bool = True):
        return super().build(skip_and_clean_missing=False, build_index=build_index)


def _run_folders(docs_dir: Path):
    """(suite, run name, run time folder, run time) of every validation page folder."""
    root = Path(docs_dir) / "validations"
    if not root.is_dir():
        return
    for suite in sorted(p for p in root.iterdir() if p.is_dir()):
        for run in sorted(p for p in suite.iterdir() if p.is_dir()):
            for when in sorted(p for p in run.iterdir() if p.is_dir()):
                try:
                    at = dt.datetime.strptime(when.name, RUN_TIME_FORMAT).replace(tzinfo=dt.UTC)
                except ValueError:
                    at = dt.datetime.fromtimestamp(when.stat().st_mtime, dt.UTC)
                yield suite, run, when, at


def prune_docs(docs_dir, keep_days: int, now: dt.datetime | None = None) -> int:
    """Remove validation pages older than `keep_days`; returns how many run folders went."""
    if keep_days <= 0:
        return 0
    cutoff = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=keep_days)
    removed = 0
    for _suite, run, when, at in list(_run_folders(Path(docs_dir))):
        if at < cutoff:
            shutil.rmtree(when, ignore_errors=True)
            removed += 1
            if run.is_dir() and not any(run.iterdir()):
                run.rmdir()
    return removed


def write_runs_page(docs_dir) -> Path:
    """runs.html: every kept validation page, newest first, each name escaped."""
    docs_dir = Path(docs_dir)
    rows = []
    for suite, run, when, at in sorted(_run_folders(docs_dir), key=lambda r: r[3], reverse=True):
        for page in sorted(when.rglob("*.html")):
            href = html.escape(page.relative_to(docs_dir).as_posix(), quote=True)
            rows.append(f"<tr><td>{at:%Y-%m-%d %H:%M:%S}</td><td>{html.escape(run.name)}</td>"
                        f"<td>{html.escape(suite.name)}</td><td><a href=\"{href}\">{html.escape(page.stem)}</a></td></tr>")
    body = "\n".join(rows) or '<tr><td colspan="4">No validation pages yet.</td></tr>'
    page = docs_dir / "runs.html"
    docs_dir.mkdir(parents=True, exist_ok=True)
    tmp = page.with_suffix(".tmp")
    tmp.write_text(f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>news-archive: every run's Data Docs</title></head>
<body style="font-family: system-ui, sans-serif; margin: 1.5rem">
<h1>Every run's Data Docs</h1><p><a href="index.html">Data Docs index</a> (the latest run)</p>
<table><thead><tr><th>validated (UTC)</th><th>run / batch</th><th>suite</th><th>page</th></tr></thead>
<tbody>
{body}
</tbody></table></body></html>
""")
    tmp.replace(page)
    return page
