"""The documentation matches what the code builds."""

from __future__ import annotations

from tests.conftest import REPO


def test_the_analyst_docs_name_every_view():
    doc = (REPO / "docs" / "analysts.md").read_text()
    views = {p.split("VIEW analytics.")[1].split()[0]
             for p in (REPO / "sql" / "views" / "analytics.sql").read_text().split("\n") if p.startswith("CREATE OR REPLACE VIEW")}
    assert views == {"articles", "current_articles", "story_timeline", "version_links", "version_diffs",
                     "quarantine", "refused_files", "ingest_runs", "files"}
    for view in views:
        assert f"analytics.{view}" in doc, view
