"""news_archive.preload, what a forkserver or a Celery worker imports before it forks tasks:
it must load what the tasks would import, and leave nothing behind that makes forking
unsafe (a thread) or undoes the deferral of modules no expectation uses."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO

PROBE = """
import gc, json, sys, threading
import news_archive.preload
from news_archive import quality
print(json.dumps({
    "threads": threading.active_count(),
    "loaded": [m for m in ("great_expectations", "pandas", "numpy", "wordfreq", "fastapi") if m in sys.modules],
    "import_gx_again": quality.import_gx(),
    "frozen": gc.get_freeze_count() > 0,
    "deferred": [type(sys.modules[m]).__name__ for m in quality.DEFERRED_MODULES],
}))
"""


def test_the_preload_loads_what_tasks_import_and_starts_no_thread():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    probe = json.loads(out.stdout.splitlines()[-1])
    assert probe == {
        "threads": 1,  # forking a process with threads is not safe
        "loaded": ["great_expectations", "pandas", "numpy", "wordfreq", "fastapi"],
        "import_gx_again": 0.0,  # what a task forked from it records as its import
        "frozen": True,  # out of the collector's sight: no collection in a child copies those pages
        "deferred": ["_Deferred", "_Deferred"],  # scipy.stats and altair still wait for a first use
    }
