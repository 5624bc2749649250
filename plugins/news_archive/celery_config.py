"""Airflow's Celery settings, plus news_archive.preload imported by each worker before it
forks its pool, so that tasks inherit Great Expectations instead of importing it each time.

    AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS=news_archive.celery_config.CELERY_CONFIG

(docker/docker-compose.yml sets it; see news_archive.preload). Celery imports the modules
named by ``imports`` in the worker's main process at start-up; its prefork pool then forks
the processes that run the tasks, and each task's process is forked from one of those.
"""

from __future__ import annotations

from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG

CELERY_CONFIG = {**DEFAULT_CELERY_CONFIG, "imports": ("news_archive.preload",)}
