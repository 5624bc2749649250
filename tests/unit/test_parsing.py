"""The parser over the fixture corpus: every accepted form and every bad-input case."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from news_archive.parsing import Article, Rejection, parse_document, parser_version

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "parsing"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
GOOD = sorted(k for k, v in EXPECTED.items() if "reason" not in v)
BAD = sorted(k for k, v in EXPECTED.items() if "reason" in v and not k.startswith("_"))


@pytest.mark.parametrize("name", GOOD)
def test_fixture_parses_as_expected(name):
    want = EXPECTED[name]
    result = parse_document((FIXTURES / name).read_bytes())
    assert isinstance(result, Article), result
    assert result.source_format == want["format"]
    assert result.title == want["title"]
    assert result.body.startswith(want["body_start"])
    got_date = result.published_at.isoformat() if result.published_at else None
    assert got_date == want["date"]
    if want["date"]:
        assert result.published_precision == want["precision"]
    else:
        assert result.published_precision is None
    for key in ("source", "url", "author", "language", "encoding", "extra_headers"):
        if key in want:
            assert getattr(result, key) == want[key], key
    if "warning" in want:
        assert any(want["warning"] in w for w in result.parse_warnings), result.parse_warnings
    for text in want.get("body_excludes", []):
        assert text not in result.body, text
    if "removed_rules" in want:
        assert sorted(r["rule"] for r in result.boilerplate_removed) == sorted(want["removed_rules"])
    if "paragraphs" in want:
        assert result.body.count("\n\n") == want["paragraphs"] - 1
    assert "\r" not in result.body and "\x00" not in result.body and "\x00" not in result.title
    assert result.parser_version == parser_version()


@pytest.mark.parametrize("name", BAD)
def test_bad_input_is_rejected_with_its_reason(name):
    result = parse_document((FIXTURES / name).read_bytes())
    assert isinstance(result, Rejection), result
    assert result.reason == EXPECTED[name]["reason"]
    assert result.message  # readable, not just a code


def test_too_large_is_rejected_before_decoding():
    result = parse_document((FIXTURES / "plain.txt").read_bytes(), max_bytes=100)
    assert isinstance(result, Rejection) and result.reason == "too_large"
    assert "over the limit of 100 bytes" in result.message


def test_html_drops_scripts_styles_and_records_furniture():
    result = parse_document((FIXTURES / "article.html").read_bytes())
    # the caption sat inside <article>: removed from the body and recorded
    assert [r["rule"] for r in result.boilerplate_removed] == ["html_figcaption"]
    assert "<" not in result.body
    # navigation inside the content container is recorded too
    page = ("<html><body><article><h1>Council approves budget</h1><nav>Home | Local</nav>"
            + "<p>" + "word " * 60 + "</p></article></body></html>")
    result = parse_document(page.encode())
    assert [r["rule"] for r in result.boilerplate_removed] == ["html_nav"]
    assert "Home" not in result.body


def test_html_headers_title_and_paragraphs_come_from_the_first_tags_in_page_order():
    page = ('<html lang="en-GB"><head><title>Page title</title>'
            '<meta name="description" content="x"><meta name="author" content="  Ann Lee ">'
            '<meta property="article:published_time" content="2021-12-01T10:00:00Z">'
            '<meta name="author" content="Second Author"><meta property="og:url" content="https://example.org/a">'
            '</head><body><main><h1>Not this heading</h1></main>'
            '<article><header>By line <nav>Home</nav></header><h1>Council approves budget</h1>'
            '<p>First <b>bold</b> paragraph.</p><ul><li>A listed point</li></ul>'
            '<blockquote><p>Quoted inside.</p></blockquote><aside><p>Related story</p></aside>'
            '<h2>Sub heading</h2><p>' + "word " * 60 + '</p></article></body></html>')
    result = parse_document(page.encode())
    assert result.source_format == "html"
    assert result.title == "Council approves budget"  # the <article>'s own <h1>, not the first on the page
    assert result.author == "Ann Lee" and result.url == "https://example.org/a" and result.language == "en-GB"
    assert result.published_at.isoformat().startswith("2021-12-01")
    # (a block inside a block, the quote's <p>, is read once, with the block around it)
    assert result.body.split("\n\n")[:4] == ["First bold paragraph.", "A listed point", "Quoted inside.", "Sub heading"]
    # the header (with its nav inside it: gone with it) and the aside, recorded in page order
    assert [r["rule"] for r in result.boilerplate_removed] == ["html_header", "html_aside"]
    assert "Related story" not in result.body and "Home" not in result.body


def test_tabs_and_unicode_spaces_inside_a_line_fold_to_one_space():
    text = "Council\u00a0approves  budget\n\n" + "word\t\u3000word " * 30 + "\n  ends here\u2003 \nlast line"
    result = parse_document(text.encode())
    assert result.title == "Council approves budget"
    assert result.body.endswith("word word\nends here\nlast line")


def test_header_block_needs_a_known_key():
    # "Breaking: ..." looks like a header line but is a title
    text = "Breaking: Council approves budget\n\n" + "word " * 60
    result = parse_document(text.encode())
    assert result.source_format == "plain"
    assert result.title == "Breaking: Council approves budget"


def test_date_word_without_a_date_is_a_title():
    text = "Date night ideas for the holidays\n\n" + "word " * 60
    result = parse_document(text.encode())
    assert result.title == "Date night ideas for the holidays"
    assert result.published_at is None


def test_seed_001_inline_date_header(samples_dir=None):
    from tests.conftest import SAMPLES, SEED_000, SEED_001

    a = parse_document((SAMPLES / SEED_001).read_bytes())
    assert a.title == ("Russian diplomats who have been in the country for more than three years "
                       "have been ordered to leave by January 31.")
    assert a.published_at.date().isoformat() == "2021-12-01" and a.published_precision == "day"
    assert "date" not in a.title.lower() and not a.body.lower().startswith("date")
    assert [r["rule"] for r in a.boilerplate_removed] == ["condensed_version_notice"]
    b = parse_document((SAMPLES / SEED_000).read_bytes())
    assert b.title == "Russia Orders U.S. Diplomats in Country for Over 3 Years to Leave By January 31"
    assert b.published_at is None
    assert sorted(r["rule"] for r in b.boilerplate_removed) == ["more_reporting_pointer", "photo_credit_block"]
    assert "Getty Images" not in b.body and "see below" not in b.body


def test_nested_blocks_give_each_text_once_and_lose_none():
    page = ("<html><body><article><h1>Council approves budget</h1>"
            "<blockquote><p>We will build it.</p><p>It is funded.</p> said the mayor</blockquote>"
            "<ul><li>Roads<ul><li>Bridges</li></ul></li></ul>"
            "<p>" + "word " * 60 + "</p></article></body></html>")
    body = parse_document(page.encode()).body
    for text in ("We will build it.", "It is funded.", "said the mayor", "Roads", "Bridges"):
        assert body.count(text) == 1, text
    assert body.split("\n\n")[:2] == ["We will build it. It is funded. said the mayor", "Roads Bridges"]
