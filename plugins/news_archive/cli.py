"""`news-archive`: every pipeline step from the command line, without Airflow.

    news-archive migrate            apply migrations (idempotent)
    news-archive ingest             one full run over the inbox
    news-archive reparse            re-parse archived raw documents with the current parser
    news-archive relink             recompute every version link and story
    news-archive show               what the archive holds: articles and version links
    news-archive devdb              start (or reuse) the embedded PostgreSQL, print its URI
    news-archive airflow-conn       the database as an AIRFLOW_CONN_NEWS_ARCHIVE value

The database is `--dsn`, else `NEWS_ARCHIVE_DSN`, else the Airflow connection `news_archive`
(`AIRFLOW_CONN_NEWS_ARCHIVE`, or one Airflow keeps), all through NewsArchiveHook.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import logging
import sys

from news_archive import config, store


def _hook(args):
    from news_archive.hooks import NewsArchiveHook

    return NewsArchiveHook.from_env(args.dsn)


@contextlib.contextmanager
def _connection(args, hook=None):
    """The archive, through NewsArchiveHook (`hook`, else one from `args`); a clear exit when
    none is configured."""
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        with (hook or _hook(args)).connection() as conn:
            yield conn
    except AirflowNotFoundException:
        sys.exit("no database configured: pass --dsn, or set NEWS_ARCHIVE_DSN or AIRFLOW_CONN_NEWS_ARCHIVE")


def cmd_migrate(args) -> None:
    with _connection(args) as conn:
        applied = store.schema.migrate(conn)
    print(f"migrations applied: {', '.join(applied) if applied else 'none (up to date)'}")


def cmd_ingest(args) -> None:
    from news_archive.pipeline import run_once

    run_id = args.run_id or "cli__" + dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    hook = _hook(args)
    with _connection(args, hook) as conn:
        result = run_once(conn, config.Settings.from_env(), run_id, database_url=hook.sqlalchemy_url())
    print(json.dumps({"run_id": run_id, **result}, indent=2))
    if result["status"] != "success":
        sys.exit(1)


def cmd_reparse(args) -> None:
    from news_archive.reparse import reparse

    with _connection(args) as conn:
        counts = reparse(conn, config.Settings.from_env(), only_outdated=not args.all)
    print(json.dumps(counts, indent=2))


def cmd_relink(args) -> None:
    with _connection(args) as conn:
        store.schema.check_schema(conn)
        print(json.dumps(store.links.relink_all(conn), indent=2))


def cmd_show(args) -> None:
    """Read from the analytics views, as an analyst would."""
    with _connection(args) as conn, conn, conn.cursor() as cur:
        cur.execute("SELECT article_id, file_name, title, published_at::date, story_id "
                    "FROM analytics.articles ORDER BY article_id")
        articles = cur.fetchall()
        cur.execute(
            """SELECT l.parent_article_id, l.child_article_id, l.relation, l.scores->>'coverage',
                      p.file_name, c.file_name
               FROM analytics.version_links l
               JOIN analytics.articles p ON p.article_id = l.parent_article_id
               JOIN analytics.articles c ON c.article_id = l.child_article_id
               ORDER BY l.link_id"""
        )
        links = cur.fetchall()
        cur.execute("SELECT count(*) FROM analytics.quarantine")
        quarantined = cur.fetchone()[0]
    print(f"articles ({len(articles)}):")
    for aid, name, title, published, story in articles:
        print(f"  #{aid} [{name}] story {story}")
        print(f"      title: {title}")
        print(f"      published: {published if published else 'NULL (no date in the document)'}")
    print(f"version links ({len(links)}):")
    for parent, child, relation, coverage, pname, cname in links:
        print(f"  #{parent} [{pname}] -> #{child} [{cname}]: {relation} (sentence coverage {coverage})")
    print(f"quarantined documents: {quarantined}")


def cmd_airflow_conn(args) -> None:
    dsn = args.dsn or config.database_url()
    if not dsn:
        sys.exit("no database configured: pass --dsn, or set NEWS_ARCHIVE_DSN or AIRFLOW_CONN_NEWS_ARCHIVE")
    print(config.airflow_conn_json(dsn))


def cmd_devdb(args) -> None:
    from news_archive.devdb import ensure_embedded

    print(ensure_embedded(args.pgdata))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="news-archive", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsn", help="libpq URI of the archive database")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate").set_defaults(func=cmd_migrate)
    p = sub.add_parser("ingest")
    p.add_argument("--run-id")
    p.set_defaults(func=cmd_ingest)
    p = sub.add_parser("reparse")
    p.add_argument("--all", action="store_true", help="re-parse every document, not only outdated ones")
    p.set_defaults(func=cmd_reparse)
    sub.add_parser("relink").set_defaults(func=cmd_relink)
    sub.add_parser("show").set_defaults(func=cmd_show)
    sub.add_parser("airflow-conn", help="print the database as an AIRFLOW_CONN_NEWS_ARCHIVE value (JSON)") \
        .set_defaults(func=cmd_airflow_conn)
    p = sub.add_parser("devdb")
    p.add_argument("--pgdata", default=str(config.REPO_ROOT / ".devdb" / "pgdata"))
    p.set_defaults(func=cmd_devdb)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args.func(args)


if __name__ == "__main__":
    main()
