"""Invisible and bidirectional format characters (Unicode Cf) never reach a title or body."""

from __future__ import annotations

import unicodedata

import pytest

from news_archive.parsing import Article, parse_document

BODY = "The council approved the budget on Tuesday after a long debate about the roads and the library."


@pytest.mark.parametrize("title, expected", [
    ("Budget\u200b vote \u202eoverride\u202c result", "Budget vote override result"),
    ("\u2066Council\u2069 passes \u200dbudget\u200c", "Council passes budget"),
    ("Soft\u00adhyphen and word\u2060joiner", "Softhyphen and wordjoiner"),
])
def test_format_characters_are_removed_from_titles_and_bodies(title, expected):
    body = BODY.replace("council", "coun\u200bcil") + " \u202eevil\u202c"
    raw = f"{title}\n\n{body}\n".encode()
    article = parse_document(raw, min_body_words=5)
    assert isinstance(article, Article)
    assert article.title == expected
    assert not any(unicodedata.category(c) == "Cf" for c in article.title + article.body)
    assert "council" in article.body
    assert any("format characters" in w for w in article.parse_warnings)
    assert "\u202e".encode() in raw  # the raw bytes (archived as they came) keep them


def test_text_without_format_characters_has_no_warning():
    article = parse_document(f"Budget vote\n\n{BODY}\n".encode(), min_body_words=5)
    assert article.parse_warnings == []
