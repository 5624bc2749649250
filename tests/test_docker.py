"""The Docker deployment: a compose implementation accepts docker/docker-compose.yml
(no Docker engine runs here, so the images are not built)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from news_archive.config import PRELOAD_SETTINGS
from tests.conftest import REPO

COMPOSE = REPO / "docker" / "docker-compose.yml"
ENV = REPO / "docker" / ".env.example"


def _compose() -> list[str]:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    pytest.fail("no compose implementation: scripts/test.sh installs Debian's docker-compose when it can")


def _config(*args: str) -> str:
    out = subprocess.run([*_compose(), "--env-file", str(ENV), "-f", str(COMPOSE), *args, "config"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_compose_accepts_the_default_deployment():
    import yaml

    config = yaml.safe_load(_config())
    services = config["services"]
    always = {name for name, svc in services.items() if not svc.get("profiles")}
    assert always == {"postgres", "init", "api-server", "scheduler", "dag-processor", "triggerer"}
    assert "airflow db migrate && news-archive migrate" in " ".join(services["init"]["command"])
    for name in ("api-server", "scheduler", "dag-processor", "triggerer"):
        env = services[name]["environment"]
        assert env["AIRFLOW__API_AUTH__JWT_SECRET"] == "change-me-to-a-long-random-string"
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://api-server:8080/execution/"
        assert env["NEWS_ARCHIVE_INBOX"] == "/data/inbox"
        mounts = [v["target"] if isinstance(v, dict) else v.split(":")[1] for v in services[name]["volumes"]]
        assert "/data" in mounts  # the inbox and its sibling folders
        assert services[name]["depends_on"]["init"]["condition"] == "service_completed_successfully"
    # The archive's server gets the shared buffers the link step's indexes need (docs/scaling.md)
    assert services["postgres"]["command"] == ["postgres", "-c", "shared_buffers=1GB"]
    # The scheduler's LocalExecutor forks tasks that inherit Great Expectations (news_archive.preload)
    assert PRELOAD_SETTINGS.items() <= services["scheduler"]["environment"].items()


def test_the_local_stack_preloads_as_the_deployment_does():
    """scripts/env.sh (make airflow-ui) sets the same preload settings as the compose file."""
    script = (REPO / "scripts" / "env.sh").read_text()
    for name, value in PRELOAD_SETTINGS.items():
        assert f'export {name}="${{{name}:-{value}}}"' in script


def test_the_celery_profile_adds_redis_and_workers():
    import yaml

    services = yaml.safe_load(_config("--profile", "celery"))["services"]
    assert {"redis", "worker"} <= set(services)
    assert services["redis"]["profiles"] == services["worker"]["profiles"] == ["celery"]
    assert services["worker"]["command"] in ("celery worker", ["celery", "worker"])
    # Each Celery worker imports news_archive.preload before it forks its pool
    assert PRELOAD_SETTINGS.items() <= services["worker"]["environment"].items()


def test_the_image_builds_from_the_official_airflow_image_with_the_project():
    dockerfile = (REPO / "docker" / "Dockerfile").read_text()
    stages = [line.split() for line in dockerfile.splitlines() if line.startswith("FROM")]
    assert {stage[1] for stage in stages} == {"apache/airflow:3.3.2-python3.11"}
    assert len(stages[-1]) == 2  # the image is the last stage; the compiler stays in the one before
    assert "gcc" not in dockerfile.rsplit("\nFROM ", 1)[1]
    assert "python setup.py build_ext --inplace" in dockerfile
    assert "requirements.txt" in dockerfile and "pip install --no-cache-dir --no-deps -e /opt/news-archive" in dockerfile
    assert "PASSWORD" not in dockerfile
    env = ENV.read_text()
    assert "change-me" in env  # placeholders only


def test_the_image_ships_the_package_and_not_the_test_tools():
    """The image copies plugins/, sql/ and dags/; devkit/ (synthetic corpora, throw-away
    databases), tests/ and bench/ stay out."""
    copied = {source for line in (REPO / "docker" / "Dockerfile").read_text().splitlines()
              if line.startswith("COPY") and "--from=" not in line
              for source in [w for w in line.split()[1:-1] if not w.startswith("--")]}
    assert copied == {"requirements.txt", "pyproject.toml", "setup.py", "plugins", "plugins/news_archive/_speedups.c",
                      "sql", "dags"}
    assert not (REPO / "plugins" / "news_archive" / "evaluation.py").exists()
    assert (REPO / "devkit" / "evaluation.py").exists()
