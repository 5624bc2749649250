"""Airflow plugin: the archive inside the Airflow UI.

* /news-archive/dashboard/: archive totals, recent runs, quarantine reasons and recent
  version links (news_archive.dashboard), under Browse > "Archive overview".
* /news-archive/data-docs/: the Great Expectations Data Docs written by the pipeline
  (`NEWS_ARCHIVE_DATA_DOCS_DIR`), under Browse > "Data Docs".
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from news_archive.config import Settings
from news_archive.dashboard import dashboard_app

DATA_DOCS_PREFIX = "/news-archive/data-docs"
DASHBOARD_PREFIX = "/news-archive/dashboard"


def data_docs_app(directory=None) -> FastAPI:
    app = FastAPI(title="news-archive Data Docs")
    folder = directory or Settings.from_env().data_docs_dir
    # check_dir=False: the folder appears with the first validation; until then, 404.
    app.mount("/", StaticFiles(directory=str(folder), html=True, check_dir=False), name="data_docs")
    return app


class NewsArchivePlugin(AirflowPlugin):
    name = "news_archive"
    fastapi_apps = [
        {"app": data_docs_app(), "url_prefix": DATA_DOCS_PREFIX, "name": "news-archive Data Docs"},
        {"app": dashboard_app(), "url_prefix": DASHBOARD_PREFIX, "name": "news-archive overview"},
    ]
    external_views = [{
        "name": "Archive overview (news-archive)",
        "href": f"{DASHBOARD_PREFIX}/",
        "destination": "nav",
        "category": "browse",
        "url_route": "news_archive_overview",
    }, {
        "name": "Data Docs (news-archive)",
        "href": f"{DATA_DOCS_PREFIX}/index.html",
        "destination": "nav",
        "category": "browse",
        "url_route": "news_archive_data_docs",
    }]
