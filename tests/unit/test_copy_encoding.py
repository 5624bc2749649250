"""The load's COPY text: the compiled encoder (news_archive._speedups.csv_lines) writes the
very bytes the Python one (store.db.csv_line) does, for any value a row may hold."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from news_archive import store
from tests.conftest import built_speedups

_VALUE = st.one_of(st.none(), st.text(), st.integers(), st.floats(allow_nan=False), st.booleans(),
                   st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.lists(_VALUE, max_size=6).map(tuple), max_size=5))
def test_the_compiled_csv_is_the_python_csv_in_utf8(rows):
    expected = "".join(store.db.csv_line(row) for row in rows).encode("utf-8")
    assert built_speedups().csv_lines(rows, store.db.csv_field) == expected


def test_the_compiled_csv_refuses_what_utf8_cannot_hold_and_rows_that_are_not_rows():
    """A lone surrogate has no UTF-8 form: the same error the Python encoder's text gets from
    psycopg2, not a mangled row."""
    with pytest.raises(UnicodeEncodeError):
        built_speedups().csv_lines([("ok", "\ud800")], store.db.csv_field)
    with pytest.raises(TypeError, match="each row must be a sequence"):
        built_speedups().csv_lines([1], store.db.csv_field)
    with pytest.raises(TypeError, match="not str"):
        built_speedups().csv_lines([(1.5,)], lambda value: b"1.5")
