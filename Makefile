# The few verbs a newcomer needs. Everything installs itself into .venv on first use.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: help install demo test test-unit lint bench bench-links eval-links train-linker airflow-ui clean

help:
	@echo "make demo        run the DAG once over data/samples (embedded Postgres if none configured)"
	@echo "make test        install what is needed and run the whole test suite"
	@echo "make test-unit   the tests that need no database or service (seconds)"
	@echo "make lint        ruff (with Airflow's AIR rules)"
	@echo "make bench       end to end over 20,000 dumps: stages, raw COPY, RSS, scaling (bench/run.py)"
	@echo "make eval-links  version linking on every labelled corpus in ../shared, through the pipeline (PASS/FAIL)"
	@echo "make train-linker retrain the link model from ../shared; leave-one-corpus-out table"
	@echo "make bench-links link-stage scaling: 10k and 100k articles, batches of 1,000 (ARCHIVE=1000000: a run of 5,000 against copies of a bulk-built 10k and 1M archive, their indexes warm, medians of 3; no server configured: a dedicated embedded one, shared_buffers RAM/4)"
	@echo "make airflow-ui  Airflow UI on http://127.0.0.1:8080 against the demo archive"

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml setup.py plugins/news_archive/_speedups.c
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh

test: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/test.sh $(PYTEST_ARGS)

test-unit: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit tests/test_layers.py tests/test_packaging.py tests/test_docs.py $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check dags plugins tests bench scripts devkit

bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

eval-links: $(STAMP)
	$(BIN)/python bench/eval_links.py

train-linker: $(STAMP)
	$(BIN)/python bench/train_linker.py

bench-links: $(STAMP)
	$(BIN)/python bench/link_bench.py $(if $(ARCHIVE),--archive $(ARCHIVE))

airflow-ui: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/airflow_ui.sh

clean:
	rm -rf .demo .airflow .pytest_cache
