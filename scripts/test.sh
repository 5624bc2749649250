#!/usr/bin/env bash
# The whole suite. NEWS_ARCHIVE_TEST_ADMIN_DSN names a PostgreSQL server to create
# throw-away databases on (CI: postgresql://postgres@127.0.0.1:5432/postgres);
# unset, the embedded server in .devdb/ is used. Each session makes and drops its own database.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export GX_ANALYTICS_ENABLED=false
# Debian packages some tests need, installed when missing (root with apt only):
#   docker-compose (tests/test_docker.py checks docker/docker-compose.yml; no engine needed),
#   chromium + chromium-driver (tests/ui/: the overview page in a real headless browser),
#   redis-server (tests/scaleout/: the Celery test starts its own broker on a free port).
need=()
command -v docker-compose >/dev/null || docker compose version >/dev/null 2>&1 || need+=(docker-compose)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/chromedriver ] || need+=(chromium-driver)
command -v redis-server >/dev/null || need+=(redis-server)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "installing ${need[*]} from Debian" >&2
        apt-get install -y -q "${need[@]}" >/dev/null 2>&1 \
            || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q "${need[@]}" >/dev/null 2>&1; } \
            || echo "warning: could not install ${need[*]}; the tests that need them will fail" >&2
    else
        echo "warning: missing ${need[*]} (install them: apt-get install ${need[*]})" >&2
    fi
fi
exec python -m pytest "$@"
