"""The Airflow plugin serves the Data Docs written by the pipeline."""

from __future__ import annotations

import importlib.util

from fastapi.testclient import TestClient

from tests.conftest import REPO


def _plugin_module():
    spec = importlib.util.spec_from_file_location("news_archive_plugin", REPO / "plugins" / "news_archive_plugin.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_airflow_registers_the_app_and_the_menu_link(airflow_db):
    from airflow import plugins_manager

    apps = plugins_manager.get_fastapi_plugins()
    assert any(app.get("url_prefix") == "/news-archive/data-docs" for app in apps[0]), apps
    info = plugins_manager.get_plugin_info()
    assert any(p["name"] == "news_archive" for p in info), info


def test_data_docs_are_served_under_the_prefix(tmp_path):
    (tmp_path / "index.html").write_text("<html><body>Data Docs index</body></html>")
    module = _plugin_module()
    client = TestClient(module.data_docs_app(tmp_path, require_login=False))
    response = client.get("/index.html")
    assert response.status_code == 200 and "Data Docs index" in response.text
    assert client.get("/").status_code == 200
    assert client.get("/../../etc/passwd").status_code == 404
    view = module.NewsArchivePlugin.external_views[1]
    assert view["href"] == "/news-archive/data-docs/index.html" and view["destination"] == "nav"


def test_the_overview_page_says_so_when_the_archive_cannot_be_read():
    from news_archive.dashboard import dashboard_app

    def broken():
        raise OSError('could not connect to server "<db>"')

    client = TestClient(dashboard_app(broken, require_login=False))
    response = client.get("/")
    assert response.status_code == 503
    assert "cannot be read" in response.text and "&lt;db&gt;" in response.text and "<db>" not in response.text


def test_the_overview_page_is_in_the_browse_menu(airflow_db):
    view = _plugin_module().NewsArchivePlugin.external_views[0]
    assert view == {"name": "Archive overview (news-archive)", "href": "/news-archive/dashboard/",
                    "destination": "nav", "category": "browse", "url_route": "news_archive_overview"}


def test_data_docs_are_served_under_a_policy_that_runs_no_script(tmp_path):
    (tmp_path / "index.html").write_text("<html><body>Data Docs index</body></html>")
    client = TestClient(_plugin_module().data_docs_app(tmp_path, require_login=False))
    for path in ("/", "/index.html", "/missing.html"):
        response = client.get(path)
        csp = response.headers["content-security-policy"]
        assert "sandbox" in csp and "script-src 'none'" in csp, path
        assert response.headers["x-content-type-options"] == "nosniff", path


def test_before_the_first_run_the_data_docs_page_says_there_are_none(tmp_path):
    client = TestClient(_plugin_module().data_docs_app(tmp_path / "not-yet", require_login=False))
    for path in ("/", "/index.html"):
        response = client.get(path)
        assert response.status_code == 404 and "No Data Docs yet" in response.text, path


def test_the_apps_publish_no_schema_or_docs_pages(tmp_path):
    from news_archive.dashboard import dashboard_app

    for app in (_plugin_module().data_docs_app(tmp_path, require_login=False),
                dashboard_app(lambda: None, require_login=False)):
        assert app.openapi_url is None and app.docs_url is None and app.redoc_url is None
        client = TestClient(app)
        for path in ("/openapi.json", "/docs", "/redoc"):
            assert client.get(path).status_code == 404, path
