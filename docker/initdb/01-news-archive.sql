-- Runs once, when the Postgres volume is created: the archive's own database.
CREATE DATABASE news_archive OWNER airflow;
