# Sourced by the demo and UI scripts: one Airflow home and one archive database
# for the local stack. A configured database wins over the embedded one.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export AIRFLOW_HOME="${AIRFLOW_HOME:-$ROOT/.airflow}"
export AIRFLOW__CORE__DAGS_FOLDER="$ROOT/dags"
export AIRFLOW__CORE__PLUGINS_FOLDER="$ROOT/plugins"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__UNIT_TEST_MODE=False
export GX_ANALYTICS_ENABLED=false
# Tasks inherit Great Expectations and the rest instead of importing them each
# (news_archive.preload; the same values as config.PRELOAD_SETTINGS and docker-compose.yml).
export AIRFLOW__SCHEDULER__MP_START_METHOD="${AIRFLOW__SCHEDULER__MP_START_METHOD:-forkserver}"
export AIRFLOW__SCHEDULER__MP_FORKSERVER_PRELOAD="${AIRFLOW__SCHEDULER__MP_FORKSERVER_PRELOAD:-airflow,airflow.executors.local_executor,news_archive.preload}"
export AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS="${AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS:-news_archive.celery_config.CELERY_CONFIG}"
# One archive for the demo and the UI: the same inbox, hence the same processed/,
# quarantine/ and data_docs/ beside it (the UI's Browse > Data Docs shows the demo's runs).
export NEWS_ARCHIVE_INBOX="${NEWS_ARCHIVE_INBOX:-$ROOT/.demo/inbox}"
if [ -z "${NEWS_ARCHIVE_DSN:-}" ] && [ -z "${AIRFLOW_CONN_NEWS_ARCHIVE:-}" ]; then
  echo "no database configured: starting the embedded PostgreSQL in .devdb/" >&2
  NEWS_ARCHIVE_DSN="$(news-archive devdb)"
  export NEWS_ARCHIVE_DSN
fi
if [ -z "${AIRFLOW_CONN_NEWS_ARCHIVE:-}" ]; then
  AIRFLOW_CONN_NEWS_ARCHIVE="$(news-archive --dsn "$NEWS_ARCHIVE_DSN" airflow-conn)"
  export AIRFLOW_CONN_NEWS_ARCHIVE
fi
mkdir -p "$AIRFLOW_HOME"
if [ ! -f "$AIRFLOW_HOME/.migrated" ]; then
  echo "initialising the Airflow metadata database in $AIRFLOW_HOME" >&2
  airflow db migrate >"$AIRFLOW_HOME/db-migrate.log" 2>&1 || { cat "$AIRFLOW_HOME/db-migrate.log" >&2; exit 1; }
  touch "$AIRFLOW_HOME/.migrated"
fi
