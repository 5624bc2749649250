#!/usr/bin/env bash
# The whole suite. NEWS_ARCHIVE_TEST_ADMIN_DSN names a PostgreSQL server to create
# throw-away databases on (CI: postgresql://postgres@127.0.0.1:5432/postgres);
# unset, the embedded server in .devdb/ is used. Each session makes and drops its own database.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export GX_ANALYTICS_ENABLED=false
exec python -m pytest "$@"
