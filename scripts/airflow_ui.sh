#!/usr/bin/env bash
# The Airflow UI (api-server, scheduler, dag-processor, triggerer in one process)
# against the same archive as `make demo` (database, inbox and Data Docs: scripts/env.sh). The admin password is printed by
# Airflow and kept in $AIRFLOW_HOME/simple_auth_manager_passwords.json.generated.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
exec airflow standalone
