"""The pre-load suite's rules on in-memory frames: Great Expectations, no database."""

from __future__ import annotations

import pytest

from news_archive import quality
from news_archive.parsing import parse_document

GOOD_BODY = " ".join(f"Sentence number {i} tells the council budget story in plain words." for i in range(12))


def _doc(title: str, body: str = GOOD_BODY, header: str = "") -> bytes:
    return f"{header}{title}\n\n{body}\n".encode()


def test_validation_flags_warnings_without_quarantine():
    articles = [(i, parse_document(_doc(f"Title number {i}", GOOD_BODY), min_body_words=5)) for i in range(3)]
    articles[1][1].parse_warnings.append("date: ambiguous date '01/02/2021'")
    outcome = quality.validate_frame(quality.batch_frame(articles), quality.pre_load_checks(50))
    assert outcome.quarantined_ids() == []
    assert [w["reason"] for w in outcome.verdicts[1].warnings] == ["parse_warnings"]
    assert outcome.verdicts[0].warnings == []


@pytest.mark.parametrize("words, expected", [(49, ["body_too_short"]), (50, [])])
def test_min_body_words_is_configurable(words, expected):
    article = parse_document(_doc("Title of it", "word " * 60), min_body_words=1)
    article.body = " ".join(["word"] * words)
    outcome = quality.validate_frame(quality.batch_frame([(1, article)]), quality.pre_load_checks(50))
    assert [f["reason"] for f in outcome.verdicts[1].critical] == expected
