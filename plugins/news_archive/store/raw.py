"""The raw archive: archive.raw_documents (every byte, once per sha256), archive.deliveries
(each file name that brought them) and archive.refused_files (files never archived).

Rows here are never updated or deleted: the archive is immutable.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg2.extras

from news_archive.store.db import statement
from news_archive.store.locks import take_lock

# Lookups by hash. The hashes are char(64): a text[] parameter would compare column::text,
# which no index serves (a scan of the whole table per batch); hence the ::bpchar[].
SHA256_LOOKUP = "SELECT sha256, id FROM archive.raw_documents WHERE sha256 = ANY(%s::bpchar[])"
ARCHIVE_CHUNK_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Archived:
    path: str
    raw_id: int
    sha256: str
    size: int
    new: bool  # first time these bytes were archived


def archive_files(conn, run_id: str, paths: Sequence[Path]) -> list[Archived]:
    """Archive each file's bytes (once per sha256) and record its delivery.

    Files are read and written in chunks of at most 64 MB (memory stays bounded whatever
    the files), three statements per chunk. Concurrent runs archiving the same bytes are
    safe: ON CONFLICT keeps one row and the other reads its id.
    """
    out: list[Archived] = []
    items: list[tuple] = []
    size = 0
    for path in paths:
        data = Path(path).read_bytes()
        items.append((str(path), Path(path).name, hashlib.sha256(data).hexdigest(), data))
        size += len(data)
        if size >= ARCHIVE_CHUNK_BYTES:
            out.extend(_archive_chunk(conn, run_id, items))
            items, size = [], 0
    if items:
        out.extend(_archive_chunk(conn, run_id, items))
    return out


def _archive_chunk(conn, run_id: str, items: list[tuple]) -> list[Archived]:
    with conn, conn.cursor() as cur:
        # Batches archiving in parallel may hold the same bytes in opposite orders: one lock
        # around the insert keeps their unique-index waits from deadlocking, and raw ids
        # follow the files' order (the order of ingestion within a batch).
        take_lock(cur, "archive")
        first: dict[str, tuple] = {}
        for item in items:
            first.setdefault(item[2], item)  # the same bytes twice in one batch: one raw document
        inserted = psycopg2.extras.execute_values(
            cur, statement("raw/insert_raw_documents"),
            [(sha, name, len(data), run_id, psycopg2.Binary(data)) for _, name, sha, data in first.values()],
            page_size=200, fetch=True,
        )
        new_ids = dict(inserted)
        ids = dict(new_ids)
        known = [sha for sha in first if sha not in new_ids]  # archived before: read their ids
        if known:
            cur.execute(SHA256_LOOKUP, (known,))
            ids.update(cur.fetchall())
        out: list[Archived] = []
        deliveries = []
        seen_new: set[str] = set()
        for path, name, sha, data in items:
            new = sha in new_ids and sha not in seen_new
            seen_new.add(sha)
            out.append(Archived(path, ids[sha], sha, len(data), new))
            deliveries.append((ids[sha], name, run_id, not new))
        psycopg2.extras.execute_values(
            cur, statement("raw/insert_deliveries"), sorted(deliveries, key=lambda d: (d[0], d[1])), page_size=1000,
        )
    return out


def record_refused(conn, run_id: str, refused: Iterable) -> None:
    """Files the inbox refused (inbox.Refused: name, reason, message), once per run and name."""
    rows = [(run_id, r.name, r.reason, r.message) for r in refused]
    if rows:
        with conn, conn.cursor() as cur:
            psycopg2.extras.execute_values(cur, statement("raw/insert_refused_files"), rows)


def raw_ids_by_sha256(conn, hashes: Sequence[str]) -> dict[str, int]:
    if not hashes:
        return {}
    with conn, conn.cursor() as cur:
        cur.execute(SHA256_LOOKUP, (list(hashes),))
        return dict(cur.fetchall())


def delivered_raw_ids(conn, run_id: str, file_names: Sequence[str]) -> dict[str, int]:
    """file name -> raw document id, for the files `run_id` archived (its deliveries)."""
    if not file_names:
        return {}
    with conn, conn.cursor() as cur:
        cur.execute("""SELECT file_name, raw_document_id FROM archive.deliveries
                       WHERE run_id = %s AND file_name = ANY(%s)""", (run_id, list(file_names)))
        return dict(cur.fetchall())


def unprocessed(conn, raw_ids: Iterable[int]) -> list[int]:
    """Raw documents with no outcome yet: no article, no quarantine, no content duplicate."""
    with conn, conn.cursor() as cur:
        cur.execute(statement("raw/unprocessed"), (list(raw_ids),))
        return [r[0] for r in cur.fetchall()]


def iter_raw(conn, raw_ids: Sequence[int], chunk: int = 500) -> Iterator[tuple[int, str, bytes]]:
    """(id, original name, bytes) for the given raw documents, fetched in chunks."""
    ids = list(raw_ids)
    with conn.cursor() as cur:
        for start in range(0, len(ids), chunk):
            cur.execute(
                "SELECT id, original_name, content FROM archive.raw_documents WHERE id = ANY(%s) ORDER BY id",
                (ids[start : start + chunk],),
            )
            for raw_id, name, content in cur.fetchall():
                yield raw_id, name, bytes(content)
    conn.commit()


def read_raw(conn, raw_id: int) -> bytes:
    with conn, conn.cursor() as cur:
        cur.execute("SELECT content FROM archive.raw_documents WHERE id = %s", (raw_id,))
        return bytes(cur.fetchone()[0])


def outcomes(conn, raw_ids: Iterable[int]) -> dict[int, str]:
    """raw id -> 'loaded' | 'duplicate' | 'quarantined' | 'pending'."""
    with conn, conn.cursor() as cur:
        cur.execute(statement("raw/outcomes"), (list(raw_ids),))
        return dict(cur.fetchall())
