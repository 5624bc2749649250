"""The archive overview page in a real browser (Debian's headless Chromium, driven by
Selenium through chromedriver) against a running `airflow api-server`.

scripts/test.sh installs chromium and chromium-driver from Debian when they are missing.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from news_archive import evaluation, pipeline, storage
from tests.conftest import fetch, put_samples

HOSTILE_TITLE = '<script>window.pwned=1</script> Council "budget" & <b>tags</b>'
HOSTILE_FILE = "<img src=x onerror=window.pwned=2>.txt"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def archive_with_hostile_titles(conn, dsn, settings):
    put_samples(settings.inbox)
    (settings.inbox / HOSTILE_FILE).write_text("Short\n\ntoo few words\n")
    (_aid, _title, body), = evaluation.generated_articles(1, seed=40)
    (settings.inbox / "markup-title.txt").write_text(f"{HOSTILE_TITLE}\n\n{body}\n")
    for aid, title, body in evaluation.generated_articles(8, seed=41):
        (settings.inbox / f"{aid}.txt").write_text(f"{title}\n\n{body}\n")
    pipeline.run_once(conn, settings, "ui-run", params=storage.dsn_params(dsn))
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
    port = _free_port()
    passwords = tmp_path / "passwords.json"
    passwords.write_text(json.dumps({"operator": "test-only-password"}))
    env = dict(os.environ, NEWS_ARCHIVE_DSN=archive_with_hostile_titles,
               AIRFLOW__API__PORT=str(port), AIRFLOW__API__HOST="127.0.0.1",
               AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="operator:viewer",
               AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(passwords))
    log = open(tmp_path / "api-server.log", "w")  # noqa: SIM115  (closed below)
    proc = subprocess.Popen([sys.executable, "-m", "airflow", "api-server", "--port", str(port),
                             "--host", "127.0.0.1"], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 180
        while True:
            try:
                urllib.request.urlopen(f"{base}/news-archive/dashboard/overview.json", timeout=5)
                pytest.fail("the overview answered without a login")
            except urllib.error.HTTPError as exc:
                if exc.code == 401:  # up, and it asks who you are
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                log.flush()
                pytest.fail("api-server did not serve the page:\n" + (tmp_path / "api-server.log").read_text()[-4000:])
            time.sleep(1)
        for path in ("/news-archive/dashboard/", "/news-archive/data-docs/index.html"):
            with pytest.raises(urllib.error.HTTPError) as refused:  # signed out: no archive data
                urllib.request.urlopen(f"{base}{path}", timeout=10)
            assert refused.value.code == 401, path
        request = urllib.request.Request(
            f"{base}/auth/token", data=json.dumps({"username": "operator", "password": "test-only-password"}).encode(),
            headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=30) as r:
            token = json.loads(r.read())["access_token"]
        yield base, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


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
    assert cards["articles"] == "10" and cards["version links"] == "1" and cards["quarantined"] == "2"

    runs = browser.find_element(By.ID, "runs").text
    assert "ui-run" in runs and "success" in runs

    reasons = browser.find_element(By.ID, "quarantine").text
    assert "body_too_short" in reasons and HOSTILE_FILE in reasons and "html_in_title" in reasons

    # every file's fate, from analytics.files, the hostile file name as text
    files = {row.find_elements(By.TAG_NAME, "td")[0].text: row.find_elements(By.TAG_NAME, "td")[3].text
             for row in browser.find_elements(By.CSS_SELECTOR, "#files tbody tr")}
    assert len(files) == 12
    assert files[HOSTILE_FILE] == "quarantined" and files["markup-title.txt"] == "quarantined"
    assert sum(outcome == "article" for outcome in files.values()) == 10

    links = browser.find_element(By.ID, "links").text
    assert HOSTILE_TITLE in links  # shown as text ...
    assert "Russia Orders U.S. Diplomats" in links
    # ... and never run or rendered as markup
    assert browser.execute_script("return window.pwned") is None
    assert browser.find_elements(By.TAG_NAME, "script") == []
    assert browser.find_elements(By.CSS_SELECTOR, "#links b, #quarantine img, #files img") == []
