"""Data Docs retention: every run's pages are kept NEWS_ARCHIVE_DATA_DOCS_KEEP_DAYS days."""

from __future__ import annotations

import datetime as dt

from news_archive import gx_docs


def test_retention_keeps_recent_runs():
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "validations" / "suite"
        now = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
        for days in (1, 89, 91, 400):
            at = now - dt.timedelta(days=days)
            folder = root / f"run-{days}" / at.strftime(gx_docs.RUN_TIME_FORMAT)
            folder.mkdir(parents=True)
            (folder / "p.html").write_text("x")
        assert gx_docs.prune_docs(tmp, 90, now=now) == 2
        assert sorted(p.name for p in root.iterdir()) == ["run-1", "run-89"]
        assert gx_docs.prune_docs(tmp, 0, now=now) == 0  # 0 keeps everything
