"""Version linking against the archive in Postgres: candidates, links, stories.

Linkers take one advisory lock for the duration of a chunk: two workers linking
at once run one after the other, so the second sees every key and link the
first committed (no lost and no duplicate links), and the result does not
depend on which worker ran first.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

import psycopg2.extras

from news_archive.linking import METHOD_VERSION, Fingerprint, aligned_diff, fingerprint, sentence_diff, verify

LINK_LOCK = 7_246_002
POSTING_CAP = 200  # keys shared by more articles than this are too common to be evidence
MAX_CANDIDATES = 40
MIN_SHARED_KEYS = 2


@dataclass
class ArticleRow:
    id: int
    title: str
    body: str
    body_hash: str
    published_at: object
    ingested_at: object
    story_id: int | None


def _rows(cur, ids: list[int]) -> dict[int, ArticleRow]:
    cur.execute(
        """SELECT id, title, body, body_hash, published_at, ingested_at, story_id
           FROM archive.articles WHERE id = ANY(%s)""",
        (ids,),
    )
    return {r[0]: ArticleRow(*r) for r in cur.fetchall()}


def _candidates(cur, article: ArticleRow, fp: Fingerprint) -> list[int]:
    counts: Counter[int] = Counter()
    cur.execute(
        "SELECT id FROM archive.articles WHERE body_hash = %s AND id <> %s AND linked_at IS NOT NULL",
        (article.body_hash, article.id),
    )
    for (other,) in cur.fetchall():
        counts[other] += 1000
    if fp.keys:
        cur.execute(
            """SELECT x.ids FROM unnest(%s::bigint[]) AS k(key)
               CROSS JOIN LATERAL (
                   SELECT array_agg(lk.article_id) AS ids FROM (
                       SELECT article_id FROM archive.link_keys WHERE key = k.key LIMIT %s) lk
               ) x WHERE x.ids IS NOT NULL""",
            (fp.keys, POSTING_CAP + 1),
        )
        for (ids,) in cur.fetchall():
            if len(ids) <= POSTING_CAP:
                counts.update(i for i in ids if i != article.id)
    return [i for i, n in counts.most_common(MAX_CANDIDATES) if n >= MIN_SHARED_KEYS]


def _direction(a: ArticleRow, b: ArticleRow, relation: str, short_is_a: bool) -> tuple[ArticleRow, ArticleRow]:
    """(parent, child): the fuller text for a condensed copy, else the earlier one."""
    if relation == "condensed":
        return (b, a) if short_is_a else (a, b)
    if a.published_at and b.published_at and a.published_at != b.published_at:
        return (a, b) if a.published_at < b.published_at else (b, a)
    return (a, b) if (a.ingested_at, a.id) <= (b.ingested_at, b.id) else (b, a)


def _assign_story(cur, article_id: int, linked_ids: list[int]) -> int:
    stories: set[int] = set()
    if linked_ids:
        cur.execute(
            "SELECT DISTINCT story_id FROM archive.articles WHERE id = ANY(%s) AND story_id IS NOT NULL",
            (linked_ids,),
        )
        stories = {r[0] for r in cur.fetchall()}
    if not stories:
        cur.execute("INSERT INTO archive.stories DEFAULT VALUES RETURNING id")
        story = cur.fetchone()[0]
    else:
        story = min(stories)
        others = sorted(stories - {story})
        if others:
            cur.execute("UPDATE archive.articles SET story_id = %s WHERE story_id = ANY(%s)", (story, others))
            cur.execute(
                "UPDATE archive.stories SET merged_into = %s, merged_at = now() WHERE id = ANY(%s)",
                (story, others),
            )
    cur.execute("UPDATE archive.articles SET story_id = %s WHERE id = %s", (story, article_id))
    return story


def link_pending(conn, run_id: str | None = None, *, chunk: int = 500) -> dict[str, int]:
    """Link every article not linked yet against the whole archive; returns counts."""
    totals = Counter()
    while True:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (LINK_LOCK,))
            cur.execute(
                "SELECT id FROM archive.articles WHERE linked_at IS NULL ORDER BY id LIMIT %s", (chunk,)
            )
            pending = [r[0] for r in cur.fetchall()]
            if not pending:
                break
            done = _link_chunk(cur, pending, run_id)
            totals.update(done)
    return dict(totals)


def _link_chunk(cur, pending: list[int], run_id: str | None) -> Counter:
    counts: Counter = Counter()
    rows = _rows(cur, pending)
    fps: dict[int, Fingerprint] = {}

    def fp_of(row: ArticleRow) -> Fingerprint:
        if row.id not in fps:
            fps[row.id] = fingerprint(row.title, row.body, row.body_hash)
        return fps[row.id]

    links = []
    for article_id in pending:
        article = rows[article_id]
        fp = fp_of(article)
        candidate_ids = _candidates(cur, article, fp)
        missing = [i for i in candidate_ids if i not in rows]
        if missing:
            rows.update(_rows(cur, missing))
        linked = []
        for other_id in candidate_ids:
            other = rows[other_id]
            verdict = verify(fp, fp_of(other))
            if not verdict.linked:
                continue
            parent, child = _direction(article, other, verdict.relation, verdict.short_is_a)
            parent_fp, child_fp = fp_of(parent), fp_of(child)
            steps = aligned_diff(parent_fp, child_fp)
            links.append((
                parent.id, child.id, verdict.relation, json.dumps(verdict.scores),
                json.dumps(sentence_diff(parent_fp, child_fp, steps)), json.dumps(steps),
                METHOD_VERSION, run_id,
            ))
            linked.append(other_id)
        if fp.keys:
            psycopg2.extras.execute_values(
                cur,
                "INSERT INTO archive.link_keys (key, article_id) VALUES %s ON CONFLICT DO NOTHING",
                [(k, article_id) for k in fp.keys],
            )
        # Articles of this chunk are linked in order: later ones see the keys of earlier ones.
        cur.execute(
            "UPDATE archive.articles SET linked_at = now(), link_method = %s WHERE id = %s",
            (METHOD_VERSION, article_id),
        )
        if links:
            psycopg2.extras.execute_values(
                cur,
                """INSERT INTO archive.version_links
                       (parent_article_id, child_article_id, relation, scores, diff_summary, aligned_diff,
                        method_version, run_id)
                   VALUES %s ON CONFLICT DO NOTHING""",
                links,
            )
            counts["links"] += cur.rowcount
            links = []
        _assign_story(cur, article_id, linked)
        counts["articles"] += 1
    return counts


def relink_all(conn, run_id: str | None = None) -> dict[str, int]:
    """Recompute every link and story with the current method (idempotent)."""
    with conn, conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (LINK_LOCK,))
        cur.execute("DELETE FROM archive.version_links")
        cur.execute("DELETE FROM archive.link_keys")
        cur.execute("UPDATE archive.articles SET linked_at = NULL, link_method = NULL, story_id = NULL")
        cur.execute("DELETE FROM archive.stories")
    return link_pending(conn, run_id)
