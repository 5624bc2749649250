"""What the data layer's modules share: connections, named SQL statements, COPY."""

from __future__ import annotations

import functools
import itertools
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import psycopg2
import psycopg2.extensions

from news_archive import compiled
from news_archive.config import REPO_ROOT

SQL_DIR = Path(os.environ.get("NEWS_ARCHIVE_SQL_DIR", REPO_ROOT / "sql"))
APPLICATION_NAME = "news_archive"


def connect(dsn: str) -> psycopg2.extensions.connection:
    return psycopg2.connect(dsn, application_name=APPLICATION_NAME)


def connect_params(params: dict) -> psycopg2.extensions.connection:
    return psycopg2.connect(application_name=APPLICATION_NAME, **params)


def dsn_params(dsn: str) -> dict:
    return psycopg2.extensions.parse_dsn(dsn)


def sqlalchemy_url(database: str | dict) -> str:
    """A libpq URI or parameters (host, port, user, password, dbname) as a SQLAlchemy URL (for GX)."""
    from sqlalchemy.engine import URL

    params = dsn_params(database) if isinstance(database, str) else database
    host = params.get("host") or None
    query = {}
    if host and host.startswith("/"):  # a Unix socket folder (the embedded server)
        # GX's data source insists on a URL host; libpq's host= in the query wins over it
        query["host"], host = host, "localhost"
    return URL.create(
        "postgresql+psycopg2", username=params.get("user") or None, password=params.get("password") or None,
        host=host, port=int(params["port"]) if params.get("port") else None, database=params.get("dbname"),
        query=query,
    ).render_as_string(hide_password=False)


@functools.cache
def statement(name: str) -> str:
    """The SQL statement kept in sql/statements/<name>.sql (read once per process).

    Statements a DBA or an analyst would want to read live there, one per file, with
    psycopg2 placeholders (%s, %(name)s); short lookups stay next to their code.
    """
    path = SQL_DIR / "statements" / f"{name}.sql"
    return path.read_text(encoding="utf-8")


def csv_field(value) -> str:
    if value is None:
        return ""  # unquoted empty: NULL in COPY's CSV format
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return '"' + str(value).replace('"', '""') + '"'  # quoted: always data, even "", "\\N" or "\\."


def csv_line(row: Sequence) -> str:
    """One row as a COPY CSV line (csv_field for each value; text, the common case, inline)."""
    return ",".join([
        "" if v is None else '"' + v.replace('"', '""') + '"' if v.__class__ is str else csv_field(v) for v in row
    ]) + "\n"


class _CsvStream:
    """Rows read as CSV text on demand: COPY sends a chunk while the next is encoded, and
    no copy of the whole batch is built first.

    With news_archive._speedups (news_archive.compiled) a chunk is `FAST_ROWS` rows encoded
    at once, straight to UTF-8 bytes (the same text as csv_line's): 0.03 s instead of
    0.07-0.08 s for make bench's 13,859 articles (bench/load_alone.py). `utf8` False (a connection in another client encoding) keeps the text
    form, which psycopg2 encodes to the connection's encoding."""

    FAST_ROWS = 64

    def __init__(self, rows: Iterable[Sequence], *, utf8: bool = True):
        self._rows = iter(rows)
        self._fast = _FAST if utf8 else None

    def read(self, size: int = -1) -> str | bytes:
        if self._fast is not None:
            return self._fast.csv_lines(list(itertools.islice(self._rows, self.FAST_ROWS)), csv_field)
        lines: list[str] = []
        length = 0
        for row in self._rows:
            line = csv_line(row)
            lines.append(line)
            length += len(line)
            if 0 <= size <= length:
                break
        return "".join(lines)


COPY_CHUNK = 1 << 18  # characters per read: a few dozen articles
_FAST = compiled.load()


def copy_rows(cur, table: str, columns: Sequence[str], rows: Iterable[tuple]) -> None:
    """COPY rows in CSV form; every text value quoted, so tabs, backslashes, a lone `\\.`
    and the text `\\N` are plain data, and only a real None is NULL."""
    utf8 = cur.connection.encoding == "UTF8"
    cur.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)",
                    _CsvStream(rows, utf8=utf8), size=COPY_CHUNK)
