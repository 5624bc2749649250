"""The operators' page in the Airflow UI: archive totals, recent runs, quarantine
reasons, recent version links and every recent file's fate, read from the analytics views.

Served by the api-server through the plugin in plugins/news_archive_plugin.py at
/news-archive/dashboard/ (and linked from the Browse menu), to signed-in users only. Everything that comes from
articles or files is escaped by Jinja2's autoescape: a title holding `<script>` shows
as text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse
from jinja2 import Environment, select_autoescape

TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>news-archive: archive overview</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<style>
 body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #1f2937; }
 h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
 table { border-collapse: collapse; width: 100%; font-size: .9rem; }
 th, td { border-bottom: 1px solid #e5e7eb; padding: .35rem .5rem; text-align: left; vertical-align: top; }
 th { background: #f3f4f6; } .num { text-align: right; font-variant-numeric: tabular-nums; }
 .totals { display: flex; flex-wrap: wrap; gap: 1rem; } .card { border: 1px solid #e5e7eb; border-radius: .5rem;
 padding: .6rem 1rem; min-width: 9rem; } .card b { display: block; font-size: 1.3rem; }
 .failed { color: #b91c1c; font-weight: 600; } .success { color: #15803d; } .running { color: #1d4ed8; }
 .error { background: #fef2f2; border: 1px solid #fecaca; padding: 1rem; }
</style></head>
<body>
<h1>news-archive: archive overview</h1>
{% if error %}
<div class="error" id="error">The archive database cannot be read: {{ error }}</div>
{% else %}
<section class="totals" id="totals">
{% for label, value in totals %}<div class="card"><b class="num">{{ "{:,}".format(value) }}</b>{{ label }}</div>{% endfor %}
</section>

<h2>Recent runs</h2>
<table id="runs"><thead><tr><th>run</th><th>status</th><th>started</th><th>duration</th><th class="num">seen</th>
<th class="num">archived</th><th class="num">duplicates</th><th class="num">quarantined</th><th class="num">loaded</th>
<th class="num">links</th><th>error</th></tr></thead><tbody>
{% for r in runs %}<tr><td>{{ r.run_id }}</td><td class="{{ r.status }}">{{ r.status }}</td><td>{{ r.started }}</td>
<td>{{ r.duration }}</td><td class="num">{{ r.files_seen }}</td><td class="num">{{ r.files_archived }}</td>
<td class="num">{{ r.duplicates }}</td><td class="num">{{ r.quarantined }}</td><td class="num">{{ r.loaded }}</td>
<td class="num">{{ r.links_made }}</td><td>{{ r.error or "" }}</td></tr>
{% else %}<tr><td colspan="11">No runs yet.</td></tr>{% endfor %}
</tbody></table>

<h2>Recent files</h2>
<table id="files"><thead><tr><th>file</th><th>run</th><th>delivered</th><th>outcome</th><th class="num">article</th>
<th>same as</th><th>reason</th></tr></thead><tbody>
{% for f in files %}<tr><td>{{ f.file_name }}</td><td>{{ f.run_id }}</td><td>{{ f.delivered }}</td>
<td class="outcome">{{ f.outcome }}</td><td class="num">{{ f.article_id or "" }}</td><td>{{ f.same_as_file or "" }}</td>
<td>{{ f.reason or "" }}</td></tr>
{% else %}<tr><td colspan="7">No files yet.</td></tr>{% endfor %}
</tbody></table>

<h2>Quarantine reasons</h2>
<table id="quarantine"><thead><tr><th>reason</th><th class="num">documents</th><th>latest file</th><th>latest message</th>
<th>last seen</th></tr></thead><tbody>
{% for q in quarantine %}<tr><td>{{ q.reason }}</td><td class="num">{{ q.documents }}</td><td>{{ q.file_name }}</td>
<td>{{ q.message }}</td><td>{{ q.last_seen }}</td></tr>
{% else %}<tr><td colspan="5">Nothing quarantined.</td></tr>{% endfor %}
</tbody></table>

<h2>Recent version links</h2>
<table id="links"><thead><tr><th>relation</th><th>parent</th><th>child</th><th class="num">coverage</th><th>found</th>
</tr></thead><tbody>
{% for link in links %}<tr><td>{{ link.relation }}</td><td>{{ link.parent_title }}</td><td>{{ link.child_title }}</td>
<td class="num">{{ link.coverage }}</td><td>{{ link.found_at }}</td></tr>
{% else %}<tr><td colspan="5">No version links yet.</td></tr>{% endfor %}
</tbody></table>
{% endif %}
</body></html>
"""

_env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
_template = _env.from_string(TEMPLATE)


@dataclass
class Overview:
    totals: list[tuple[str, int]] = field(default_factory=list)
    runs: list[dict] = field(default_factory=list)
    quarantine: list[dict] = field(default_factory=list)
    links: list[dict] = field(default_factory=list)
    files: list[dict] = field(default_factory=list)
    error: str | None = None


def _dicts(cur) -> list[dict]:
    names = [c.name for c in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def read_overview(conn, *, runs: int = 15, links: int = 20, files: int = 30) -> Overview:
    """Everything the page shows, from the analytics views (read-only)."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT (SELECT count(*) FROM analytics.articles),
                      (SELECT count(*) FROM analytics.current_articles),
                      (SELECT count(*) FROM analytics.version_links),
                      (SELECT count(*) FROM analytics.quarantine),
                      (SELECT count(*) FROM analytics.refused_files),
                      (SELECT count(*) FROM analytics.ingest_runs),
                      (SELECT count(*) FROM analytics.ingest_runs WHERE status = 'failed')"""
        )
        articles, stories, n_links, quarantined, refused, n_runs, failed = cur.fetchone()
        totals = [("articles", articles), ("stories", stories), ("version links", n_links),
                  ("quarantined", quarantined), ("refused files", refused), ("runs", n_runs),
                  ("failed runs", failed)]
        cur.execute(
            """SELECT run_id, status, to_char(started_at, 'YYYY-MM-DD HH24:MI:SS') AS started,
                      coalesce(to_char(duration, 'HH24:MI:SS'), '') AS duration, files_seen, files_archived,
                      duplicates, quarantined, loaded, links_made, error
               FROM analytics.ingest_runs ORDER BY started_at DESC LIMIT %s""",
            (runs,),
        )
        recent_runs = _dicts(cur)
        cur.execute(
            """SELECT reason, count(*) AS documents, (array_agg(file_name ORDER BY quarantined_at DESC))[1] AS file_name,
                      (array_agg(message ORDER BY quarantined_at DESC))[1] AS message,
                      to_char(max(quarantined_at), 'YYYY-MM-DD HH24:MI') AS last_seen
               FROM analytics.quarantine, unnest(reason_codes) AS reason
               GROUP BY reason ORDER BY documents DESC, reason"""
        )
        reasons = _dicts(cur)
        cur.execute(
            """SELECT relation, parent_title, child_title, scores ->> 'coverage' AS coverage,
                      to_char(found_at, 'YYYY-MM-DD HH24:MI') AS found_at
               FROM analytics.version_links ORDER BY found_at DESC, link_id DESC LIMIT %s""",
            (links,),
        )
        recent_links = _dicts(cur)
        cur.execute(
            """SELECT file_name, run_id, to_char(delivered_at, 'YYYY-MM-DD HH24:MI:SS') AS delivered, outcome,
                      article_id, same_as_file, array_to_string(reason_codes, ', ') AS reason
               FROM analytics.files ORDER BY delivered_at DESC, file_name LIMIT %s""",
            (files,),
        )
        recent_files = _dicts(cur)
    conn.rollback()
    return Overview(totals, recent_runs, reasons, recent_links, recent_files)


def render(overview: Overview) -> str:
    return _template.render(**overview.__dict__)


def _connect():
    """The archive, read-only, through NewsArchiveHook (NEWS_ARCHIVE_DSN, else the Airflow
    connection `news_archive`: in the api-server Airflow reads it from its metadata database)."""
    from news_archive.hooks import NewsArchiveHook

    conn = NewsArchiveHook.from_env().get_conn()
    conn.set_session(readonly=True)
    return conn


def dashboard_app(connect=_connect, *, require_login: bool = True) -> FastAPI:
    """The page as a FastAPI app. require_login: only users signed in to Airflow
    (its JWT cookie or a bearer token, checked by Airflow's auth manager) see it."""
    dependencies = []
    if require_login:
        from airflow.api_fastapi.core_api.security import requires_authenticated
        from fastapi import Depends

        dependencies.append(Depends(requires_authenticated()))
    # No OpenAPI schema or docs pages: they would answer without the login.
    app = FastAPI(title="news-archive overview", dependencies=dependencies, docs_url=None, redoc_url=None,
                  openapi_url=None)

    def overview() -> Overview:
        try:
            conn = connect()
        except Exception as exc:  # noqa: BLE001  (shown on the page, not a 500)
            return Overview(error=str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        try:
            return read_overview(conn)
        except Exception as exc:  # noqa: BLE001
            return Overview(error=str(exc).splitlines()[0])
        finally:
            conn.close()

    @app.get("/", response_class=HTMLResponse)
    def page() -> HTMLResponse:
        data = overview()
        return HTMLResponse(render(data), status_code=503 if data.error else 200)

    @app.get("/overview.json")
    def as_json() -> JSONResponse:
        data = overview()
        return JSONResponse(data.__dict__, status_code=503 if data.error else 200)

    return app
