"""A real Airflow notifier for the tests: appends one JSON line per notification."""

from __future__ import annotations

import json

from airflow.sdk import BaseNotifier


class FileNotifier(BaseNotifier):
    template_fields = ("path",)

    def __init__(self, path: str):
        super().__init__()
        self.path = path

    def notify(self, context):
        ti = context.get("ti") or context.get("task_instance")
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"run_id": context.get("run_id"), "task_id": getattr(ti, "task_id", None),
                                  "reason": context.get("reason"), "dag_id": context["dag_run"].dag_id}) + "\n")
