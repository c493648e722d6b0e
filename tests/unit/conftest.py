"""Fixtures for the tests that read and write job files."""

from __future__ import annotations

from pathlib import Path

import pytest
from filelock import FileLock

from worker.jobfiles import JobPaths


@pytest.fixture
def paths(tmp_path: Path) -> JobPaths:
    return JobPaths(tmp_path / "data")


@pytest.fixture
def worker_alive(paths: JobPaths):
    """The job lock held, as a live worker holds it."""
    paths.data_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(paths.worker_lock)
    lock.acquire()
    yield
    lock.release()
