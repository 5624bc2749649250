"""The layers hold, as a user of each would rely on them:

* pure parsing and linking import no database code (they run in any process);
* the data layer (news_archive.store) never calls the pipeline, the hook or Airflow;
* each table is written by one module of the data layer only;
* the DAG calls the pipeline and gets its connection from NewsArchiveHook, nothing below;
* the shipped package imports nothing from the tests' and benchmarks' tools (devkit).
"""

from __future__ import annotations

import ast
import re

from tests.conftest import REPO

PACKAGE = REPO / "plugins" / "news_archive"
PURE = ("parsing", "dates", "htmldoc", "boilerplate", "linking")
DATABASE = ("psycopg2", "sqlalchemy", "pgserver", "airflow", "great_expectations")
# table -> the one module that writes it (INSERT, UPDATE, DELETE, COPY into it)
OWNER = {
    "schema_migrations": "store/schema", "view_versions": "store/schema",
    "pipeline_locks": "store/locks",
    "raw_documents": "store/raw", "deliveries": "store/raw", "refused_files": "store/raw",
    "articles": "store/articles", "content_duplicates": "store/articles", "quarantine": "store/articles",
    "article_search": "store/articles",
    "version_links": "store/links", "link_keys": "store/links", "link_keys_state": "store/links",
    "link_pending_keys": "store/links",
    "stories": "store/links",
    "ingest_runs": "store/runs", "run_batches": "store/runs", "validation_results": "store/runs",
}
# The link stage's columns of archive.articles (story_id, linked_at, link_method) are its own.
SHARED_WRITES = {("articles", "store/links")}


def _module_path(name: str):
    """plugins/news_archive/<name>.py or <name>/__init__.py, for a dotted name below news_archive."""
    base = PACKAGE.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.exists():
            return path
    return None


def _imports(path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            if node.module.startswith("news_archive"):
                found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def _closure(module: str) -> set[str]:
    """Everything `module` (dotted, below news_archive) imports, following the package's own modules."""
    seen, todo = set(), [module]
    while todo:
        name = todo.pop()
        path = _module_path(name)
        if name in seen or path is None:
            continue
        seen.add(name)
        for imported in _imports(path):
            seen.add(imported)
            if imported.startswith("news_archive."):
                todo.append(imported.removeprefix("news_archive."))
    return seen


def _ours(names: set[str]) -> set[str]:
    return {n.removeprefix("news_archive.") for n in names if n.startswith("news_archive.")}


def test_pure_parsing_and_linking_import_no_database_code():
    for module in PURE:
        imported = _closure(module)
        bad = sorted(i for i in imported if i.split(".")[0] in DATABASE
                     or any(i.startswith(p) for p in ("store", "pipeline", "quality", "inbox", "hooks")))
        assert not bad, f"{module} imports {bad}"


def test_the_data_layer_never_calls_the_pipeline_the_hook_or_airflow():
    for path in sorted((PACKAGE / "store").glob("*.py")):
        imported = _closure(f"store.{path.stem}")
        bad = sorted(i for i in imported if i.split(".")[0] in ("airflow", "great_expectations")
                     or i in ("pipeline", "hooks", "reparse", "cli", "dashboard", "quality"))
        assert not bad, f"store/{path.stem} imports {bad}"


def _writes(text: str) -> set[str]:
    pattern = r"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|COPY|TRUNCATE)\s+archive\.([a-z_]+)"
    return set(re.findall(pattern, text, flags=re.I))


def test_each_table_has_one_writer():
    """SQL that writes archive tables, in the package's code and in sql/statements/, is
    found only in the module that owns the table."""
    writers: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = str(path.relative_to(PACKAGE).with_suffix(""))
        for table in _writes(path.read_text()):
            writers.setdefault(table, set()).add(module)
    for path in sorted((REPO / "sql" / "statements").rglob("*.sql")):
        module = f"store/{path.parent.name}"
        for table in _writes(path.read_text()):
            writers.setdefault(table, set()).add(module)
    for table, modules in writers.items():
        assert table in OWNER, f"archive.{table} is written by {modules} but has no owner in this test"
        strays = {m for m in modules if m != OWNER[table] and (table, m) not in SHARED_WRITES}
        assert not strays, f"archive.{table} belongs to {OWNER[table]}, also written by {sorted(strays)}"


def test_statement_files_are_all_used():
    used = "\n".join(p.read_text() for p in (PACKAGE / "store").glob("*.py"))
    for path in sorted((REPO / "sql" / "statements").rglob("*.sql")):
        name = f"{path.parent.name}/{path.stem}"
        assert f'statement("{name}")' in used, f"sql/statements/{name}.sql is loaded by no module"


def test_the_dag_calls_only_the_pipeline_the_hook_and_the_settings():
    imported = {i.split(".")[0] for i in _ours(_imports(REPO / "dags" / "news_ingest.py"))}
    assert imported <= {"pipeline", "config", "notify", "hooks"}, imported
    # and nothing in the pipeline reaches back up to the DAG's world
    assert not {i for i in _closure("pipeline") if i.startswith(("hooks", "airflow"))}


def test_the_shipped_package_does_not_need_the_test_tools():
    for path in sorted(PACKAGE.rglob("*.py")):
        assert not {i for i in _imports(path) if i.split(".")[0] in ("devkit", "tests", "bench")}, path
