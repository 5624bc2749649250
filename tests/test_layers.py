"""The layers hold: pure parsing and linking import no database code; the data layer never
calls the pipeline; the DAG calls the pipeline (and reads settings), nothing below it."""

from __future__ import annotations

import ast

from tests.conftest import REPO

PACKAGE = REPO / "plugins" / "news_archive"
PURE = ("parsing", "dates", "htmldoc", "boilerplate", "linking")
DATA_LAYER = ("storage", "linkstore", "inbox", "quality", "gx_docs", "devdb")
DATABASE = ("psycopg2", "sqlalchemy", "pgserver", "airflow", "great_expectations")


def _imports(path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            if node.module == "news_archive":
                found.update(f"news_archive.{a.name}" for a in node.names)
    return found


def _closure(module: str) -> set[str]:
    """Everything `module` imports, following the package's own modules."""
    seen, todo = set(), [module]
    while todo:
        name = todo.pop()
        path = PACKAGE / f"{name}.py"
        if name in seen or not path.exists():
            continue
        seen.add(name)
        for imported in _imports(path):
            if imported.startswith("news_archive."):
                todo.append(imported.split(".")[1])
            seen.add(imported)
    return seen


def test_pure_parsing_and_linking_import_no_database_code():
    for module in PURE:
        imported = _closure(module)
        bad = sorted(i for i in imported if i.split(".")[0] in DATABASE
                     or i.split(".")[-1] in ("storage", "linkstore", "pipeline", "quality", "inbox"))
        assert not bad, f"{module} imports {bad}"


def test_the_data_layer_never_calls_the_pipeline():
    for module in DATA_LAYER:
        imported = _closure(module)
        assert "news_archive.pipeline" not in imported and "pipeline" not in imported, module


def test_the_dag_calls_only_the_pipeline_and_the_settings():
    imported = _imports(REPO / "dags" / "news_ingest.py")
    ours = {i for i in imported if i.startswith("news_archive")}
    # news_archive.storage: its connection helpers, until one hook gives every task its
    # connection (the architecture issue's NewsArchiveHook); nothing else below the pipeline
    allowed = {"news_archive", "news_archive.pipeline", "news_archive.config", "news_archive.notify",
               "news_archive.storage"}
    assert ours <= allowed, ours
