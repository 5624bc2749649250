"""The package declares what it needs; the lock (requirements.txt) satisfies it."""

from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import REPO


def _lock() -> dict[str, str]:
    pins = {}
    for line in (REPO / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if m := re.fullmatch(r"([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^\s;]+)", line):
            pins[canonicalize_name(m.group(1))] = m.group(2)
    return pins


def test_the_lock_satisfies_the_declared_dependencies():
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    assert declared, "pyproject.toml declares no runtime dependencies"
    pins = _lock()
    drift = []
    for spec in map(Requirement, declared):
        pinned = pins.get(canonicalize_name(spec.name))
        if pinned is None or not spec.specifier.contains(pinned, prereleases=True):
            drift.append(f"{spec} (lock: {pinned})")
    assert not drift, "requirements.txt no longer satisfies pyproject.toml: " + "; ".join(drift)


def test_every_third_party_import_of_the_package_is_declared():
    """A module the shipped code imports is a declared dependency (or Airflow's own)."""
    declared = {canonicalize_name(Requirement(d).name) for d in
                tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]}
    module_to_dist = {"airflow": "apache-airflow", "great_expectations": "great-expectations",
                      "psycopg2": "psycopg2-binary", "bs4": "beautifulsoup4", "sqlalchemy": "sqlalchemy",
                      "jinja2": "jinja2"}
    stdlib = set(__import__("sys").stdlib_module_names)
    imported = set()
    for path in [*(REPO / "plugins" / "news_archive").rglob("*.py"), REPO / "plugins" / "news_archive_plugin.py"]:
        pattern = r"^\s*(?:from\s+([A-Za-z_]\w*)[\w.]*\s+import\s|import\s+([A-Za-z_]\w*))"
        for m in re.finditer(pattern, path.read_text(), re.M):
            imported.add(m.group(1) or m.group(2))
    third_party = {m for m in imported if m not in stdlib and m not in ("news_archive", "__future__")}
    missing = sorted(m for m in third_party
                     if canonicalize_name(module_to_dist.get(m, m)) not in declared
                     and m not in ("starlette",))  # (fastapi's own)
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"
