"""A real `airflow api-server` for the browser tests, with one signed-in user."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

USER, PASSWORD = "operator", "test-only-password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def api_server(tmp_path, env: dict, *, probe: str = "/news-archive/dashboard/overview.json", command=None):
    """Yields (base URL, bearer token). `command` runs the server another way (a shell
    line that ends by exec'ing it, for example after sourcing scripts/env.sh)."""
    port = free_port()
    passwords = tmp_path / "passwords.json"
    passwords.write_text(json.dumps({USER: PASSWORD}))
    env = dict(env, AIRFLOW__API__PORT=str(port), AIRFLOW__API__HOST="127.0.0.1",
               AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=f"{USER}:viewer",
               AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(passwords))
    args = (["bash", "-c", command + f" --port {port} --host 127.0.0.1"] if command else
            [sys.executable, "-m", "airflow", "api-server", "--port", str(port), "--host", "127.0.0.1"])
    log_path = tmp_path / f"api-server-{port}.log"
    log = open(log_path, "w")  # noqa: SIM115  (closed below)
    proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 180
        while True:
            try:
                urllib.request.urlopen(f"{base}{probe}", timeout=5)
                pytest.fail(f"{probe} answered without a login")
            except urllib.error.HTTPError as exc:
                if exc.code == 401:  # up, and it asks who you are
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                log.flush()
                pytest.fail("api-server did not start:\n" + log_path.read_text()[-4000:])
            time.sleep(1)
        request = urllib.request.Request(
            f"{base}/auth/token", data=json.dumps({"username": USER, "password": PASSWORD}).encode(),
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


def get(url: str, token: str | None = None) -> tuple[int, dict, str]:
    """(status, headers, text) of a GET, signed in with `token` or signed out."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, dict(r.headers), r.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode(errors="replace")


def environ(**extra) -> dict:
    return dict(os.environ, **extra)
