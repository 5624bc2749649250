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


def data_docs_app(directory=None, *, require_login: bool = True) -> FastAPI:
    app = FastAPI(title="news-archive Data Docs")
    folder = directory or Settings.from_env().data_docs_dir
    if require_login:
        # Mounted static files bypass route dependencies: check Airflow's token in a middleware.
        from airflow.api_fastapi.core_api.security import resolve_user_from_token
        from fastapi import HTTPException
        from fastapi.responses import JSONResponse

        @app.middleware("http")
        async def signed_in_only(request, call_next):
            header = request.headers.get("authorization", "")
            token = header[7:] if header.lower().startswith("bearer ") else request.cookies.get("_token")
            try:
                await resolve_user_from_token(token)
            except HTTPException as exc:
                return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
            return await call_next(request)

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
