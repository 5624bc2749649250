"""Data Docs keep every run's pages (with a retention), and never carry a feed's markup raw."""

from __future__ import annotations

from devkit import evaluation
from news_archive import gx_docs, pipeline, store

HOSTILE = {
    "img-title.txt": "<img src=x onerror=alert(2)> Budget image probe",
    "script-title.txt": "<script>alert(1)</script> Budget passes",
}


def _deliver(settings, names_seed: int, hostile: bool = False) -> None:
    for aid, title, body in evaluation.generated_articles(6, seed=names_seed):
        (settings.inbox / f"{aid}-{names_seed}.txt").write_text(f"{title}\n\n{body}\n")
    if hostile:
        (_aid, _title, body), = evaluation.generated_articles(1, seed=names_seed + 1000)
        for name, title in HOSTILE.items():
            (settings.inbox / name).write_text(f"{title}\n\n{body}\n")


def test_every_run_keeps_its_pages_and_old_ones_are_pruned(conn, dsn, settings, monkeypatch):
    docs = settings.data_docs_dir
    # a page from long ago: removed by the retention, the recent ones stay
    old = docs / "validations" / "articles_pre_load" / "old-run_batch-0001" / "20200101T000000.000000Z"
    old.mkdir(parents=True)
    (old / "page.html").write_text("<html>old</html>")
    for i in range(3):
        _deliver(settings, 100 + i, hostile=(i == 1))
        result = pipeline.run_once(conn, settings, f"docs-run-{i}", database_url=store.db.sqlalchemy_url(dsn))
        assert result["status"] in ("success", "failed")
    folders = {run.name: list(when.rglob("*.html")) for _s, run, when, _at in gx_docs._run_folders(docs)}
    for i in range(3):
        assert folders[f"docs-run-{i}_batch-0001"], folders  # every run's batch page is still there
        assert folders[f"docs-run-{i}_post_load"], folders
    assert "old-run_batch-0001" not in folders
    runs_page = (docs / "runs.html").read_text()
    assert all(f"docs-run-{i}_batch-0001" in runs_page for i in range(3))

    # no page carries the feed's markup as markup: the values are escaped text
    pages = "\n".join(p.read_text(errors="replace") for p in docs.rglob("*.html"))
    assert "&lt;img src=x onerror=alert(2)&gt;" in pages
    for raw in ("<img src=x onerror", "<script>alert(1)"):
        assert raw not in pages
