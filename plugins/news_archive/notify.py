"""Failure notifications configured by environment, not code.

Set `NEWS_ARCHIVE_NOTIFIER` to the import path of any Airflow notifier class
(for example `airflow.providers.smtp.notifications.smtp.SmtpNotifier`) and
`NEWS_ARCHIVE_NOTIFIER_KWARGS` to its keyword arguments as JSON
(`{"to": "ops@example.com", "smtp_conn_id": "smtp_default"}`). Unset: the
failure is only logged.
"""

from __future__ import annotations

import importlib
import json
import logging
import os

log = logging.getLogger(__name__)


def build_notifier():
    path = os.environ.get("NEWS_ARCHIVE_NOTIFIER", "").strip()
    if not path:
        return None
    module, _, name = path.rpartition(".")
    cls = getattr(importlib.import_module(module), name)
    kwargs = json.loads(os.environ.get("NEWS_ARCHIVE_NOTIFIER_KWARGS") or "{}")
    return cls(**kwargs)


def notify_failure(context) -> None:
    run_id = context.get("run_id")
    try:
        notifier = build_notifier()
    except Exception:  # a broken notifier setting must not hide the original failure
        log.exception("news_archive: NEWS_ARCHIVE_NOTIFIER could not be built")
        return
    if notifier is None:
        log.warning("news_archive run %s failed (no NEWS_ARCHIVE_NOTIFIER configured)", run_id)
        return
    # Where the callback runs with the scheduler's serialized DAG (dag.test(), for one),
    # that DAG cannot build a template environment; the notifier then uses the default one.
    dag = context.get("dag")
    if dag is not None and not hasattr(dag, "get_template_env"):
        context = {k: v for k, v in context.items() if k != "dag"}
    notifier(context)
