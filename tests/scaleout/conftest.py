from __future__ import annotations

import pytest


@pytest.fixture
def metadata_db(databases) -> str:
    """Airflow's metadata database: a throw-away one, as a SQLAlchemy URL."""
    dsn = databases.create(migrate=False)
    # a SQLAlchemy URL of the same database; a Unix socket (the embedded server) goes in
    # the query, as libpq's host=, not in the URL's host
    from news_archive.store.db import sqlalchemy_url

    return sqlalchemy_url(dsn)
