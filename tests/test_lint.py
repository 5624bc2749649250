"""ruff (with Airflow's AIR rules) is part of the suite, so CI enforces it."""

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_ruff_is_clean():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff is installed by requirements-dev.txt"
    out = subprocess.run([ruff, "check", "dags", "plugins", "tests", "bench", "scripts"],
                         cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:]
