"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.tiny_models import TinyModels

# Tiny models run fastest on one thread. With two, every small op waits for the second OpenMP thread,
# which is 30-100x slower whenever the other core is busy (a worker subprocess, ffmpeg, the browser).
# Set before torch is imported, and inherited by the worker processes the tests start.
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> TinyModels:
    """Tiny programmed Qwen3-ASR + aligner checkpoints, built once per test session (about a second)."""
    # Imported here so that test runs which never ask for models do not pay for importing torch.
    from tests.tiny_models import build_tiny_models

    return build_tiny_models(tmp_path_factory.mktemp("tiny_models"))
