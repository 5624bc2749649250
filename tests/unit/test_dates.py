from __future__ import annotations

import pytest

from news_archive.dates import parse_date, split_leading_date


@pytest.mark.parametrize(
    "text, iso, precision",
    [
        ("2021-12-01", "2021-12-01T00:00:00+00:00", "day"),
        ("2021-12-01T10:30:00Z", "2021-12-01T10:30:00+00:00", "time"),
        ("2021-12-01T10:30:00+02:00", "2021-12-01T08:30:00+00:00", "time"),
        ("2021-12-01 10:30", "2021-12-01T10:30:00+00:00", "time"),
        ("2021-12-01T10:30:00.123456-05:00", "2021-12-01T15:30:00.123456+00:00", "time"),
        ("1 December 2021", "2021-12-01T00:00:00+00:00", "day"),
        ("December 1, 2021", "2021-12-01T00:00:00+00:00", "day"),
        ("Dec. 1, 2021", "2021-12-01T00:00:00+00:00", "day"),
        ("Wednesday, 1st December 2021", "2021-12-01T00:00:00+00:00", "day"),
        ("01-DEC-1987", "1987-12-01T00:00:00+00:00", "day"),
        ("Wed, 01 Dec 2021 10:30:00 -0500", "2021-12-01T15:30:00+00:00", "time"),
        ("Wed, 01 Dec 2021 10:30:00 GMT", "2021-12-01T10:30:00+00:00", "time"),
        ("13/02/2021", "2021-02-13T00:00:00+00:00", "day"),
        ("02/13/2021", "2021-02-13T00:00:00+00:00", "day"),
    ],
)
def test_formats(text, iso, precision):
    parsed = parse_date(text)
    assert parsed.value is not None, parsed.warning
    assert parsed.value.isoformat() == iso
    assert parsed.precision == precision


@pytest.mark.parametrize(
    "text, warning",
    [
        ("01/02/2021", "ambiguous"),
        ("2021-13-45", "impossible"),
        ("2021-02-30", "impossible"),
        ("31-FEB-2021", "impossible"),
        ("yesterday", "unreadable"),
        ("", "empty"),
    ],
)
def test_unreadable_dates_are_null_with_a_warning(text, warning):
    parsed = parse_date(text)
    assert parsed.value is None and parsed.precision is None
    assert warning in parsed.warning


def test_naive_datetime_is_read_as_utc_with_a_warning():
    parsed = parse_date("2021-12-01T10:30:00")
    assert parsed.value.isoformat() == "2021-12-01T10:30:00+00:00"
    assert "no time zone" in parsed.warning


def test_split_leading_date():
    assert split_leading_date("2021-12-01 Russian diplomats leave") == ("2021-12-01", "Russian diplomats leave")
    assert split_leading_date("1 December 2021 Title") == ("1 December 2021", "Title")
    assert split_leading_date("night ideas") is None
    assert split_leading_date("2021-12-01abc") is None
