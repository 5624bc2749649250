"""The inbox folder: claim files atomically, then file them as processed or quarantined.

A run claims a file by renaming it into `claimed/<run>/`: rename is atomic on one
file system, so two runs (or two workers) never take the same file. A claim
folder left behind by a run that died is taken over by the next run once it is
older than `NEWS_ARCHIVE_CLAIM_TTL_SECONDS`; the database, keyed by sha256,
makes sure nothing is loaded twice whichever run finishes the job.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from news_archive.config import Settings

_UNSAFE = re.compile(r"[^A-Za-z0-9_.+-]+")


def safe_dir_name(run_id: str) -> str:
    return _UNSAFE.sub("_", run_id).strip("._")[:150] or "run"


def display_name(name: str) -> str:
    """A file name as text: undecodable bytes become escapes, never an error."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


@dataclass(frozen=True)
class Refusal:
    name: str
    reason: str
    message: str


def claim_dir(settings: Settings, run_id: str) -> Path:
    return settings.claimed_dir / safe_dir_name(run_id)


def _unique_target(folder: Path, name: str) -> Path:
    target = folder / name
    n = 1
    while target.exists() or target.is_symlink():
        target = folder / f"{n}~{name}"
        n += 1
    return target


def claim(settings: Settings, run_id: str, *, limit: int | None = None) -> tuple[list[Path], list[Refusal]]:
    """Claim inbox files for this run; returns (claimed files, refused entries).

    Idempotent: a retry of the same run finds its claim folder and goes on.
    Symbolic links and other non-regular files are never opened: they are moved
    to the quarantine folder and reported.
    """
    mine = claim_dir(settings, run_id)
    mine.mkdir(parents=True, exist_ok=True)
    settings.inbox.mkdir(parents=True, exist_ok=True)
    refused: list[Refusal] = []
    now = time.time()
    for other in sorted(settings.claimed_dir.iterdir()):
        if other == mine or not other.is_dir():
            continue
        if now - other.stat().st_mtime < settings.claim_ttl_seconds:
            continue  # another run is (probably) still working on it
        for entry in sorted(other.iterdir()):
            try:
                os.rename(entry, _unique_target(mine, entry.name))
            except FileNotFoundError:
                pass  # a third run took it first
        try:
            other.rmdir()
        except OSError:
            pass
    taken = 0
    with os.scandir(settings.inbox) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if limit is not None and taken >= limit:
                break
            if entry.name.startswith("."):
                continue  # writers put partial files under a dot name, then rename
            if entry.is_symlink() or not entry.is_file(follow_symlinks=False):
                if entry.is_dir(follow_symlinks=False):
                    continue
                kind = "a symbolic link" if entry.is_symlink() else "not a regular file"
                refused.append(Refusal(display_name(entry.name), "not_regular_file",
                                       f"{kind}: refused without reading it"))
                target_dir = settings.quarantine_dir / safe_dir_name(run_id)
                target_dir.mkdir(parents=True, exist_ok=True)
                try:
                    os.rename(entry.path, _unique_target(target_dir, entry.name))
                except FileNotFoundError:
                    pass
                continue
            try:
                os.rename(entry.path, _unique_target(mine, entry.name))
                taken += 1
            except FileNotFoundError:
                continue  # another run claimed it between scandir and rename
    os.utime(mine)
    return sorted(p for p in mine.iterdir() if p.is_file() and not p.is_symlink()), refused


def heartbeat(settings: Settings, run_id: str) -> None:
    """Keep this run's claim folder fresh so no other run takes it over."""
    folder = claim_dir(settings, run_id)
    if folder.exists():
        os.utime(folder)


def file_away(settings: Settings, run_id: str, path: Path, outcome: str) -> Path:
    """Move a claimed file by its outcome: processed/, quarantine/, or back to the inbox."""
    if outcome in ("loaded", "duplicate"):
        folder = settings.processed_dir / safe_dir_name(run_id)
    elif outcome == "quarantined":
        folder = settings.quarantine_dir / safe_dir_name(run_id)
    else:  # not processed (the batch failed): the next run tries again
        folder = settings.inbox
    folder.mkdir(parents=True, exist_ok=True)
    target = _unique_target(folder, path.name)
    shutil.move(str(path), target)
    return target


def release(settings: Settings, run_id: str) -> None:
    folder = claim_dir(settings, run_id)
    try:
        folder.rmdir()
    except OSError:
        pass
