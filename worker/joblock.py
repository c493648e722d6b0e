"""The single-job lock: held by the running worker, freed by the operating system when it dies.

A free ``job.lock`` is therefore the reliable sign that no worker is alive, even when the recorded pid
has been reused by another process or lingers as a zombie. ``job.control.lock`` is taken briefly by
whoever starts, cancels or reconciles a job, so those never interleave.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from worker.jobfiles import DamagedFile, JobPaths
from worker.jobstate import load_head

CONTROL_TIMEOUT_S = 15.0


class JobAlreadyRunning(Exception):
    """Only one job runs at a time; the message says which one is running and since when."""

    @classmethod
    def describe(cls, paths: JobPaths) -> JobAlreadyRunning:
        try:
            head = load_head(paths.state)
        except (DamagedFile, OSError):
            head = None
        if head is None:
            return cls("another job is already running (its state is not readable yet); wait or cancel it")
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(head.started_at))
        finished = sum(head.counts.values())
        pid = f", pid {head.pid}" if head.pid else ""
        return cls(f"another job is already running (job {head.job_id}{pid}, started {since}, "
                   f"{finished}/{head.total_files} files finished); wait for it or cancel it first")


def worker_lock(path: Path) -> FileLock:
    path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(path, thread_local=False)


def try_hold(lock: FileLock, timeout_s: float = 0.0) -> bool:
    """Acquire ``lock`` within ``timeout_s``; False when another process holds it."""
    try:
        lock.acquire(timeout=timeout_s)
    except Timeout:
        return False
    return True


def is_held_elsewhere(path: Path) -> bool:
    """Whether some process holds the lock at ``path`` (probed by taking and dropping it at once)."""
    probe = worker_lock(path)
    if not try_hold(probe):
        return True
    probe.release()
    return False


@contextlib.contextmanager
def control(path: Path, timeout_s: float = CONTROL_TIMEOUT_S) -> Iterator[bool]:
    """Hold the control lock for a start, cancel or reconcile; yields False if it stayed busy."""
    lock = worker_lock(path)
    held = try_hold(lock, timeout_s)
    try:
        yield held
    finally:
        if held:
            lock.release()
