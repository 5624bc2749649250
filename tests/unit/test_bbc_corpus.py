"""Optional: the parser over the BBC corpus in ../shared (never copied into the repository)."""

from __future__ import annotations

import pytest

from news_archive.parsing import Article, parse_document
from tests.conftest import CORPORA

BBC = CORPORA / "bbc"
pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(not BBC.is_dir(), reason="../shared/corpora/bbc is not present on this machine"),
]


def test_every_bbc_file_parses_with_its_first_line_as_title():
    files = sorted(BBC.glob("*/*.txt"))
    assert len(files) == 2225
    for path in files:
        raw = path.read_bytes()
        result = parse_document(raw, min_body_words=1)
        assert isinstance(result, Article), (path, result)
        first_line = raw.split(b"\n", 1)[0]
        expected = first_line.decode("utf-8") if result.encoding == "utf-8" else first_line.decode("latin-1")
        assert result.title == " ".join(expected.split()), path
        assert result.body.strip(), path


def test_the_latin1_file_is_decoded_as_latin1():
    result = parse_document((BBC / "sport" / "199.txt").read_bytes())
    assert result.encoding == "latin-1"
    assert "\ufffd" not in result.body
