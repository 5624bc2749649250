#!/usr/bin/env bash
# The whole suite. NEWS_ARCHIVE_TEST_ADMIN_DSN names a PostgreSQL server to create
# throw-away databases on (CI: postgresql://postgres@127.0.0.1:5432/postgres);
# unset, the embedded server in .devdb/ is used. Each session makes and drops its own database.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export GX_ANALYTICS_ENABLED=false
# tests/test_docker.py needs a compose implementation to check docker/docker-compose.yml;
# no Docker engine is needed. Debian's docker-compose when neither form is present.
if ! command -v docker-compose >/dev/null && ! docker compose version >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get install -y -q docker-compose >/dev/null 2>&1 \
            || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q docker-compose >/dev/null 2>&1; } \
            || echo "warning: could not install docker-compose; tests/test_docker.py will fail" >&2
    fi
fi
exec python -m pytest "$@"
