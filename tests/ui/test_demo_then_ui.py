"""The README's path, as a newcomer takes it: `make demo`, then `make airflow-ui`, then
Browse > Data Docs. Both scripts run from a copy of scripts/ in a fresh folder (so the
repository's own .demo/ is left alone) with their defaults: no NEWS_ARCHIVE_INBOX."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from tests.conftest import REPO
from tests.support import apiserver


def _fresh_checkout(root):
    (root / "scripts").mkdir(parents=True)
    for script in ("env.sh", "demo.sh", "airflow_ui.sh"):
        shutil.copy(REPO / "scripts" / script, root / "scripts" / script)
    for folder in ("dags", "plugins", "data"):
        (root / folder).symlink_to(REPO / folder)


def test_a_fresh_demo_then_the_ui_shows_its_data_docs(airflow_db, databases, tmp_path):
    root = tmp_path / "checkout"
    _fresh_checkout(root)
    dsn = databases.create(migrate=False)
    (airflow_db / ".migrated").touch()
    env = {k: v for k, v in os.environ.items()
           if k not in ("NEWS_ARCHIVE_INBOX", "NEWS_ARCHIVE_DATA_DOCS_DIR", "AIRFLOW_CONN_NEWS_ARCHIVE")}
    env.update(NEWS_ARCHIVE_DSN=dsn, AIRFLOW_HOME=str(airflow_db),
               PATH=f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}")
    # the UI as `make airflow-ui` configures it (its api-server alone: standalone would also
    # start a scheduler and a second api-server on 8080)
    ui = f"source {root / 'scripts' / 'env.sh'} && exec {sys.executable} -m airflow api-server"
    with apiserver.api_server(tmp_path, env, probe="/news-archive/data-docs/index.html", command=ui) as (base, token):
        status, _, text = apiserver.get(f"{base}/news-archive/data-docs/index.html", token)
        assert status == 404 and "No Data Docs yet" in text  # before the first run: said, not a 500

        demo = subprocess.run(["bash", str(root / "scripts" / "demo.sh")], capture_output=True, text=True, env=env)
        assert demo.returncode == 0, demo.stderr[-3000:]
        assert "version links (1):" in demo.stdout
        assert (root / ".demo" / "data_docs" / "index.html").is_file()

        status, headers, text = apiserver.get(f"{base}/news-archive/data-docs/index.html", token)
        assert status == 200, text[:500]
        assert "articles_pre_load" in text
        assert "sandbox" in headers["content-security-policy"]
        status, _, runs = apiserver.get(f"{base}/news-archive/data-docs/runs.html", token)
        assert status == 200 and "_batch-0001" in runs and "_post_load" in runs
