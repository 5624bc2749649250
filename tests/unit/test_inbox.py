"""Inbox claims are atomic renames: concurrent runs never share a file (file system only)."""

from __future__ import annotations

from news_archive import inbox
from tests.conftest import run_concurrently


def test_two_runs_claiming_one_inbox_never_share_a_file(settings):
    for i in range(300):
        (settings.inbox / f"f{i:03}.txt").write_text(f"file {i}")
    claims = run_concurrently(*(lambda run=f"run{i}": inbox.claim(settings, run)[0] for i in range(4)))
    names = [p.name for files in claims for p in files]
    assert len(names) == 300 and len(set(names)) == 300
