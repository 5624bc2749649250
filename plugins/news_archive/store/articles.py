"""Cleaned articles and what is held back: archive.articles (its parsed columns),
archive.content_duplicates, archive.quarantine and archive.article_search.

The link columns of archive.articles (story_id, linked_at, link_method) belong to
store.links.
"""

from __future__ import annotations

import json
import operator
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import psycopg2.extras

from news_archive.store.db import copy_rows, statement
from news_archive.store.locks import take_lock

CONTENT_HASH_LOOKUP = ("SELECT content_hash, id, raw_document_id FROM archive.articles "
                       "WHERE content_hash = ANY(%s::bpchar[])")  # (bpchar[]: see raw.SHA256_LOOKUP)
PAGE_SIZE = 1000  # rows per INSERT ... VALUES statement (execute_values' default of 100 is 10x the round trips)


class ArticleRecord(NamedTuple):
    """One archive.articles row as the loader writes it (JSON columns already serialized)."""

    raw_document_id: int
    title: str
    body: str
    published_at: str | None
    published_precision: str | None
    source: str | None
    url: str | None
    author: str | None
    language: str | None
    extra_headers: str
    source_format: str
    encoding: str | None
    word_count: int
    content_hash: str
    body_hash: str
    parser_version: str
    parse_warnings: str
    boilerplate_removed: str
    quality_warnings: str
    run_id: str


ARTICLE_COLUMNS = ArticleRecord._fields


@dataclass
class Quarantined:
    raw_id: int
    stage: str
    reason_codes: list[str]
    message: str
    failed_expectations: list[dict]
    parser_version: str | None


def article_record(raw_id: int, article, quality_warnings: list[dict], run_id: str) -> ArticleRecord:
    """A parsed article (parsing.Article) and its quality warnings as the row to load."""
    return ArticleRecord(
        raw_document_id=raw_id, title=article.title, body=article.body,
        published_at=article.published_at.isoformat() if article.published_at else None,
        published_precision=article.published_precision, source=article.source, url=article.url,
        author=article.author, language=article.language,
        extra_headers=json.dumps(article.extra_headers, ensure_ascii=False),
        source_format=article.source_format, encoding=article.encoding, word_count=article.word_count,
        content_hash=article.content_hash, body_hash=article.body_hash, parser_version=article.parser_version,
        parse_warnings=json.dumps(article.parse_warnings, ensure_ascii=False),
        boilerplate_removed=json.dumps(article.boilerplate_removed, ensure_ascii=False),
        quality_warnings=json.dumps(quality_warnings, ensure_ascii=False), run_id=run_id,
    )


def load_batch(conn, run_id: str, rows: Sequence[ArticleRecord], quarantined: Sequence[Quarantined],
               *, also: Callable | None = None) -> dict[str, list[int]]:
    """Insert articles and quarantine rows in one transaction.

    An article whose content hash is already archived under another raw document is
    recorded as a content duplicate of that article instead. `also(cursor)`, when given,
    writes in the same transaction (the batch's validation results). Returns the ids touched.
    """
    rows = sorted(rows, key=operator.attrgetter("raw_document_id"))  # article ids follow raw document order (ingestion)
    with conn, conn.cursor() as cur:
        # One loader at a time inserts articles: batches loading in parallel may hold the same
        # content in opposite orders, and with the lock the dedup below cannot race. The lock
        # is held from here to commit (a fraction of a second per batch).
        waited = time.perf_counter()
        take_lock(cur, "load")
        waited = time.perf_counter() - waited
        cur.execute(CONTENT_HASH_LOOKUP, (sorted({r.content_hash for r in rows}),))
        existing = {h: (aid, raw) for h, aid, raw in cur.fetchall()}
        fresh: list[ArticleRecord] = []
        first_of: dict[str, int] = {}  # content hash -> raw id of its first copy in this batch
        duplicate_of: list[tuple[int, str]] = []  # (raw id, content hash) stored once already
        for row in rows:
            raw_id, content_hash = row.raw_document_id, row.content_hash
            if content_hash in existing:
                if existing[content_hash][1] != raw_id:  # (a retried batch finds its own rows)
                    duplicate_of.append((raw_id, content_hash))
            elif content_hash in first_of:
                duplicate_of.append((raw_id, content_hash))
            else:
                first_of[content_hash] = raw_id
                fresh.append(row)
        inserted: list[int] = []
        if fresh:
            # Ids drawn up front (in raw document order) and written by the COPY, so nothing
            # has to be read back; straight into the table: no staging copy, no INSERT ... SELECT.
            # (the sequence's name found once, in an init plan: in the select list it is
            # looked up again for every row, 23 ms against 2 ms for 5,000 ids)
            cur.execute("SELECT nextval((SELECT pg_get_serial_sequence('archive.articles', 'id'))) AS id "
                        "FROM generate_series(1, %s) ORDER BY id", (len(fresh),))
            inserted = [r[0] for r in cur.fetchall()]
            copy_rows(cur, "archive.articles", ("id", *ARTICLE_COLUMNS),
                      ((aid, *row) for aid, row in zip(inserted, fresh, strict=True)))
            existing.update({row.content_hash: (aid, row.raw_document_id)
                             for aid, row in zip(inserted, fresh, strict=True)})
        duplicates: list[int] = []
        if duplicate_of:
            cur.execute(statement("articles/insert_content_duplicates"), {
                "run_id": run_id, "raw_document_ids": [raw_id for raw_id, _ in duplicate_of],
                "article_ids": [existing[h][0] for _, h in duplicate_of]})
            duplicates = [r[0] for r in cur.fetchall()]
        if quarantined:
            psycopg2.extras.execute_values(
                cur, statement("articles/insert_quarantine"),
                [
                    (q.raw_id, q.stage, q.reason_codes, q.message, json.dumps(q.failed_expectations, default=str),
                     q.parser_version, run_id)
                    for q in quarantined
                ],
                page_size=PAGE_SIZE,
            )
        if also is not None:
            also(cur)
    return {"inserted": inserted, "content_duplicates": duplicates, "lock_wait_seconds": waited}


def index_search(conn, article_ids: list[int] | None = None) -> int:
    """Full-text vectors for the articles (all, or `article_ids`) that have none yet; idempotent.

    Returns how many were indexed. The loading task indexes its own articles; the link
    task calls it without ids to catch any a failed task left out.
    """
    if article_ids is not None and not article_ids:
        return 0
    with conn, conn.cursor() as cur:
        cur.execute(statement("articles/index_search"), {"ids": article_ids})
        return cur.rowcount


# --------------------------------------------------------------------------- re-parsing in place
def outdated_raw_ids(conn, parser_version: str, *, only_outdated: bool = True) -> list[int]:
    """Raw documents whose article or quarantine row another parser version made (or all)."""
    with conn, conn.cursor() as cur:
        cur.execute(statement("articles/outdated_raw_ids"), {"only_outdated": only_outdated,
                                                             "version": parser_version})
        return [r[0] for r in cur.fetchall()]


def existing_raw_ids(cur, raw_ids: Sequence[int]) -> set[int]:
    cur.execute("SELECT raw_document_id FROM archive.articles WHERE raw_document_id = ANY(%s)", (list(raw_ids),))
    return {r[0] for r in cur.fetchall()}


def update_reparsed(cur, row: ArticleRecord) -> tuple[int, bool] | None:
    """Rewrite an article from a new parse, in place: (article id, whether its text changed),
    or None when the parse is the same as before. A changed text drops its search vector."""
    cur.execute(statement("articles/update_reparsed"), row._asdict())
    hit = cur.fetchone()
    if hit and hit[1]:
        cur.execute("DELETE FROM archive.article_search WHERE article_id = %s", (hit[0],))
    return (hit[0], hit[1]) if hit else None


def release_from_quarantine(cur, raw_ids: Sequence[int]) -> int:
    cur.execute("DELETE FROM archive.quarantine WHERE raw_document_id = ANY(%s)", (list(raw_ids),))
    return cur.rowcount


def remove_articles_of(cur, raw_ids: Sequence[int]) -> int:
    """Articles whose raw documents a new parse refuses (they are quarantined instead)."""
    cur.execute("DELETE FROM archive.articles WHERE raw_document_id = ANY(%s) RETURNING id", (list(raw_ids),))
    return cur.rowcount
