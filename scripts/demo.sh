#!/usr/bin/env bash
# The main job, once: the DAG news_ingest over a copy of data/samples.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
export NEWS_ARCHIVE_SCHEDULE="${NEWS_ARCHIVE_SCHEDULE:-*/15 * * * *}"
mkdir -p "$NEWS_ARCHIVE_INBOX" "$ROOT/.demo"
cp "$ROOT"/data/samples/* "$NEWS_ARCHIVE_INBOX"/
news-archive migrate
echo "running: airflow dags test news_ingest (inbox $NEWS_ARCHIVE_INBOX)" >&2
airflow dags test news_ingest >"$ROOT/.demo/dags-test.log" 2>&1 || {
  tail -n 60 "$ROOT/.demo/dags-test.log" >&2
  echo "the DAG run failed: full log in .demo/dags-test.log" >&2
  exit 1
}
grep -oE "DagRun Finished: .*state=[a-z]+" "$ROOT/.demo/dags-test.log" | sed -E "s/.*(run_id=[^,]+).*(state=[a-z]+)/DAG run \1: \2/" >&2 || true
echo
news-archive show
