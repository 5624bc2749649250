"""What the benchmarks share: a throw-away database (or copy) and inbox, task processes, peak RSS,
a cursor that times each statement."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import re
import resource
import tempfile
import time
import uuid
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import psycopg2
import psycopg2.extensions

REPO = Path(__file__).resolve().parents[1]


ADMIN_DSN_VARIABLES = ("NEWS_ARCHIVE_BENCH_ADMIN_DSN", "NEWS_ARCHIVE_TEST_ADMIN_DSN")  # the first set wins


def admin_dsn() -> str:
    """A server to create scratch databases on.

    NEWS_ARCHIVE_BENCH_ADMIN_DSN, else NEWS_ARCHIVE_TEST_ADMIN_DSN, else the embedded
    server in .devdb/ (started on demand, as the tests do).
    """
    from devkit.databases import admin_dsn as first_admin_dsn

    return first_admin_dsn(*ADMIN_DSN_VARIABLES)


def configured_admin_dsn() -> str | None:
    """The server one of ADMIN_DSN_VARIABLES names, if any."""
    return next((os.environ[name] for name in ADMIN_DSN_VARIABLES if os.environ.get(name)), None)


@contextlib.contextmanager
def dedicated_server(pgdata: Path, shared_buffers_mib: int):
    """An embedded PostgreSQL of its own in `pgdata`, running with `shared_buffers_mib` of
    shared buffers while the block runs (restarted if it had others), stopped after it;
    yields its admin DSN. For benchmarks whose figures depend on the server's memory: the
    tests' and the demo's embedded server keeps the defaults."""
    import pgserver

    from news_archive.devdb import start

    server = start(pgdata)
    conn = psycopg2.connect(server.get_uri())
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT setting::bigint * 8192 / 1048576 FROM pg_settings WHERE name = 'shared_buffers'")
            current = cur.fetchone()[0]
            if current != shared_buffers_mib:
                cur.execute(f"ALTER SYSTEM SET shared_buffers = '{int(shared_buffers_mib)}MB'")
    finally:
        conn.close()
    if current != shared_buffers_mib:  # (takes effect at a restart; pg_ctl keeps the socket options)
        pgserver.pg_ctl(["-w", "restart", "-m", "fast"], pgdata=str(pgdata), user=server.system_user)
    try:
        yield server.get_uri()
    finally:
        pgserver.pg_ctl(["-w", "stop", "-m", "fast"], pgdata=str(pgdata), user=server.system_user)


def ram_bytes() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


@contextlib.contextmanager
def scratch_database(prefix: str = "news_archive_bench", keep: bool = False):
    """A fresh, migrated database; dropped afterwards unless keep=True."""
    from devkit.databases import create_database, drop_database

    admin = admin_dsn()
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    dsn = create_database(admin, name)
    try:
        yield dsn
    finally:
        if keep:
            print(f"kept database {name}: {dsn}")
        else:
            drop_database(admin, name)


@contextlib.contextmanager
def database_copy(template: str, prefix: str = "news_archive_copy"):
    """A copy of database `template` (nobody may be connected to it), dropped afterwards.

    STRATEGY FILE_COPY copies the files after a checkpoint; the default (WAL_LOG) writes
    every page through the WAL, minutes for a million-article archive.
    """
    from devkit.databases import drop_database, with_dbname

    admin = admin_dsn()
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    conn = psycopg2.connect(admin)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
    finally:
        conn.close()
    try:
        yield with_dbname(admin, name)
    finally:
        drop_database(admin, name)


def archive_raw(conn, run_id: str, docs: list[tuple[str, bytes]], page_size: int = 500) -> dict[str, int]:
    """Store (name, bytes) as raw documents directly (no inbox, no claim); {name: raw id} of
    the ones stored (bytes already archived under another name are left out)."""
    import hashlib

    import psycopg2.extras

    with conn, conn.cursor() as cur:
        ids = psycopg2.extras.execute_values(
            cur,
            """INSERT INTO archive.raw_documents (sha256, original_name, size_bytes, run_id, content)
               VALUES %s ON CONFLICT (sha256) DO NOTHING RETURNING id, original_name""",
            [(hashlib.sha256(c).hexdigest(), name, len(c), run_id, psycopg2.Binary(c)) for name, c in docs],
            fetch=True, page_size=page_size)
    return {name: i for i, name in ids}


@contextlib.contextmanager
def scratch_inbox():
    """An inbox with its sibling folders; yields Settings pointing at it."""
    from news_archive.config import Settings

    with tempfile.TemporaryDirectory(prefix="news-archive-bench-") as tmp:
        inbox = Path(tmp) / "inbox"
        inbox.mkdir()
        old = os.environ.get("NEWS_ARCHIVE_INBOX")
        os.environ["NEWS_ARCHIVE_INBOX"] = str(inbox)
        try:
            yield Settings.from_env()
        finally:
            if old is None:
                os.environ.pop("NEWS_ARCHIVE_INBOX", None)
            else:
                os.environ["NEWS_ARCHIVE_INBOX"] = old


def peak_rss_mib() -> float:
    """This process's own peak RSS (MiB).

    Linux keeps getrusage's ru_maxrss across exec, so a task process spawned by a big
    harness would report at least the harness's size; VmHWM belongs to the process's own
    memory map and starts afresh at exec. (ru_maxrss where /proc is absent.)
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_children_rss_mib() -> float:
    """The largest peak RSS of any child process that has finished (task and link verification workers)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def in_own_process(fn, *args, context=None):
    """fn(*args) in a process of its own, as Airflow runs a task, so that its peak RSS is its
    own; returns what fn returns. The process is a fresh (spawned) interpreter unless
    `context` says otherwise (`task_context`)."""
    with ProcessPoolExecutor(1, mp_context=context or multiprocessing.get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


TASK_STARTS = {
    "preloaded": "forked from a process that imported news_archive.preload first, as the scheduler's "
                 "LocalExecutor (and a Celery worker) runs them with docker/docker-compose.yml's settings",
    "fresh": "each in a fresh interpreter that imports everything itself (no preload configured)",
}


def task_context(start: str):
    """The multiprocessing context task processes start from: "fresh" (spawn) or "preloaded"
    (a forkserver that imports news_archive.preload first, as Airflow's LocalExecutor does
    with [scheduler] mp_start_method = forkserver and mp_forkserver_preload)."""
    if start == "fresh":
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["news_archive.preload"])
    # Started now, before anything is timed: the deployment's forkserver starts with the
    # scheduler (a Celery worker's preload with the worker), not with a run.
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        pool.submit(int).result()
    return context


# --------------------------------------------------------------------------- statement timings
# Seconds and calls per statement (its first words) sent through a TimedCursor; clear between runs.
SECONDS: dict[str, float] = defaultdict(float)
CALLS: dict[str, int] = defaultdict(int)


def _label(sql) -> str:
    """A statement's first words, its comment lines left out."""
    text = sql if isinstance(sql, str) else sql.decode()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("--")]
    return re.sub(r"\s+", " ", " ".join(lines)).strip()[:72]


def _timed(sql, call):
    t = time.perf_counter()
    try:
        return call()
    finally:
        SECONDS[_label(sql)] += time.perf_counter() - t
        CALLS[_label(sql)] += 1


class TimedCursor(psycopg2.extensions.cursor):
    def execute(self, sql, args=None):
        return _timed(sql, lambda: super(TimedCursor, self).execute(sql, args))

    def copy_expert(self, sql, file, size=8192):
        return _timed(sql, lambda: super(TimedCursor, self).copy_expert(sql, file, size))


# --------------------------------------------------------------------------- CPU accounting
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat after the command name: [state, ppid, ..., utime, stime, cutime, cstime, ...]."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()


class CpuMeter:
    """CPU seconds used on this machine, all of it and the PostgreSQL server's share.

    The machine's from /proc/stat (every process: the pipeline's, the server's, anything
    else running). The server's where it runs on this machine (a local or embedded server,
    found from a backend's parent): its postmaster's reaped children (backends that have
    exited, autovacuum workers) plus those still running, so that a backend which ends in
    between counts only what it used in between. None where there is no /proc or the
    server is elsewhere.
    """

    def __init__(self, dsn: str):
        self.postmaster: int | None = None
        conn = psycopg2.connect(dsn)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT pg_backend_pid()")
                backend = cur.fetchone()[0]
            fields = _stat_fields(backend)
            if fields is not None:
                cmdline = Path(f"/proc/{backend}/cmdline").read_bytes()
                if b"postgres" in cmdline:
                    self.postmaster = int(fields[1])
        finally:
            conn.close()

    def _server(self) -> float | None:
        if self.postmaster is None:
            return None
        # A backend reaped between reading the postmaster's reaped children's time and the
        # scan of the live ones would be in neither: a link task's 13 s of server CPU once
        # read as 0.2 s, and showed up in the next phase. So the scan is taken again until
        # nothing was reaped during it.
        for _ in range(20):
            own = _stat_fields(self.postmaster)
            if own is None:
                return None
            reaped = sum(int(x) for x in own[11:15])  # its own time and its reaped children's
            live = 0
            for entry in os.scandir("/proc"):
                if entry.name.isdigit() and (fields := _stat_fields(int(entry.name))) and fields[1] == str(self.postmaster):
                    live += int(fields[11]) + int(fields[12])
            after = _stat_fields(self.postmaster)
            if after is not None and after[13:15] == own[13:15]:  # (its reaped children's time)
                break
        return (reaped + live) / _TICK

    @staticmethod
    def _machine() -> float | None:
        try:
            cpu = Path("/proc/stat").read_text().split("\n", 1)[0].split()
        except OSError:
            return None
        user, nice, system, _idle, _iowait, irq, softirq = (int(x) for x in cpu[1:8])
        return (user + nice + system + irq + softirq) / _TICK

    def read(self) -> tuple[float | None, float | None]:
        """(machine CPU seconds, server CPU seconds) so far; subtract two readings."""
        return self._machine(), self._server()


def cpu_used(before: tuple, after: tuple) -> dict[str, float | None]:
    """{"machine": ..., "server": ...} CPU seconds between two `CpuMeter.read()`s (None: unknown)."""
    return {k: (b - a if a is not None and b is not None else None)
            for k, a, b in zip(("machine", "server"), before, after, strict=True)}
