"""A parser rule change reaches archived documents without re-delivery."""

from __future__ import annotations

import json

from news_archive import pipeline
from news_archive.boilerplate import RULES_PATH
from news_archive.reparse import reparse
from tests.conftest import fetch

BODY = " ".join(f"Line {i} of the council budget story, told in plain words for readers." for i in range(10))


def test_reparse_updates_articles_in_place_after_a_rule_change(conn, dsn, settings, tmp_path, monkeypatch):
    doc = f"Council approves the budget\n\n{BODY}\n\nSponsored content: buy our newsletter today\n\n{BODY.replace('plain', 'clear')}\n"
    (settings.inbox / "story.txt").write_text(doc)
    (settings.inbox / "short.txt").write_text("Short story title\n\n" + "word " * 10)
    assert pipeline.run_once(conn, settings, "first")["status"] == "failed"  # 1 of 2 quarantined > 20%
    (article_id, version, body) = fetch(dsn, "SELECT id, parser_version, body FROM archive.articles")[0]
    assert "Sponsored content" in body

    # a new rule, and a lower minimum body length: both reach the archive through reparse
    rules = json.loads(RULES_PATH.read_text())
    rules["version"] += 1
    rules["rules"].append({"id": "sponsored", "scope": "line", "description": "sponsored lines",
                           "pattern": "sponsored content:[^\\n]*"})
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(rules))
    monkeypatch.setenv("NEWS_ARCHIVE_BOILERPLATE_RULES", str(path))
    monkeypatch.setenv("NEWS_ARCHIVE_MIN_BODY_WORDS", "5")
    from news_archive.config import Settings

    counts = reparse(conn, Settings.from_env())
    assert counts["articles_updated"] == 1
    assert counts["released_from_quarantine"] == 1
    rows = fetch(dsn, "SELECT id, parser_version, body, boilerplate_removed FROM archive.articles ORDER BY id")
    assert len(rows) == 2
    new_id, new_version, new_body, removed = rows[0]
    assert new_id == article_id  # updated in place
    assert new_version != version and new_version.endswith(f"rules.{rules['version']}")
    assert "Sponsored content" not in new_body
    # the full-text vector follows the new text
    assert fetch(dsn, """SELECT count(*) FROM archive.article_search WHERE article_id = %s
                         AND search @@ to_tsquery('english', 'newsletter')""", (article_id,)) == [(0,)]
    assert fetch(dsn, "SELECT count(*) FROM archive.article_search WHERE article_id = %s", (article_id,)) == [(1,)]
    assert {"rule": "sponsored", "text": "Sponsored content: buy our newsletter today"} in removed
    assert fetch(dsn, "SELECT count(*) FROM archive.quarantine")[0][0] == 0
    # idempotent: nothing is outdated any more
    again = reparse(conn, Settings.from_env())
    assert again.get("articles_updated", 0) == 0 and again["considered"] == 0
    # the changed article is re-linked by the next link step
    assert fetch(dsn, "SELECT linked_at IS NULL FROM archive.articles WHERE id = %s", (article_id,)) == [(True,)]
    pipeline.link_step(conn, "relink")
    assert fetch(dsn, "SELECT count(*) FROM archive.articles WHERE linked_at IS NULL")[0][0] == 0
