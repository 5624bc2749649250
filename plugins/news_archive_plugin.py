"""Airflow plugin: the archive inside the Airflow UI.

* /news-archive/dashboard/: archive totals, recent runs, quarantine reasons and recent
  version links (news_archive.dashboard), under Browse > "Archive overview".
* /news-archive/data-docs/: the Great Expectations Data Docs written by the pipeline
  (`NEWS_ARCHIVE_DATA_DOCS_DIR`), under Browse > "Data Docs".
"""

from __future__ import annotations

from pathlib import Path

from airflow.plugins_manager import AirflowPlugin
from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

from news_archive.config import Settings
from news_archive.dashboard import dashboard_app

DATA_DOCS_PREFIX = "/news-archive/data-docs"
DASHBOARD_PREFIX = "/news-archive/dashboard"


# Everything under the plugin's prefixes is served with these headers: the Data Docs hold
# values from the feed, and a page that runs no script cannot run a feed's script either.
SECURITY_HEADERS = {
    "Content-Security-Policy": "sandbox; default-src 'self'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data:; script-src 'none'; object-src 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "SAMEORIGIN",
}

NO_DOCS_YET = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>news-archive: Data Docs</title></head><body style="font-family: system-ui, sans-serif; margin: 2rem">
<h1>No Data Docs yet</h1>
<p>Great Expectations writes its Data Docs with the first run of the DAG <code>news_ingest</code>
(into <code>NEWS_ARCHIVE_DATA_DOCS_DIR</code>). Run it, then come back.</p>
</body></html>"""


def secure(app: FastAPI) -> FastAPI:
    """Add SECURITY_HEADERS to every response of `app` (errors and 401s included)."""

    @app.middleware("http")
    async def security_headers(request, call_next):
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return app


def data_docs_app(directory=None, *, require_login: bool = True) -> FastAPI:
    # No OpenAPI schema or docs pages: every route here is behind the login, or absent.
    app = FastAPI(title="news-archive Data Docs", docs_url=None, redoc_url=None, openapi_url=None)
    folder = Path(directory or Settings.from_env().data_docs_dir)
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

    @app.get("/", include_in_schema=False)
    @app.get("/index.html", include_in_schema=False)
    def index():
        """The site's index, or a page that says there are no Data Docs yet (never a 500)."""
        page = folder / "index.html"
        if page.is_file():
            return FileResponse(page, media_type="text/html")
        return HTMLResponse(NO_DOCS_YET, status_code=404)

    # check_dir=False: the folder appears with the first validation; until then, 404.
    app.mount("/", StaticFiles(directory=str(folder), html=True, check_dir=False), name="data_docs")
    return secure(app)


class NewsArchivePlugin(AirflowPlugin):
    name = "news_archive"
    fastapi_apps = [
        {"app": data_docs_app(), "url_prefix": DATA_DOCS_PREFIX, "name": "news-archive Data Docs"},
        {"app": secure(dashboard_app()), "url_prefix": DASHBOARD_PREFIX, "name": "news-archive overview"},
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
