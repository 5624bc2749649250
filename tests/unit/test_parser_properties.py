"""Property: the parser never raises, and always returns an article or a reason."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from news_archive.parsing import REASONS, Article, Rejection, parse_document

KNOWN_REASONS = set(REASONS) | {"unparseable"}

text_like = st.one_of(
    st.binary(max_size=4000),
    st.text(max_size=2000).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.builds(
        lambda head, title, body, enc: (head + title + "\n\n" + body).encode(enc, "replace"),
        st.sampled_from(["", " date 2021-12-01 ", "Date: 01/02/2021\n", "<html><body><h1>", "title: x\nurl y\n"]),
        st.text(min_size=0, max_size=200),
        st.text(min_size=0, max_size=2000),
        st.sampled_from(["utf-8", "latin-1", "cp1252", "utf-16"]),
    ),
)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text_like)
def test_parser_never_raises(raw: bytes):
    result = parse_document(raw, min_body_words=3)
    if isinstance(result, Article):
        assert result.title and result.title == " ".join(result.title.split())
        assert "\x00" not in result.title + result.body
        assert "\r" not in result.body
        assert result.word_count >= 3
    else:
        assert isinstance(result, Rejection)
        assert result.reason in KNOWN_REASONS and result.message


_NOTICE = "This is a condensed version of the information."
paragraph_like = st.lists(st.sampled_from([
    _NOTICE, "this is a shortened version of the story", "Officials met on Monday.", "He said", '"Yes."', "“No!”",
    "Why?", " ", "  ", "\n", "\u00a0", "\t", ".", "’", "U.S.", "3.5", "word",
]), max_size=14).map("".join)


@settings(max_examples=1000, deadline=None)
@given(paragraph_like)
def test_boilerplate_removal_loses_no_text(para):
    """What the rules take out of a paragraph is recorded: kept text and removed text hold
    every word the paragraph held (a notice ending a paragraph's first line no longer took
    the lines after it)."""
    from news_archive.boilerplate import strip_boilerplate

    kept, removed = strip_boilerplate([para])
    assert sorted(" ".join(kept + [r["text"] for r in removed]).split()) == sorted(para.split())
