"""What every task process would import first, imported once by a long-lived parent instead.

Airflow runs each task in a process of its own, forked from an executor's worker. Without
this, every task imports Great Expectations (~1-2.5 s, a third of a small batch's task),
pandas and numpy, and reads wordfreq's word list (~0.4 s), then throws them away.
Imported here, in the process the workers are forked from, every task inherits them
copy-on-write and starts working at once:

* LocalExecutor (docker/docker-compose.yml's default): the scheduler starts its workers
  through a forkserver that imports this module first, with Airflow 3.3's settings
  ``AIRFLOW__SCHEDULER__MP_START_METHOD=forkserver`` and
  ``AIRFLOW__SCHEDULER__MP_FORKSERVER_PRELOAD=airflow,airflow.executors.local_executor,news_archive.preload``.
* CeleryExecutor: ``AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS=news_archive.celery_config.CELERY_CONFIG``
  (Airflow's Celery settings plus ``imports``: each worker imports this module before it
  forks its pool).

A task records the seconds it spent importing Great Expectations itself (its batch's
``seconds.import`` in archive.ingest_runs' batch stats): 0 when it inherited them.

Importing this module does nothing else: no connection, no thread, no file. Then it moves
what the imports left out of the cyclic garbage collector's sight (gc.freeze), so that no
collection in a forked child touches, and so copies, those pages.
"""

from __future__ import annotations

import gc

from news_archive import linking, pipeline, quality  # noqa: F401 - pipeline: every task's own imports
from news_archive.store import links  # noqa: F401 - the link task's

quality.import_gx()
linking.preload_word_list()

gc.collect()
gc.freeze()
