#!/usr/bin/env bash
# The Airflow UI (api-server, scheduler, dag-processor, triggerer in one process)
# against the same archive as `make demo`. The admin password is printed by
# Airflow and kept in $AIRFLOW_HOME/simple_auth_manager_passwords.json.generated.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
export NEWS_ARCHIVE_INBOX="${NEWS_ARCHIVE_INBOX:-$ROOT/data/inbox}"
exec airflow standalone
