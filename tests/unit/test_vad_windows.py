"""SpeechScan cuts any sequence of blocks into the model's 512-sample windows (a recording stand-in model)."""

from __future__ import annotations

import itertools

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from asr_core.options import VadOptions
from asr_core.vad import WINDOW, PeakMeter, SpeechDetector


class RecordingModel:
    """Answers 0.0 for every window and keeps what it was asked, like silero's models are called."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.windows: list[np.ndarray] = []

    def reset_states(self) -> None:
        self.calls.append("reset")

    def __call__(self, window: torch.Tensor, sample_rate: int) -> torch.Tensor:
        self.calls.append("window")
        self.windows.append(window.numpy().copy())
        return torch.zeros(1, 1)


def splits(total: int) -> st.SearchStrategy[list[int]]:
    """Block lengths (zeros included) that add up to ``total``."""
    return st.lists(st.integers(0, total), max_size=8).map(lambda cuts: sorted([0, total, *cuts]))


@settings(max_examples=60, deadline=None)
@given(data=st.data(), total=st.integers(0, 5 * WINDOW + 77))
def test_any_blocks_give_the_consecutive_windows_with_the_last_one_zero_padded(data, total: int):
    samples = np.arange(1, total + 1, dtype=np.float32)
    edges = data.draw(splits(total))
    model = RecordingModel()
    scan = SpeechDetector(model, VadOptions(enabled=True), "stand-in").scan()
    for start, end in itertools.pairwise(edges):
        scan.feed(samples[start:end])
    scan.finish()
    assert model.calls == ["reset"] + ["window"] * len(model.windows)
    assert all(len(window) == WINDOW for window in model.windows)
    padded = np.concatenate([samples, np.zeros(-total % WINDOW, dtype=np.float32)])
    assert np.array_equal(np.concatenate([np.zeros(0, np.float32), *model.windows]), padded)


def test_finishing_twice_scores_the_last_window_once():
    model = RecordingModel()
    scan = SpeechDetector(model, VadOptions(enabled=True), "stand-in").scan()
    scan.feed(np.ones(WINDOW + 10, dtype=np.float32))
    assert scan.finish() == scan.finish() == []
    assert model.calls == ["reset", "window", "window"]


def test_the_peak_meter_keeps_the_loudest_sample_of_either_sign():
    meter = PeakMeter()
    for block in ([0.1, -0.2], [], [0.3, -0.05], [-0.7]):
        meter.feed(np.array(block, dtype=np.float32))
    assert meter.peak == np.float32(0.7)
