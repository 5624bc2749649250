"""Publication dates: parse what feeds write, never guess what they did not say.

`parse_date` returns a UTC timestamp and its precision ("day" or "time"), or
None with a warning. Ambiguous numeric dates (01/02/2021) and impossible ones
(2021-13-45) are refused, not guessed; nothing here reads the clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_tz

MONTHS = {
    name: i
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
_WEEKDAY = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s+)?"

ISO_RE = re.compile(
    r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"
    r"(?:[T ](?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<f>\d{1,6})\d*)?)?"
    r"\s*(?P<tz>Z|UTC|GMT|[+-]\d{2}:?\d{2})?)?",
    re.IGNORECASE,
)
DMY_TEXT_RE = re.compile(rf"{_WEEKDAY}(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<mon>{_MONTH_RE})\.?,?\s+(?P<y>\d{{4}})", re.I)
MDY_TEXT_RE = re.compile(rf"{_WEEKDAY}(?P<mon>{_MONTH_RE})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>\d{{4}})", re.I)
ORACLE_RE = re.compile(rf"(?P<d>\d{{1,2}})-(?P<mon>{_MONTH_RE})-(?P<y>\d{{4}})", re.I)
SLASH_RE = re.compile(r"(?P<a>\d{1,2})[/.](?P<b>\d{1,2})[/.](?P<y>\d{4})")
RFC2822_RE = re.compile(
    rf"{_WEEKDAY}\d{{1,2}}\s+(?:{_MONTH_RE})\s+\d{{4}}\s+\d{{1,2}}:\d{{2}}(?::\d{{2}})?\s*(?:[+-]\d{{4}}|[A-Z]{{1,5}})?",
    re.I,
)

# The token a header value may start with: used by the parser to find where an
# inline `date 2021-12-01 Title ...` header ends and the title begins.
DATE_TOKEN_RE = re.compile(
    "|".join(
        "(?:" + re.sub(r"\(\?P<\w+>", "(?:", p.pattern) + ")"
        for p in (RFC2822_RE, ISO_RE, ORACLE_RE, DMY_TEXT_RE, MDY_TEXT_RE, SLASH_RE)
    ),
    re.I,
)


@dataclass(frozen=True)
class ParsedDate:
    value: datetime | None
    precision: str | None  # "day" | "time" | None
    warning: str | None = None


def _tz(spec: str | None) -> timezone | None:
    if not spec:
        return None
    spec = spec.upper()
    if spec in ("Z", "UTC", "GMT"):
        return UTC
    sign = -1 if spec[0] == "-" else 1
    digits = spec[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4])))


def _day(y: int, m: int, d: int, raw: str) -> ParsedDate:
    try:
        return ParsedDate(datetime(y, m, d, tzinfo=UTC), "day")
    except ValueError:
        return ParsedDate(None, None, f"impossible date {raw!r}")


def parse_date(text: str) -> ParsedDate:
    """Parse one date value (the whole string, trimmed)."""
    raw = " ".join(text.split())
    if not raw:
        return ParsedDate(None, None, "empty date")
    if m := ISO_RE.fullmatch(raw):
        y, mo, d = int(m["y"]), int(m["m"]), int(m["d"])
        if m["H"] is None:
            return _day(y, mo, d, raw)
        try:
            tz = _tz(m["tz"])
            value = datetime(
                y, mo, d, int(m["H"]), int(m["M"]), int(m["S"] or 0),
                int((m["f"] or "0").ljust(6, "0")), tzinfo=tz or UTC,
            )
        except ValueError:
            return ParsedDate(None, None, f"impossible date {raw!r}")
        warning = None if tz else f"no time zone in {raw!r}: read as UTC"
        return ParsedDate(value.astimezone(UTC), "time", warning)
    if RFC2822_RE.fullmatch(raw):
        parts = parsedate_tz(raw)
        if parts is None:
            return ParsedDate(None, None, f"unreadable date {raw!r}")
        y, mo, d, hh, mi, ss = parts[:6]
        offset = parts[9]
        try:
            value = datetime(y, mo, d, hh, mi, ss, tzinfo=timezone(timedelta(seconds=offset or 0)))
        except ValueError:
            return ParsedDate(None, None, f"impossible date {raw!r}")
        warning = None if offset is not None else f"no time zone in {raw!r}: read as UTC"
        return ParsedDate(value.astimezone(UTC), "time", warning)
    for pattern in (DMY_TEXT_RE, MDY_TEXT_RE, ORACLE_RE):
        if m := pattern.fullmatch(raw):
            return _day(int(m["y"]), MONTHS[m["mon"].lower().rstrip(".")], int(m["d"]), raw)
    if m := SLASH_RE.fullmatch(raw):
        a, b, y = int(m["a"]), int(m["b"]), int(m["y"])
        if a > 12 >= b:  # 13/02/2021: only day-first reads
            return _day(y, b, a, raw)
        if b > 12 >= a:  # 02/13/2021: only month-first reads
            return _day(y, a, b, raw)
        if a == b:
            return _day(y, a, b, raw)
        if a > 12 and b > 12:
            return ParsedDate(None, None, f"impossible date {raw!r}")
        return ParsedDate(None, None, f"ambiguous date {raw!r}: day and month could be swapped")
    return ParsedDate(None, None, f"unreadable date {raw!r}")


def split_leading_date(text: str) -> tuple[str, str] | None:
    """Split `2021-12-01 Title words` into (`2021-12-01`, `Title words`).

    Returns None when the text does not start with something shaped like a date.
    """
    m = DATE_TOKEN_RE.match(text)
    if not m:
        return None
    rest = text[m.end() :]
    if rest and not rest[0].isspace():
        return None  # "2021-12-01abc" is not a date followed by a title
    return m.group(0), rest.strip()
