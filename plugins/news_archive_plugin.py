"""Airflow plugin: the archive's Great Expectations Data Docs inside the Airflow UI.

The api-server mounts the Data Docs folder (`NEWS_ARCHIVE_DATA_DOCS_DIR`) at
/news-archive/data-docs/ and adds "Data Docs" to the Browse menu.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from news_archive.config import Settings

DATA_DOCS_PREFIX = "/news-archive/data-docs"


def data_docs_app(directory=None) -> FastAPI:
    app = FastAPI(title="news-archive Data Docs")
    folder = directory or Settings.from_env().data_docs_dir
    # check_dir=False: the folder appears with the first validation; until then, 404.
    app.mount("/", StaticFiles(directory=str(folder), html=True, check_dir=False), name="data_docs")
    return app


class NewsArchivePlugin(AirflowPlugin):
    name = "news_archive"
    fastapi_apps = [{"app": data_docs_app(), "url_prefix": DATA_DOCS_PREFIX, "name": "news-archive Data Docs"}]
    external_views = [{
        "name": "Data Docs (news-archive)",
        "href": f"{DATA_DOCS_PREFIX}/index.html",
        "destination": "nav",
        "category": "browse",
        "url_route": "news_archive_data_docs",
    }]
