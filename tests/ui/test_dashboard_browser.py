"""The archive overview page in a real browser (Debian's headless Chromium, driven by
Selenium through chromedriver) against a running `airflow api-server`.

scripts/test.sh installs chromium and chromium-driver from Debian when they are missing.
"""

from __future__ import annotations

import os
import shutil

import pytest

from devkit import evaluation
from news_archive import pipeline, store
from tests.conftest import fetch, put_samples
from tests.support import apiserver

HOSTILE_TITLE = '<script>window.pwned=1</script> Council "budget" & <b>tags</b>'
HOSTILE_FILE = "<img src=x onerror=window.pwned=2>.txt"
IMG_TITLE = "<img src=x onerror=window.pwned=3> Budget image probe"


@pytest.fixture
def archive_with_hostile_titles(conn, dsn, settings):
    put_samples(settings.inbox)
    (settings.inbox / HOSTILE_FILE).write_text("Short\n\ntoo few words\n")
    (_aid, _title, body), = evaluation.generated_articles(1, seed=40)
    (settings.inbox / "markup-title.txt").write_text(f"{HOSTILE_TITLE}\n\n{body}\n")
    (settings.inbox / "img-title.txt").write_text(f"{IMG_TITLE}\n\n{body.replace('the', 'a')}\n")
    for aid, title, body in evaluation.generated_articles(12, seed=41):
        (settings.inbox / f"{aid}.txt").write_text(f"{title}\n\n{body}\n")
    pipeline.run_once(conn, settings, "ui-run", database_url=store.db.sqlalchemy_url(dsn))
    # The quality gate quarantines a title with markup (html_in_title); an article loaded
    # before that rule, or edited by hand, may still hold one: the page must escape it.
    with conn, conn.cursor() as cur:
        cur.execute("""UPDATE archive.articles SET title = %s WHERE raw_document_id =
                           (SELECT id FROM archive.raw_documents WHERE original_name LIKE '001%%')""",
                    (HOSTILE_TITLE,))
    assert fetch(dsn, "SELECT count(*) FROM archive.version_links") == [(1,)]
    return dsn


@pytest.fixture
def api_server(airflow_db, archive_with_hostile_titles, tmp_path):
    with apiserver.api_server(tmp_path, dict(os.environ, NEWS_ARCHIVE_DSN=archive_with_hostile_titles)) as (base, token):
        for path in ("/news-archive/dashboard/", "/news-archive/data-docs/index.html"):
            assert apiserver.get(f"{base}{path}")[0] == 401, path  # signed out: no archive data
        yield base, token


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not (os.path.exists(chromium) and os.path.exists(driver_path)):
        pytest.fail("Chromium and chromedriver are missing: scripts/test.sh installs them (apt chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def test_the_overview_page_shows_the_archive_and_escapes_everything(api_server, browser):
    from selenium.webdriver.common.by import By

    base, token = api_server
    browser.get(f"{base}/news-archive/dashboard/")
    assert "Not authenticated" in browser.find_element(By.TAG_NAME, "body").text  # signed out: nothing shown
    browser.add_cookie({"name": "_token", "value": token, "path": "/"})  # what Airflow's login sets
    browser.get(f"{base}/news-archive/data-docs/index.html")
    assert "Not authenticated" not in browser.find_element(By.TAG_NAME, "body").text  # signed in: Data Docs open
    browser.get(f"{base}/news-archive/dashboard/")
    assert browser.title == "news-archive: archive overview"

    totals = browser.find_element(By.ID, "totals").text
    assert "articles" in totals and "version links" in totals and "quarantined" in totals
    cards = {c.text.split("\n")[1]: c.text.split("\n")[0]
             for c in browser.find_elements(By.CSS_SELECTOR, "#totals .card")}
    assert cards["articles"] == "14" and cards["version links"] == "1" and cards["quarantined"] == "3"

    runs = browser.find_element(By.ID, "runs").text
    assert "ui-run" in runs and "success" in runs

    reasons = browser.find_element(By.ID, "quarantine").text
    assert "body_too_short" in reasons and HOSTILE_FILE in reasons and "html_in_title" in reasons

    # every file's fate, from analytics.files, the hostile file name as text
    files = {row.find_elements(By.TAG_NAME, "td")[0].text: row.find_elements(By.TAG_NAME, "td")[3].text
             for row in browser.find_elements(By.CSS_SELECTOR, "#files tbody tr")}
    assert len(files) == 17
    assert files[HOSTILE_FILE] == "quarantined" and files["markup-title.txt"] == "quarantined"
    assert files["img-title.txt"] == "quarantined"
    assert sum(outcome == "article" for outcome in files.values()) == 14

    links = browser.find_element(By.ID, "links").text
    assert HOSTILE_TITLE in links  # shown as text ...
    assert "Russia Orders U.S. Diplomats" in links
    # ... and never run or rendered as markup
    assert browser.execute_script("return window.pwned") is None
    assert browser.find_elements(By.TAG_NAME, "script") == []
    assert browser.find_elements(By.CSS_SELECTOR, "#links b, #quarantine img, #files img") == []


def test_every_route_of_every_plugin_app_asks_for_the_login(api_server):
    """Signed out, every route the plugin mounts answers 401; no schema or docs page is served."""
    from starlette.routing import Mount

    from tests.dags.test_plugin import _plugin_module

    base, _token = api_server
    checked = 0
    for spec in _plugin_module().NewsArchivePlugin.fastapi_apps:
        for route in spec["app"].routes:
            path = route.path if not isinstance(route, Mount) else route.path + "/static/some-page.html"
            status, _, _ = apiserver.get(f"{base}{spec['url_prefix']}{path or '/'}")
            assert status == 401, (spec["url_prefix"], path, status)
            checked += 1
        for path in ("/openapi.json", "/docs", "/redoc"):
            status, _, _ = apiserver.get(f"{base}{spec['url_prefix']}{path}")
            assert status in (401, 404), (spec["url_prefix"], path, status)
    assert checked >= 5


def test_hostile_titles_in_the_data_docs_run_nothing(api_server, browser, settings):
    """The quarantined titles' markup, through a real run, on the real Data Docs page."""
    from selenium.webdriver.common.by import By

    base, token = api_server
    status, headers, _ = apiserver.get(f"{base}/news-archive/data-docs/index.html", token)
    assert status == 200
    assert "sandbox" in headers["content-security-policy"] and headers["x-content-type-options"] == "nosniff"
    pages = sorted(settings.data_docs_dir.glob("validations/articles_pre_load/ui-run_batch-0001/*/*.html"))
    assert pages, list(settings.data_docs_dir.rglob("*.html"))
    for page in settings.data_docs_dir.rglob("*.html"):  # no file carries the inbox's markup raw
        text = page.read_text(errors="replace")
        assert "<img src=x onerror" not in text and "<script>window.pwned" not in text, page
    browser.get(f"{base}/news-archive/dashboard/")
    browser.add_cookie({"name": "_token", "value": token, "path": "/"})
    browser.get(f"{base}/news-archive/data-docs/{pages[0].relative_to(settings.data_docs_dir).as_posix()}")
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "Budget image probe" in body and "onerror=window.pwned=3" in body  # shown as text
    assert browser.execute_script("return window.pwned") is None  # nothing ran
    assert browser.find_elements(By.CSS_SELECTOR, "img[src='x'], img[onerror], b") == []
    assert all("pwned" not in (s.get_attribute("innerHTML") or "")
               for s in browser.find_elements(By.TAG_NAME, "script"))
