"""What every task process would import first, imported once by a long-lived parent instead.

Airflow runs each task in a process of its own, forked from an executor's worker. Without
this, every task imports Great Expectations (1.6-1.7 s under a real scheduler here, half of a
25-file batch's task), pandas and numpy, reads wordfreq's word list (~0.4 s), and imports
what building this project's Airflow plugin needs (~0.3 s), then throws them all away.
Imported here, in the process the workers are forked from, every task inherits them
copy-on-write and starts working at once:

* LocalExecutor (docker/docker-compose.yml's default): the scheduler starts its workers
  through a forkserver that imports this module first, with Airflow 3.3's settings
  ``AIRFLOW__SCHEDULER__MP_START_METHOD=forkserver`` and
  ``AIRFLOW__SCHEDULER__MP_FORKSERVER_PRELOAD=airflow,airflow.executors.local_executor,news_archive.preload``.
* CeleryExecutor: ``AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS=news_archive.celery_config.CELERY_CONFIG``
  (Airflow's Celery settings plus ``imports``: each worker imports this module before it
  forks its pool).

A task records the seconds it spent importing Great Expectations itself (``seconds.import``
in its row of archive.run_batches): 0 when it inherited them.

Importing this module does nothing else: it opens no connection and starts no thread (it
creates nothing but what importing Airflow creates in any of its processes). Then it moves
what the imports left out of the cyclic garbage collector's sight (pipeline.settle_imports:
gc.freeze), so that no collection in a forked child touches, and so copies, those pages.
"""

from __future__ import annotations

# What the tasks import: the pipeline (every task), the link step's workers, and what every
# task process loads with Airflow's plugins: plugins/news_archive_plugin.py builds this
# project's FastAPI apps (only the api-server serves them) with fastapi, jinja2 and Airflow's
# sign-in check, ~0.3 s a task otherwise.
import airflow.api_fastapi.core_api.security  # noqa: F401

from news_archive import dashboard, linking, pipeline, quality  # noqa: F401
from news_archive.store import links  # noqa: F401

quality.import_gx()
linking.preload_word_list()
pipeline.settle_imports()
