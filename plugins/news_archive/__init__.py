"""news-archive: raw news dumps -> normalized, validated, version-linked articles in PostgreSQL.

The logic lives here and runs without Airflow; the DAG files in dags/ only wire
these steps together.
"""

__version__ = "0.1.0"
