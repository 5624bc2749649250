"""Dumps with no title line: the first sentence becomes the title, flagged, never refused."""

from __future__ import annotations

from news_archive.parsing import Article, derive_title, parse_document

PARAGRAPH = ("The city council voted on Tuesday night to close two of its three public swimming pools this "
             "summer, saying repairs would cost too much. Residents who packed the meeting said the pools were "
             "the only place many children could learn to swim.")


def test_one_paragraph_gets_its_first_sentence_as_title():
    article = parse_document(PARAGRAPH.encode(), min_body_words=15)
    assert isinstance(article, Article)
    assert article.title_derived
    assert article.title == ("The city council voted on Tuesday night to close two of its three public swimming "
                             "pools this summer, saying repairs would cost too much.")
    assert article.body == PARAGRAPH  # the sentence stays in the body


def test_a_first_line_longer_than_any_title_is_a_paragraph():
    long_line = " ".join(["The council met again on Wednesday to hear from residents about the pools."] * 5)
    article = parse_document(f"{long_line}\n\n{PARAGRAPH}\n".encode(), min_body_words=15)
    assert isinstance(article, Article) and article.title_derived
    assert article.title == "The council met again on Wednesday to hear from residents about the pools."
    assert article.body.startswith(long_line)


def test_a_punctuation_title_line_names_nothing():
    article = parse_document(f",\n\n{PARAGRAPH}\n".encode(), min_body_words=15)
    assert isinstance(article, Article) and article.title_derived
    assert article.title.startswith("The city council voted")


def test_a_real_title_line_is_kept():
    article = parse_document(f"Council shuts two pools\n\n{PARAGRAPH}\n".encode(), min_body_words=15)
    assert article.title == "Council shuts two pools" and not article.title_derived


def test_derived_titles_are_cut_at_a_word_within_300_characters():
    words = "word " * 200
    title = derive_title(words)
    assert len(title) <= 300 and not title.endswith(" ") and title.split() == ["word"] * len(title.split())
    assert derive_title("The U.S. economy grew 3.5 percent, officials said. More follows.") == (
        "The U.S. economy grew 3.5 percent, officials said.")
